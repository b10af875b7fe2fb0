import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { getBlock, getChainStatus, getStake, submitEvidence } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { DEFAULT_PARAMS } from '../../../src/state/genesisJson.ts'
import { BOND_KIND } from '../../../src/state/records.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { doubleVote } from '../../support/ledgerChain.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { startValidatorProcesses, statuses, type ValidatorProcesses } from './startValidatorProcesses.ts'

const alice = testKey('slashing-alice')
const STAKE = 1_000_000n
let procs: ValidatorProcesses

beforeAll(async () => {
  procs = await startValidatorProcesses({ name: 'slashing', validators: 4, slotMs: 500, funded: [alice] })
})
afterAll(async () => {
  await procs?.close()
})

describe('evidence on four validator processes', () => {
  it('two conflicting signed votes submitted to one node are gossiped, included, and slash the validator once on every chain', async () => {
    await waitFor(async () => (await statuses(procs)).every((s) => s.peers === 3 && s.head >= 3), 30_000, 'a full mesh at height 3')
    const offender = procs.keys[3]!
    const offenceHeight = (await getChainStatus(procs.clients[0]!)).head.height
    const evidence = doubleVote(offender, 'xsc-test', offenceHeight)
    expect(await submitEvidence(procs.clients[1]!, { offence: evidence })).toBe(true)

    const burned = (STAKE * BigInt(DEFAULT_PARAMS.slashShareBps)) / 10_000n
    for (const c of procs.clients) {
      const stake = await waitFor(async () => {
        const s = await getStake(c!, { address: offender.publicKey })
        return s.slashedAtHeight !== undefined ? s : undefined
      }, 30_000, 'the slash on every node')
      expect(stake.stake).toBe(0n)
      expect(stake.unbonding).toEqual([{ kind: BOND_KIND.validatorStake, amount: STAKE - burned, startHeight: stake.slashedAtHeight!, releaseHeight: stake.slashedAtHeight! + DEFAULT_PARAMS.unbondingHeights }])
    }
    // Every node has the same evidence entry in the same block.
    const slashedAt = (await getStake(procs.clients[0]!, { address: offender.publicKey })).slashedAtHeight!
    await waitFor(async () => (await statuses(procs)).every((s) => s.head >= slashedAt), 20_000, 'every node at the slashing block')
    const blocks = await Promise.all(procs.clients.map((c) => getBlock(c!, { height: slashedAt, full: true })))
    expect(new Set(blocks.map((b) => toHex(b!.hash))).size).toBe(1)
    const entries = blocks[0]!.entries!
    expect(entries.filter((e) => e.type === 'evidence')).toHaveLength(1)

    // Replayed evidence, and another equivocation of the same validator, are refused.
    await expect(submitEvidence(procs.clients[2]!, { offence: evidence })).rejects.toMatchObject({ details: { data: { reason: 'ALREADY_SLASHED' } } })
    await expect(submitEvidence(procs.clients[0]!, { offence: doubleVote(offender, 'xsc-test', slashedAt - 1) })).rejects.toMatchObject({ details: { data: { reason: 'ALREADY_SLASHED' } } })

    // The three others keep the chain going.
    const head = Math.min(...(await statuses(procs)).map((s) => s.head))
    await waitFor(async () => (await statuses(procs)).every((s) => s.head >= head + 4), 30_000, 'blocks after the slash')
  }, 120_000)
})
