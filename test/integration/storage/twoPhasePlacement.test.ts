import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { decodeTrusted } from '../../../blocks/codec.ts'
import { storageAckSigningHash, txId } from '../../../blocks/ids.ts'
import { type Block, CAPABILITY, type Manifest, REPUTATION_CAUSE, type StorageAck } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { buildStorageAckEntry } from '../../../src/chain/produceBlock/buildStorageAckEntry.ts'
import { computeProposalContext } from '../../../src/chain/produceBlock/produceBlock.ts'
import { equalBytes, hash, type KeyPair, sign, toHex, utf8 } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { applyStorageAcks } from '../../../src/state/applyStorageAck.ts'
import { ASSET_STATUS, AssetRecord, HostRecord } from '../../../src/state/records.ts'
import { StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'
import { NonceCounter, signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

/**
 * Two-phase placement on a real chain store (classic-level) and real host shard stores: a
 * placement is audited and paid only once its hosts signed storage acks; a deploy whose data
 * never reaches the hosts is refunded without any host losing reputation.
 */
const validator = testKey('tp-validator')
const client = testKey('tp-client')
const hosts = Array.from({ length: 8 }, (_, i) => testKey(`tp-host-${i}`))
const base = testGenesis({ validators: [validator], funded: [{ key: client, amount: 10n ** 15n }, ...hosts.map((key) => ({ key, amount: 10n ** 12n }))], schemes: ['stake'] })
const ACK_BLOCKS = 6
const genesis = { ...base, params: { ...base.params, auditEpochSlots: 8, auditFailThreshold: 1, storageAckBlocks: ACK_BLOCKS, minStorageEpochs: 2 } }
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-two-phase-')
const stores = new Map<string, ShardStore>()
const nonces = new NonceCounter()
let chain: Chain
let slot = 0
const produced: Block[] = []

async function produce(): Promise<Block> {
  slot++
  const made = await chain.produceBlock(slot, T0 + slot * genesis.slotMs)
  produced.push(made!.block)
  return made!.block
}

function asset(id: Uint8Array): AssetRecord {
  return decodeTrusted(AssetRecord, chain.store.state.get(TABLES.asset.key(id))!)
}

function host(address: Uint8Array): HostRecord {
  return decodeTrusted(HostRecord, chain.store.state.get(TABLES.host.key(address))!)
}

function keyOf(address: Uint8Array): KeyPair {
  return hosts.find((k) => equalBytes(k.publicKey, address))!
}

function signAck(key: KeyPair, assetId: Uint8Array, shardIndex: number, shardHash: Uint8Array): StorageAck {
  const body = { chainId: genesis.chainId, asset: assetId, shardIndex, shardHash, host: key.publicKey }
  return { body, signature: sign(key.secretKey, storageAckSigningHash(body)) }
}

async function deploy(manifest: Manifest, deposit: bigint): Promise<Uint8Array> {
  const tx = signTx(client, await chain.nextNonce(client.publicKey), { type: 'deploy', assetKind: 1, manifest, deposit, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
  await chain.submitTx(tx)
  return txId(tx)
}

const code = new Uint8Array(readFileSync('fixtures/wasm/counter.wasm'))
const honest = encodeAsset(code, codingParamsOf(genesis.params))

beforeAll(async () => {
  chain = await Chain.open({ dataDir: join(tmp.dir, 'chain'), genesis, validatorKey: validator, signatureWorkers: 0 })
  for (const h of hosts) stores.set(toHex(h.publicKey), await ShardStore.open(join(tmp.dir, `host-${toHex(h.publicKey).slice(2, 10)}`), { capacityBytes: 1n << 30n }))
  // Hosts answer acks and audits from their own stores, as HostRole does.
  chain.setStorageAckResponder(async (requests) => {
    const acks: StorageAck[] = []
    for (const r of requests) {
      if (await stores.get(toHex(r.host))!.has(r.asset, r.shardIndex)) acks.push(signAck(keyOf(r.host), r.asset, r.shardIndex, asset(r.asset).manifest.shardHashes[r.shardIndex]!))
    }
    return acks
  })
  chain.setAuditResponder(async (challenges) => {
    const answers = new Map()
    for (const c of challenges) {
      const store = stores.get(toHex(c.host))!
      if (await store.has(c.asset, c.shardIndex)) answers.set(c, await store.proveChunk(c.asset, c.shardIndex, c.chunkIndex))
    }
    return answers
  })
  for (const [i, h] of hosts.entries()) {
    await chain.submitTx(signTx(h, nonces.next(h), {
      type: 'host.join',
      host: { coord: { x: 10 + i * 3, y: 10, z: 10 + i }, zone: `zone-${i % 4}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 0n, encryptionKey: undefined },
    }))
  }
  await produce()
})

afterAll(async () => {
  for (const s of stores.values()) await s.close()
  await chain.close()
  tmp.cleanup()
})

describe('two-phase placement', () => {
  it('a deploy whose deposit does not cover minStorageEpochs of storage is dropped with the reason', async () => {
    const id = await deploy(honest.manifest, 0n)
    const block = await produce()
    expect(block.header.kind).not.toBe('deployment')
    expect(chain.store.state.get(TABLES.asset.key(id))).toBeUndefined()
    expect(chain.mempool.dropped(id)?.message).toMatch(/deposit 0 is below 2 epochs/)
  })

  it('framing deploy (a manifest whose data no host ever receives): never audited, refunded at the deadline, no host penalized', async () => {
    const fake = encodeAsset(utf8('data the client never uploads'.repeat(40)), codingParamsOf(genesis.params)).manifest
    const before = new Map(hosts.map((h) => [toHex(h.publicKey), host(h.publicKey)] as const))
    const balance = readAccount(chain.store.state, client.publicKey).balance
    const id = await deploy(fake, 10_000_000n)
    const deployed = await produce()
    expect(deployed.header.kind).toBe('deployment')
    const placed = asset(id)
    expect(placed.status).toBe(ASSET_STATUS.placing)
    expect(placed.ackDeadline).toBe(deployed.header.height + ACK_BLOCKS)
    while (chain.store.head.height < placed.ackDeadline!) await produce()
    const after = asset(id)
    expect(after.status).toBe(ASSET_STATUS.refunded)
    expect(after.deposit).toBe(0n)
    // Only the deploy's fee is gone.
    expect(readAccount(chain.store.state, client.publicKey).balance).toBe(balance - 1n)
    for (const h of placed.placement) {
      const was = before.get(toHex(h))!
      const now = host(h)
      expect(now.usedBytes).toBe(was.usedBytes)
      expect(now.reputation).toBe(was.reputation)
      expect(now.failedAudits).toBe(0)
    }
    for (const b of produced) for (const e of b.entries) if (e.type === 'audit') expect(e.results.some((r) => equalBytes(r.asset, id))).toBe(false)
  })

  it('an honest deploy activates once every host acked; audits then challenge its shards and pay rent', async () => {
    const id = await deploy(honest.manifest, 10_000_000n)
    const deployed = await produce()
    const entry = deployed.entries[0]!
    if (entry.type !== 'deployment') throw new Error('expected a deployment')
    for (const [i, h] of entry.placement.entries()) await stores.get(toHex(h))!.put(honest.manifest, id, i, honest.shards[i]!)
    const ackBlock = await produce()
    expect(ackBlock.header.kind).toBe('storage')
    expect(asset(id).status).toBe(ASSET_STATUS.active)
    let audit: Block
    do audit = await produce()
    while (audit.header.kind !== 'audit' || audit.entries[0]!.type !== 'audit' || !audit.entries[0]!.results.some((r) => equalBytes(r.asset, id)))
    const a = audit.entries[0]!
    if (a.type !== 'audit') throw new Error('expected an audit')
    expect(a.results.filter((r) => equalBytes(r.asset, id))).toHaveLength(6)
    expect(a.rent.length).toBeGreaterThan(0)
  })

  it('with k+1 acks at the deadline the placement activates; the unacknowledged shard is never challenged and is re-placed', async () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 7) % 256)
    const { manifest, shards } = encodeAsset(data, codingParamsOf(genesis.params))
    const id = await deploy(manifest, 10_000_000n)
    const deployed = await produce()
    const entry = deployed.entries[0]!
    if (entry.type !== 'deployment') throw new Error('expected a deployment')
    // Shard 5's host never receives its copy.
    for (const [i, h] of entry.placement.entries()) if (i !== 5) await stores.get(toHex(h))!.put(manifest, id, i, shards[i]!)
    const silent = entry.placement[5]!
    const repBefore = host(silent).reputation
    await produce()
    expect(asset(id).acked).toEqual([1, 1, 1, 1, 1, 0])
    expect(asset(id).status).toBe(ASSET_STATUS.placing)
    while (chain.store.head.height < asset(id).ackDeadline!) await produce()
    expect(asset(id).status).toBe(ASSET_STATUS.active)
    // The asset's next audit re-places shard 5 (its host never acknowledged it).
    const repairOf = (b: Block) => (b.entries[0]?.type === 'audit' ? b.entries[0].repairs.find((r) => equalBytes(r.asset, id)) : undefined)
    let block: Block
    do block = await produce()
    while (repairOf(block) === undefined)
    const repair = repairOf(block)!
    expect(repair.shardIndex).toBe(5)
    expect(toHex(repair.from)).toBe(toHex(silent))
    // The new host rebuilds it (HostRole does this from k acknowledged shards).
    await stores.get(toHex(repair.to))!.put(manifest, id, 5, shards[5]!)
    let audit: Block
    do audit = await produce()
    while (audit.entries[0]?.type !== 'audit' || !audit.entries[0].results.some((r) => equalBytes(r.asset, id)))
    const a = audit.entries[0]
    expect(a.results.filter((r) => equalBytes(r.asset, id)).map((r) => r.outcome)).toEqual([0, 0, 0, 0, 0, 0])
    // The silent host was never challenged for the shard it never received, nor lost reputation for it.
    for (const b of produced) {
      const e = b.entries[0]
      if (e?.type !== 'audit') continue
      expect(e.results.some((r) => equalBytes(r.asset, id) && equalBytes(r.host, silent))).toBe(false)
      expect(e.reputation.some((r) => equalBytes(r.host, silent) && (r.cause === REPUTATION_CAUSE.auditFail || r.cause === REPUTATION_CAUSE.auditNoAnswer))).toBe(false)
    }
    expect(host(silent).reputation).toBeGreaterThanOrEqual(repBefore)
    expect(asset(id).acked).toEqual([1, 1, 1, 1, 1, 1])
  })

  it('a forged ack (signed by another key, or for a hash the manifest does not name) never goes on chain', async () => {
    const id = await deploy(honest.manifest, 10_000_000n)
    const deployed = await produce()
    const entry = deployed.entries[0]!
    if (entry.type !== 'deployment') throw new Error('expected a deployment')
    const ctx = computeProposalContext(genesis, chain.store.head, chain.store.state, slot + 1, chain.store.head.header.timestamp + BigInt(genesis.slotMs), validator.publicKey, chain.hostIndex)
    const wrongSigner = signAck(hosts.find((k) => !entry.placement.some((p) => equalBytes(p, k.publicKey)))!, id, 0, honest.manifest.shardHashes[0]!)
    const forged = { ...wrongSigner, body: { ...wrongSigner.body, host: entry.placement[0]! } }
    const wrongHash = signAck(keyOf(entry.placement[1]!), id, 1, hash(utf8('not the shard')))
    expect(buildStorageAckEntry(chain.store.state, ctx, [forged, wrongHash])).toBeUndefined()
    expect(() => applyStorageAcks(new StateOverlay(chain.store.state), { type: 'storageAck', acks: [forged] }, ctx)).toThrow(/bad signature/)
    expect(() => applyStorageAcks(new StateOverlay(chain.store.state), { type: 'storageAck', acks: [wrongHash] }, ctx)).toThrow(/shard hash/)
  })
})
