import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { Offence } from '../../../blocks/schema.ts'
import { getBlock, getStake, submitEvidence } from '../../../src/client/index.ts'
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
