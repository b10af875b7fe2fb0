import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { Offence } from '../../../blocks/schema.ts'
import { getBalance, getBlock, getChainStatus, getStake, getTransaction, submitEvidence, transfer } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { DEFAULT_PARAMS } from '../../../src/state/genesisJson.ts'
import { BOND_KIND } from '../../../src/state/records.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { doubleVote } from '../../support/ledgerChain.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { startValidatorProcesses, statuses, type ValidatorProcesses } from './startValidatorProcesses.ts'

/**
 * Four validator processes, started once for the agreement tests and then for the slashing one
 * (which ends with validator 3 slashed, so it runs last). It was two files, each starting its own
 * four processes (~8 s of the 10-minute npm test per start on two cores).
 */
const alice = testKey('validators-alice')
const bob = testKey('validators-bob')
const STAKE = 1_000_000n
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

describe('evidence on four validator processes', () => {
  it('two conflicting signed votes submitted to one node are gossiped, included, and slash the validator once on every chain', async () => {
    await waitFor(async () => (await statuses(procs)).every((s) => s.peers === 3 && s.head >= 3), 30_000, 'a full mesh at height 3')
    const offender = procs.keys[3]!
    // A height every node has passed (a node refuses evidence from a height it has not reached).
    const offenceHeight = Math.min(...(await statuses(procs)).map((s) => s.head)) - 1
    const evidence = doubleVote(offender, 'xsc-test', offenceHeight)
    expect(await submitEvidence(procs.clients[1]!, { offence: evidence })).toBe(true)
    // Gossip (~ms on loopback) reaches the others well before they could be asked: they already hold it
    // (false), or a block already slashed it.
    await new Promise((r) => setTimeout(r, 300))
    for (const i of [0, 2, 3]) {
      const answer = await submitEvidence(procs.clients[i]!, { offence: evidence }).catch((e: { details?: { data?: { reason?: string } } }) => e.details?.data?.reason)
      expect([false, 'ALREADY_SLASHED']).toContain(answer)
    }

    const burned = (STAKE * BigInt(DEFAULT_PARAMS.slashShareBps)) / 10_000n
    for (const c of procs.clients) {
      const stake = await waitFor(async () => {
        const s = await getStake(c!, { address: offender.publicKey })
        return s.slashedAtHeight !== undefined ? s : undefined
      }, 30_000, 'the slash on every node')
      expect(stake.stake).toBe(0n)
      expect(stake.unbonding).toEqual([{ kind: BOND_KIND.validatorStake, amount: STAKE - burned, startHeight: stake.slashedAtHeight!, releaseHeight: stake.slashedAtHeight! + DEFAULT_PARAMS.unbondingHeights }])
    }
    // On every honest node's chain the slashing block carries exactly this evidence. (The slashed validator's
    // own node keeps attesting under the old finality rule and is scored out by its peers: it need not keep up.)
    const honest = [0, 1, 2]
    let slashedAt = 0
    for (const i of honest) {
      const at = (await getStake(procs.clients[i]!, { address: offender.publicKey })).slashedAtHeight!
      const block = await getBlock(procs.clients[i]!, { height: at, includeEntries: true })
      const included = block!.entries!.filter((e) => e.type === 'evidence')
      expect(included).toHaveLength(1)
      expect(toHex(encode(Offence, included[0]!.offence))).toBe(toHex(encode(Offence, { type: 'equivocation', evidence })))
      slashedAt = Math.max(slashedAt, at)
    }

    // Replayed evidence, and another equivocation of the same validator, are refused.
    await expect(submitEvidence(procs.clients[2]!, { offence: evidence })).rejects.toMatchObject({ details: { data: { reason: 'ALREADY_SLASHED' } } })
    await expect(submitEvidence(procs.clients[0]!, { offence: doubleVote(offender, 'xsc-test', slashedAt - 1) })).rejects.toMatchObject({ details: { data: { reason: 'ALREADY_SLASHED' } } })

    // The three others keep the chain going.
    const honestStatuses = async () => (await statuses(procs)).filter((s) => honest.includes(s.i))
    const head = Math.min(...(await honestStatuses()).map((s) => s.head))
    await waitFor(async () => (await honestStatuses()).every((s) => s.head >= head + 4), 30_000, 'blocks after the slash')
  }, 180_000)
})
