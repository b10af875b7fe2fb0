import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { REPUTATION_CAUSE } from '../../../blocks/schema.ts'
import { sendPayload } from '../../../src/client/actions/signAndSend.ts'
import { getAsset, getBalance, getChainParams, getHost } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { ASSET_STATUS } from '../../../src/state/records.ts'
import { codingParamsOf, computeManifest } from '../../../src/storage/encodeAsset.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'
import { waitFor } from '../../support/nodeProcess.ts'

/**
 * The framing attack on real processes (one validator, six hosts, libp2p, classic-level): a
 * client deploys a manifest whose data it never uploads, so no placed host can ever hold its
 * shard. Before two-phase placement every audit recorded `noAnswer` against the placed hosts;
 * now the placement never activates, is refunded at its deadline, and no host loses reputation.
 * An honest deploy on the same network activates from its hosts' acks and runs.
 */
let net: ComputeNetwork

beforeAll(async () => {
  // 20 blocks (~10 s at 500 ms slots) to acknowledge: honest acks land within a few blocks, and
  // the framing test waits this whole deadline out (30 blocks cost 5 s more of npm test). Three
  // audit epochs still pass while the framed placement waits.
  net = await startComputeNetwork({ name: 'framing', validators: 1, hosts: 6, auditEpochSlots: 6, params: { storageAckBlocks: 20 } })
  await net.waitForHosts(6)
}, 300_000)

afterAll(async () => {
  await net?.close()
})

describe('framing deploys on a real network', () => {
  it('an honest deploy becomes active from its hosts\' storage acks and executes', async () => {
    const asset = await net.deployFixture('fixtures/wasm/counter.wasm')
    await waitFor(async () => (await getAsset(net.rpc(), { id: asset }))?.record.status === ASSET_STATUS.active, 30_000, 'the honest placement to activate')
    expect((await getAsset(net.rpc(), { id: asset }))!.record.acked).toEqual([1, 1, 1, 1, 1, 1])
    const result = await net.executeAndWait(asset, new Uint8Array(0))
    expect(result.completion?.entry.status).toBe(0)
  }, 300_000)

  it('a deploy of data never uploaded is refunded at its deadline and no placed host is penalized', async () => {
    const params = (await getChainParams(net.rpc())).params
    const manifest = computeManifest(new Uint8Array(randomBytes(3000)), codingParamsOf(params))
    const balance = await getBalance(net.rpc(), { address: net.client.publicKey })
    const asset = await sendPayload(net.rpc(), { account: net.client, fee: 1n }, { type: 'deploy', assetKind: 1, manifest, deposit: 10_000_000n, bidPerByteEpoch: 10n, origin: { x: 100, y: 100, z: 100 }, zones: [], strategy: 0 })
    const placed = await waitFor(() => getAsset(net.rpc(), { id: asset }), 30_000, 'the framing deployment block')
    expect(placed.record.status).toBe(ASSET_STATUS.placing)
    const before = new Map<string, number>()
    for (const h of placed.record.placement) before.set(toHex(h), (await getHost(net.rpc(), { address: h }))!.record.reputation)
    const refunded = await waitFor(async () => {
      const a = await getAsset(net.rpc(), { id: asset })
      return a?.record.status === ASSET_STATUS.refunded ? a : undefined
    }, 120_000, 'the framing placement to be refunded')
    expect(refunded.record.acked).toEqual([0, 0, 0, 0, 0, 0])
    expect(refunded.record.deposit).toBe(0n)
    // The deposit came back; the deploy's fee (and the honest test's spending) did not.
    expect(await getBalance(net.rpc(), { address: net.client.publicKey })).toBe(balance - 1n)
    for (const h of placed.record.placement) {
      const info = (await getHost(net.rpc(), { address: h }))!
      expect(info.record.reputation).toBeGreaterThanOrEqual(before.get(toHex(h))!)
      expect(info.events.some((e) => (e.cause === REPUTATION_CAUSE.auditFail || e.cause === REPUTATION_CAUSE.auditNoAnswer) && toHex(e.subject) === toHex(asset))).toBe(false)
    }
  }, 300_000)
})
