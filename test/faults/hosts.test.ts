import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { computeResultHash } from '../../blocks/executionHashes.ts'
import { CAPABILITY, COMPLETION_STATUS } from '../../blocks/schema.ts'
import { getAsset, getHost } from '../../src/client/index.ts'
import { type ComputePool, createComputePool } from '../../src/compute/computePool.ts'
import { equalBytes, toHex } from '../../src/crypto/index.ts'
import { XscNode } from '../../src/node/node.ts'
import { ASSET_STATUS } from '../../src/state/records.ts'
import { type ComputeNetwork, startComputeNetwork } from '../support/computeNetwork.ts'
import { waitFor } from '../support/nodeProcess.ts'

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
const fibOf = (out: Uint8Array): bigint => new DataView(out.buffer, out.byteOffset, 8).getBigUint64(0, true)

let net: ComputeNetwork | undefined
let liar: XscNode | undefined
afterEach(async () => {
  await liar?.stop()
  liar = undefined
  await net?.close()
  net = undefined
})

describe('host faults', () => {
  it('two of the six hosts holding an asset die: it still executes (rebuilt from the other four) and repair restores six healthy shards on live hosts', async () => {
    net = await startComputeNetwork({ name: 'hostloss', validators: 2, hosts: 8, auditEpochSlots: 6 })
    await net.waitForHosts(8)
    const asset = await net.deployFixture('fixtures/wasm/fib.wasm')
    // The hosts die after storing: every shard acknowledged, so the placement is active. (Hosts
    // that die before acknowledging get the asset re-placed or refunded instead: storage tests.)
    const before = await waitFor(async () => {
      const a = await getAsset(net!.rpc(), { id: asset })
      return a?.record.status === ASSET_STATUS.active && a.record.acked.every((x) => x === 1) ? a : undefined
    }, 60_000, 'all six shards to be acknowledged')
    const dead = before.record.placement.slice(0, 2)
    for (const h of dead) await net.killHost(net.hostKeys.findIndex((k) => equalBytes(k.publicKey, h)))

    // Five replicas among eight hosts of which two are dead: at least three run it.
    const done = await net.executeAndWait(asset, u32(15), { replicas: 5, quorum: 2 })
    expect(done.completion.entry.status).toBe(COMPLETION_STATUS.agreed)
    expect(fibOf(done.completion.entry.output)).toBe(610n)

    // Audits find the two shards unanswered, repairs move them to live hosts that rebuild them
    // from k others, and a later audit passes all six.
    const healed = await waitFor(async () => {
      const a = await getAsset(net!.rpc(), { id: asset })
      const moved = a && a.record.placement.every((h) => !dead.some((d) => equalBytes(d, h)))
      return moved && a.shards.every((s) => s.failures === 0) ? a : undefined
    }, 120_000, 'the lost shards to be repaired and pass an audit')
    expect(new Set(healed.record.placement.map(toHex)).size).toBe(6)
    // The dead hosts paid in reputation.
    for (const h of dead) {
      const info = (await getHost(net.rpc(), { address: h }))!
      expect(info.record.reputation).toBeLessThan(net.genesis.params.reputationInitialBp)
    }
  }, 300_000)

  it('a host that returns a wrong result is outvoted, not paid, and has its bond slashed whenever its receipt arrives', async () => {
    net = await startComputeNetwork({ name: 'liar', validators: 2, hosts: 6 })
    // The seventh host runs in this process with a runtime that lies about the output.
    const real = createComputePool({ workers: 1 })
    const lying: ComputePool = {
      size: real.size,
      deploy: (...a) => real.deploy(...a),
      close: () => real.close(),
      execute: async (job) => {
        const r = await real.execute(job)
        const output = r.output.map((b) => b ^ 0xff)
        return { ...r, output, resultHash: computeResultHash(r.outcome, output) }
      },
    }
    const liarKey = net.hostKeys[6]!
    liar = await XscNode.start({
      dataDir: join(net.dir, 'liar'),
      genesis: net.genesis,
      rpc: { port: 0 },
      logLevel: 'warn',
      p2p: { bootstrap: net.bootstrap() },
      host: { key: liarKey, coord: { x: 100, y: 100, z: 100 }, zone: 'zone-9', capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n },
    }, { computePool: lying })
    await net.waitForHosts(7)
    const asset = await net.deployFixture('fixtures/wasm/fib.wasm')
    const before = (await getHost(net.rpc(), { address: liarKey.publicKey }))!.record
    expect(before.bond).toBeGreaterThan(0n)

    // Every host is assigned (7 replicas), the six honest ones agree (quorum 4).
    const done = await net.executeAndWait(asset, u32(12), { replicas: 7, quorum: 4, deadlineSlots: 60 })
    const entry = done.completion.entry
    expect(entry.status).toBe(COMPLETION_STATUS.agreed)
    expect(fibOf(entry.output)).toBe(144n)
    expect(done.record.assignment.some((h) => equalBytes(h, liarKey.publicKey))).toBe(true)
    expect(entry.payouts.some((p) => equalBytes(p.to, liarKey.publicKey))).toBe(false)
    const liarChange = entry.reputation.find((r) => equalBytes(r.host, liarKey.publicKey))
    if (liarChange) expect(liarChange.after).toBeLessThan(liarChange.before)
    // Its signed receipt contradicts the agreed result whenever it arrives: inside the completion it is a
    // slashed dissent; after settlement it is evidence (gossiped, included, slashed). Either way its bond is cut, once.
    const slashed = await waitFor(async () => {
      const record = (await getHost(net!.rpc(), { address: liarKey.publicKey }))!.record
      return record.bond < before.bond ? record : undefined
    }, 60_000, "the liar's bond to be slashed")
    expect(slashed.bond).toBe(before.bond - (before.bond * BigInt(net.genesis.params.hostSlashShareBps)) / 10_000n)
  }, 300_000)
})
