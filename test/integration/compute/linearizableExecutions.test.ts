import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { COMPLETION_STATUS, OUTCOME } from '../../../blocks/schema.ts'
import { estimateFuel, execute, getNonce, query, waitForExecution } from '../../../src/client/index.ts'
import { type ComputeNetwork, startComputeNetwork } from '../../support/computeNetwork.ts'

let net: ComputeNetwork
beforeAll(async () => {
  net = await startComputeNetwork({ name: 'linearizable', validators: 4, hosts: 6, slotMs: 1000 })
}, 120_000)
afterAll(async () => {
  await net?.close()
})

const u32le = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true)

describe('executions of one asset take effect in chain order (real node processes)', () => {
  it('20 concurrent increments of the counter fixture end at 20, each seeing the one before it', async () => {
    await net.waitForHosts(6)
    const rpc = net.rpc()
    for (const h of net.hosts) h?.child.stderr?.on('data', (d: Buffer) => { if (process.env.DEBUG_HOSTS) process.stderr.write(d) })
    for (const v of net.validators) v?.child.stderr?.on('data', (d: Buffer) => { if (process.env.DEBUG_HOSTS) process.stderr.write(d) })
    // Warm-up: one settled call proves the module reached its hosts (reset leaves the counter
    // empty). On a loaded machine the shard hand-off can reach hosts before they import the
    // deployment block ("not assigned here") and the module is lost: deploy a fresh copy then.
    let asset: Uint8Array | undefined
    for (let attempt = 0; attempt < 3 && asset === undefined; attempt++) {
      const candidate = await net.deployFixture('fixtures/wasm/counter.wasm')
      const warm = await execute(rpc, { account: net.client, asset: candidate, fn: 'reset', fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 30 })
      if ((await waitForExecution(rpc, { id: warm, timeoutMs: 120_000 })).completion.entry.status === COMPLETION_STATUS.agreed) asset = candidate
    }
    if (asset === undefined) throw new Error('the counter module never reached its hosts (shard hand-off failed three times)')
    const first = await getNonce(rpc, { address: net.client.publicKey })
    // Sent back to back (the mempool takes an account's nonces in order) before any is scheduled, so several land in each execution block.
    const ids: Uint8Array[] = []
    for (let i = 0; i < 20; i++) ids.push(await execute(rpc, { account: net.client, nonce: first + i, asset, fn: 'run', fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 40 }))
    // They settle in order: waiting for each in turn keeps the polling light on a loaded machine.
    const done = []
    for (const id of ids) done.push(await waitForExecution(rpc, { id, timeoutMs: 120_000, pollMs: 250 }))
    if (process.env.DEBUG_HOSTS) console.log(done.map((d) => [d.completion.block.height, d.completion.entry.status, d.completion.entry.receipts.length, u32le(d.completion.entry.output)]))
    for (const d of done) {
      expect(d.completion.entry.status).toBe(COMPLETION_STATUS.agreed)
      expect(d.completion.entry.outcome).toBe(OUTCOME.ok)
    }
    // Every value 1..20 was returned exactly once: no update was lost.
    expect(done.map((d) => u32le(d.completion.entry.output)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    // And the order the chain settled them in is the order they count in.
    const bySettlement = [...done].sort((a, b) => a.completion.block.height - b.completion.block.height || u32le(a.completion.entry.output) - u32le(b.completion.entry.output))
    expect(bySettlement.map((d) => u32le(d.completion.entry.output))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    // A validator (no host role) answers queries and estimates: it fetches the module from the hosts and runs it itself.
    const read = await query(rpc, { asset, fn: 'run', input: new Uint8Array(4) })
    expect(u32le(read.output)).toBe(20)
    expect((await estimateFuel(rpc, { asset, fn: 'run', input: new Uint8Array(4) })).fuelUsed).toBe(read.fuelUsed)
    // More than one per block on average: hosts thread the state, validators settle several per block.
    const blocks = new Set(done.map((d) => d.completion.block.height))
    expect(blocks.size).toBeLessThan(20)
  }, 400_000)
})
