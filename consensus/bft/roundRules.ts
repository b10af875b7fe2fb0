import { toHex } from '../../src/crypto/index.ts'
import type { BftStep } from './machineTypes.ts'
import { isMoreThanOneThird, isQuorum } from './quorum.ts'
import { NIL, type RoundState, stakeFor } from './voteTally.ts'

/**
 * The conditions of Tendermint's rules (algorithm 1; line numbers refer to it), read from the
 * machine's state without changing it. The machine applies the rule that fires (stateMachine.ts).
 * `verdict` asks whether a value is valid (undefined: not known yet; the machine then asks the
 * driver, so calling it may emit a `validate` action, in the order the rules are checked).
 */
export type Verdict = (key: string) => boolean | undefined

/** Line 49: a quorum of precommits for a valid value, in any round, decides. */
export function findDecision(rounds: ReadonlyMap<number, RoundState>, totalStake: bigint, verdict: Verdict): { round: number; key: string } | undefined {
  for (const [round, rs] of rounds) {
    for (const [key, value] of rs.precommits.byValue) {
      if (key === NIL || !isQuorum(value.stake, totalStake)) continue
      if (verdict(key) === true) return { round, key }
    }
  }
  return undefined
}

/** Line 55: the latest later round holding more than 1/3 of the stake, or −1. */
export function roundToSkipTo(rounds: ReadonlyMap<number, RoundState>, currentRound: number, totalStake: bigint): number {
  let skipTo = -1
  for (const [round, rs] of rounds) {
    if (round > currentRound && round > skipTo && isMoreThanOneThird(rs.senderStake, totalStake)) skipTo = round
  }
  return skipTo
}

/** What the machine knows when checking the rules of its current round. */
export interface RoundView {
  step: BftStep
  rs: RoundState
  rounds: ReadonlyMap<number, RoundState>
  totalStake: bigint
  lockedRound: number
  lockedValue: string | undefined
  unsafeIgnoreLocks: boolean
  verdict: Verdict
}

export type RoundRule =
  /** Lines 22 and 28: prevote the proposal's value, or nil. */
  | { rule: 'prevote'; value: string }
  /** Line 34: any 2f+1 prevotes: start the prevote timeout. */
  | { rule: 'prevoteTimeout' }
  /** Line 36: a proof of lock for the valid proposal: lock and precommit it (in the prevote step), note it as valid. */
  | { rule: 'proofOfLock'; value: string }
  /** Line 44: 2f+1 prevotes for nil: precommit nil. */
  | { rule: 'precommitNil' }
  /** Line 47: any 2f+1 precommits: start the precommit timeout. */
  | { rule: 'precommitTimeout' }

/** The first rule of the current round (lines 22–48) whose condition holds, if any. */
export function nextRoundRule(view: RoundView): RoundRule | undefined {
  const { step, rs, totalStake: total } = view
  const proposal = rs.proposal
  if (step === 'propose' && proposal !== undefined) {
    const key = toHex(proposal.body.blockId)
    const vr = proposal.body.validRound
    if (vr === -1) { // line 22
      const valid = view.verdict(key)
      if (valid !== undefined) {
        const ok = valid && (view.unsafeIgnoreLocks || view.lockedRound === -1 || view.lockedValue === key)
        return { rule: 'prevote', value: ok ? key : NIL }
      }
    } else { // line 28
      const pol = view.rounds.get(vr)
      if (pol !== undefined && isQuorum(stakeFor(pol.prevotes, key), total)) {
        const valid = view.verdict(key)
        if (valid !== undefined) {
          const ok = valid && (view.unsafeIgnoreLocks || view.lockedRound <= vr || view.lockedValue === key)
          return { rule: 'prevote', value: ok ? key : NIL }
        }
      }
    }
  }
  if (step === 'prevote' && !rs.prevoteTimeoutSet && isQuorum(rs.prevotes.total, total)) return { rule: 'prevoteTimeout' } // line 34
  if ((step === 'prevote' || step === 'precommit') && !rs.polSeen && proposal !== undefined) { // line 36
    const key = toHex(proposal.body.blockId)
    if (isQuorum(stakeFor(rs.prevotes, key), total) && view.verdict(key) === true) return { rule: 'proofOfLock', value: key }
  }
  if (step === 'prevote' && isQuorum(stakeFor(rs.prevotes, NIL), total)) return { rule: 'precommitNil' } // line 44
  if (!rs.precommitTimeoutSet && isQuorum(rs.precommits.total, total)) return { rule: 'precommitTimeout' } // line 47
  return undefined
}
