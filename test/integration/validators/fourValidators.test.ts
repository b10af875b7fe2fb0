import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { getBalance, getBlock, getChainStatus, getTransaction, transfer } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { startValidatorProcesses, statuses, type ValidatorProcesses } from './startValidatorProcesses.ts'

const alice = testKey('validators-alice')
const bob = testKey('validators-bob')
let procs: ValidatorProcesses

beforeAll(async () => {
  procs = await startValidatorProcesses({ name: 'four', validators: 4, slotMs: 500, funded: [alice] })
})
afterAll(async () => {
  await procs?.close()
})

describe('four validator processes on 127.0.0.1', () => {
  it('find each other, agree on blocks and state roots, finalize, and include a transfer sent to one of them on all', async () => {
    // Peer exchange: each process ends up connected to the three others, not only to the bootstrap node.
    await waitFor(async () => (await statuses(procs)).every((s) => s.peers === 3), 20_000, 'a full mesh')

    // Blocks from several proposers, finalized by attestations (no single validator holds 2/3).
    await waitFor(async () => (await statuses(procs)).every((s) => s.finalized >= 8), 30_000, 'finalized height 8 on every node')
    // Under load validator 0 may be alone for its first blocks (the others still starting): look
    // at every finalized block, and give the others a few slots to propose.
    const proposers = new Set<string>()
    let seen = 0
    await waitFor(async () => {
      const fin = Math.min(...(await statuses(procs)).map((s) => s.finalized))
      for (; seen < fin; seen++) proposers.add(toHex((await getBlock(procs.clients[0]!, { height: seen + 1 }))!.header.proposer))
      return proposers.size > 1
    }, 20_000, 'finalized blocks from several proposers')
    expect(proposers.size).toBeGreaterThan(1)

    const id = await transfer(procs.clients[2]!, { account: alice, to: bob.publicKey, amount: 12_345n, fee: 1n })
    const included = await waitFor(() => getTransaction(procs.clients[2]!, { id }), 20_000, 'the transfer to be included')
    for (const c of procs.clients) {
      const seen = await waitFor(() => getTransaction(c!, { id }), 10_000, 'the transfer on every node')
      expect(toHex(seen.blockHash)).toBe(toHex(included.blockHash))
      await waitFor(async () => (await getBalance(c!, { address: bob.publicKey })) === 12_345n, 10_000, 'the balance on every node')
    }

    // Same block hash and state root at a height all have finalized.
    await waitFor(async () => (await statuses(procs)).every((s) => s.finalized >= included.blockHeight), 20_000, 'the transfer block finalized')
    const h = Math.min(...(await statuses(procs)).map((s) => s.finalized))
    const blocks = await Promise.all(procs.clients.map((c) => getBlock(c!, { height: h })))
    expect(new Set(blocks.map((b) => toHex(b!.hash))).size).toBe(1)
    expect(new Set(blocks.map((b) => toHex(b!.header.stateRoot))).size).toBe(1)
    const finalized = await Promise.all(procs.clients.map((c) => getChainStatus(c!)))
    for (const s of finalized) expect(s.syncing).toBe(false)
  }, 60_000)

  it('proposes at once when a tx waits (its block may share its parent\'s slot) and keeps the slot cadence when idle', async () => {
    // Serial transfers, each sent as soon as the previous one is in a block: the next proposer is
    // then usually still waiting for the slot after its parent's, and with the tx in its pool it
    // proposes before it (docs/consensus.md "Block timing"). Before, no block could share a slot.
    const heights: number[] = []
    for (let i = 0; i < 8; i++) {
      const c = procs.clients[i % procs.clients.length]!
      const id = await transfer(c, { account: alice, to: bob.publicKey, amount: 1n, fee: 1n })
      heights.push((await waitFor(() => getTransaction(c, { id }), 20_000, `transfer ${i} to be included`)).blockHeight)
    }
    const c0 = procs.clients[0]!
    await waitFor(async () => (await getChainStatus(c0)).finalized.height >= Math.max(...heights), 20_000, 'the transfers finalized on node 0')
    const header = async (height: number) => (await getBlock(c0, { height }))!.header
    const sharesParentSlot = await Promise.all(heights.map(async (h) => (await header(h)).slot === (await header(h - 1)).slot))
    expect(sharesParentSlot.some((shared) => shared)).toBe(true)

    // Idle cadence: a block with nothing but heartbeats is never in its parent's slot.
    const last = (await getChainStatus(c0)).finalized.height
    let emptyBlocks = 0
    for (let h = 2; h <= last; h++) {
      const block = (await getBlock(c0, { height: h, includeEntries: true }))!
      if (!(block.entries ?? []).every((e) => e.type === 'liveness')) continue
      emptyBlocks++
      expect(block.header.slot).toBeGreaterThan((await header(h - 1)).slot)
    }
    expect(emptyBlocks).toBeGreaterThan(0)
  }, 60_000)
})
