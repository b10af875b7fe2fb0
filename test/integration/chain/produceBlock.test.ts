import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { storageAckSigningHash } from '../../../blocks/ids.ts'
import { CAPABILITY } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { sign, toHex } from '../../../src/crypto/index.ts'
import { AUDIT_GRACE_BLOCKS } from '../../../src/state/storage/index.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

const validator = testKey('pb-validator')
const client = testKey('pb-client')
const hosts = Array.from({ length: 6 }, (_, i) => testKey(`pb-host-${i}`))
const base = testGenesis({ validators: [validator], funded: [{ key: client, amount: 10n ** 15n }, ...hosts.map((key) => ({ key, amount: 10n ** 12n }))], schemes: ['stake'] })
const genesis = { ...base, params: { ...base.params, chunkSize: 1024 } }
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-produce-')
/** `a` proposes without asking hosts; `b` follows it and asks (slowly) when an audit is due. */
let a: Chain
let b: Chain

async function produceOnA(slot: number) {
  const made = (await a.produceBlock(slot, T0 + slot * genesis.slotMs))!
  await b.importBlock(made.block)
  return made
}

beforeAll(async () => {
  a = await Chain.open({ dataDir: join(tmp.dir, 'a'), genesis, validatorKey: validator, signatureWorkers: 0 })
  b = await Chain.open({ dataDir: join(tmp.dir, 'b'), genesis, validatorKey: validator, signatureWorkers: 0 })
  for (const [i, h] of hosts.entries()) {
    await a.submitTx(signTx(h, 0, {
      type: 'host.join',
      host: { coord: { x: 10 + i * 3, y: 10, z: 10 + i }, zone: `zone-${i % 3}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
    }))
  }
  await produceOnA(1)
  const { manifest } = encodeAsset(new Uint8Array(readFileSync('fixtures/wasm/counter.wasm')), codingParamsOf(genesis.params))
  await a.submitTx(signTx(client, 0, { type: 'deploy', assetKind: 1, manifest, deposit: 10_000_000n, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 }))
  expect((await produceOnA(2)).block.header.kind).toBe('deployment')
  // The placed hosts acknowledge their shards (two-phase placement), so the asset is audited.
  a.setStorageAckResponder(async (requests) => requests.map((r) => {
    const key = hosts.find((h) => toHex(h.publicKey) === toHex(r.host))!
    const body = { chainId: genesis.chainId, asset: r.asset, shardIndex: r.shardIndex, shardHash: manifest.shardHashes[r.shardIndex]!, host: r.host }
    return { body, signature: sign(key.secretKey, storageAckSigningHash(body)) }
  }))
  expect((await produceOnA(3)).block.header.kind).toBe('storage')
})

afterAll(async () => {
  await a.close()
  await b.close()
  tmp.cleanup()
})

describe('block production gathers audit answers before taking the chain lock', () => {
  it('an import is not held up while the proposer waits for hosts; the proposal on the old head gives up its slot', async () => {
    const asked: number[] = []
    b.setAuditResponder(async (challenges) => {
      asked.push(challenges.length)
      await new Promise((r) => setTimeout(r, 4_000))
      return new Map()
    })
    const proposal = b.produceBlock(4, T0 + 4 * genesis.slotMs)
    await new Promise((r) => setTimeout(r, 50))
    expect(asked).toHaveLength(1)
    const competing = (await a.produceBlock(4, T0 + 4 * genesis.slotMs))!
    const started = performance.now()
    await b.importBlock(competing.block)
    expect(performance.now() - started).toBeLessThan(3_000)
    expect(await proposal).toBeUndefined()
    expect(toHex(b.head.hash)).toBe(toHex(competing.hash))
  })

  it('on an unmoved head the gathered answers go into the audit block', async () => {
    b.setAuditResponder(async () => new Map())
    // Past the asset's audit grace (it was deployed at height 2), so its shards are challenged.
    let slot = 5
    while (b.head.height < 2 + AUDIT_GRACE_BLOCKS) await b.produceBlock(slot, T0 + slot++ * genesis.slotMs)
    slot = (Math.floor(slot / genesis.params.auditEpochSlots) + 1) * genesis.params.auditEpochSlots
    const made = await b.produceBlock(slot, T0 + slot * genesis.slotMs)
    expect(made?.block.header.kind).toBe('audit')
    const entry = made!.block.entries[0]!
    if (entry.type !== 'audit') throw new Error('expected an audit entry')
    expect(entry.results.length).toBeGreaterThan(0)
  })

  it('answers gathered ahead of the turn are the ones the proposal uses: hosts are asked once per head and audit epoch', async () => {
    let asked = 0
    b.setAuditResponder(async () => {
      asked++
      await new Promise((r) => setTimeout(r, 1_500))
      return new Map()
    })
    const epochSlots = genesis.params.auditEpochSlots
    const slot = (Math.floor(b.head.header.slot / epochSlots) + 1) * epochSlots
    b.prefetchAuditAnswers(slot)
    b.prefetchAuditAnswers(slot) // a second early call (another round) asks nobody again
    await new Promise((r) => setTimeout(r, 1_700))
    const started = performance.now()
    const made = await b.produceBlock(slot, T0 + slot * genesis.slotMs)
    expect(performance.now() - started).toBeLessThan(1_200)
    expect(made?.block.header.kind).toBe('audit')
    expect(asked).toBe(1)
  })
})
