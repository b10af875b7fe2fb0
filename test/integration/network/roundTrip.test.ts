import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { BlockEntry, COMPLETION_STATUS, OUTCOME } from '../../../blocks/schema.ts'
import { createClient, getBlock, getChainStatus, http } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'
import { waitFor } from '../../support/nodeProcess.ts'

let net: ComputeNetwork
beforeAll(async () => {
  net = await startComputeNetwork({ name: 'roundtrip', validators: 4, hosts: 6 })
}, 120_000)
afterAll(async () => {
  await net?.close()
})

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

describe('the network round trip: 4 validators and 6 hosts as separate processes', () => {
  it('deploy → execute (3 replicas, quorum 2) → completion; every validator holds the same blocks, state roots and payouts', async () => {
    await net.waitForHosts(6)
    const asset = await net.deployFixture('fixtures/wasm/fib.wasm')
    const done = await net.executeAndWait(asset, u32(20), { replicas: 3, quorum: 2 })
    const entry = done.completion.entry
    expect(entry.status).toBe(COMPLETION_STATUS.agreed)
    expect(entry.outcome).toBe(OUTCOME.ok)
    expect(new DataView(entry.output.buffer, entry.output.byteOffset, 8).getBigUint64(0, true)).toBe(6765n)
    expect(entry.receipts.length).toBeGreaterThanOrEqual(2)
    expect(entry.payouts.length).toBeGreaterThan(0)
    const { height } = done.completion.block

    // Every validator finalizes past the completion and agrees on it byte for byte.
    const clients = net.validators.map((v) => createClient({ transport: http(v!.rpc) }))
    try {
      await waitFor(async () => (await Promise.all(clients.map((c) => getChainStatus(c)))).every((s) => s.finalized.height >= height), 30_000, 'all validators to finalize the completion')
      const views = await Promise.all(clients.map((c) => getBlock(c, { height, includeEntries: true })))
      const completions = views.map((v) => {
        expect(toHex(v!.hash)).toBe(toHex(done.completion.block.hash))
        const c = v!.entries!.find((e) => e.type === 'completion' && toHex(e.executionId) === toHex(done.id))
        if (c?.type !== 'completion') throw new Error('completion entry missing')
        expect(c.payouts.map((p) => [toHex(p.to), p.amount])).toEqual(entry.payouts.map((p) => [toHex(p.to), p.amount]))
        return toHex(encode(BlockEntry, c))
      })
      expect(new Set(completions).size).toBe(1)
      // Same head hash and state root at a height every validator has finalized.
      const common = Math.min(...(await Promise.all(clients.map((c) => getChainStatus(c)))).map((s) => s.finalized.height))
      const heads = await Promise.all(clients.map((c) => getBlock(c, { height: common })))
      expect(new Set(heads.map((h) => toHex(h!.hash))).size).toBe(1)
      expect(new Set(heads.map((h) => toHex(h!.header.stateRoot))).size).toBe(1)
    } finally {
      await Promise.all(clients.map((c) => c.close()))
    }
  }, 150_000)
})
