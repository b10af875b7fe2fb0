import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { getAsset, getChainStatus, getHosts } from '../../src/client/index.ts'
import { equalBytes } from '../../src/crypto/index.ts'
import { ASSET_STATUS, HOST_STATUS } from '../../src/state/records.ts'
import { type ComputeNetwork, startComputeNetwork } from '../support/computeNetwork.ts'
import { waitFor } from '../support/nodeProcess.ts'

/**
 * The liveness rule on real node processes (libp2p gossip, classic-level, HostRole): one
 * validator and seven hosts (few processes: the machine is shared); every host heartbeats each
 * 8-slot epoch over the `heartbeats` topic. A host holding a shard is killed (SIGKILL): it is
 * suspended within (threshold + 1) epochs, its shard is re-placed on another host, and no live
 * host is ever suspended.
 */
const L = 8
const T = 2
let net: ComputeNetwork
beforeAll(async () => {
  net = await startComputeNetwork({ name: 'liveness', validators: 1, hosts: 7, slotMs: 500, auditEpochSlots: 8, params: { livenessEpochSlots: L, livenessMissThreshold: T, livenessQuorumBlocks: 3 } })
}, 180_000)
afterAll(async () => {
  await net?.close()
})

describe('liveness over real node processes', () => {
  it('a killed host is suspended within the bound and its shard re-placed; live hosts keep heartbeating', { timeout: 300_000 }, async () => {
    await net.waitForHosts(7)
    const asset = await net.deployFixture('fixtures/wasm/counter.wasm')
    const active = await waitFor(async () => {
      const a = await getAsset(net.rpc(), { id: asset })
      return a?.record.status === ASSET_STATUS.active ? a : undefined
    }, 120_000, 'the placement to activate')
    const victimAddress = active.record.placement[0]!
    const victim = net.hostKeys.findIndex((k) => equalBytes(k.publicKey, victimAddress))
    expect(victim).toBeGreaterThanOrEqual(0)
    // Several epochs with every host alive: nobody is suspended.
    const height = async (): Promise<number> => (await getChainStatus(net.rpc())).head.height
    const start = await height()
    await waitFor(async () => (await height()) >= start + 3 * L, 120_000, 'three liveness epochs')
    for (const h of await getHosts(net.rpc(), { limit: 100 })) expect(h.record.status).toBe(HOST_STATUS.active)

    await net.killHost(victim)
    const killedAt = await height()
    const suspendedAt = await waitFor(async () => {
      const h = (await getHosts(net.rpc(), { limit: 100 })).find((x) => equalBytes(x.address, victimAddress))
      return h && h.record.status !== HOST_STATUS.active ? await height() : undefined
    }, 180_000, 'the killed host to be suspended')
    // (T + 1) epochs after its last heartbeat, plus the blocks the RPC poll can lag.
    expect(suspendedAt - killedAt).toBeLessThanOrEqual((T + 1) * L + 4)
    await waitFor(async () => {
      const a = await getAsset(net.rpc(), { id: asset })
      return a !== null && !a.record.placement.some((h) => equalBytes(h, victimAddress))
    }, 120_000, 'the shard to be re-placed')
    for (const h of await getHosts(net.rpc(), { limit: 100 })) if (!equalBytes(h.address, victimAddress)) expect(h.record.status).toBe(HOST_STATUS.active)
  })
})
