import type { Hash } from '../../blocks/schema.ts'
import { compareBytes, toHex } from '../../src/crypto/index.ts'
import { type Commit, type SignedProposal, type SignedVote, VOTE_STEP } from './messages.ts'
import { isQuorum } from './quorum.ts'

/** The key of a vote for nil in tallies and value maps. */
export const NIL = 'nil'

/** A value's key in tallies: its hex id, or NIL. */
export function keyOf(blockId: Hash | undefined): string {
  return blockId === undefined ? NIL : toHex(blockId)
}

/**
 * Votes of one round and step. A validator's first vote counts toward `total` (for the "any 2f+1"
 * rules); each distinct value it signed counts toward that value (up to MAX_VALUES_PER_VOTER), so
 * an equivocator's vote for v still counts in v's proof of lock, as CometBFT's peer-claimed
 * majorities allow. Counting a Byzantine validator for two values does not weaken quorum
 * intersection: any two quorums still share more than 1/3 of the stake, hence an honest validator,
 * and an honest validator signs one value per step.
 */
export interface VoteTally {
  first: Map<string, SignedVote>
  valuesOf: Map<string, number>
  byValue: Map<string, { stake: bigint; votes: Map<string, SignedVote> }>
  total: bigint
  /**
   * Votes that came after their value had a quorum here, from validators not heard in this tally
   * yet: held unverified and uncounted (they change no rule's outcome), by validator. One is
   * verified only if its validator later signs another value here (the pair is evidence).
   */
  late: Map<string, SignedVote>
}

const MAX_VALUES_PER_VOTER = 4

/** What consensus has heard in one round of the current height. */
export interface RoundState {
  proposal: SignedProposal | undefined
  prevotes: VoteTally
  precommits: VoteTally
  /** Validators heard from in this round (any message), for round skipping (line 55). */
  senders: Set<string>
  senderStake: bigint
  prevoteTimeoutSet: boolean
  precommitTimeoutSet: boolean
  polSeen: boolean
}

function newTally(): VoteTally {
  return { first: new Map(), valuesOf: new Map(), byValue: new Map(), total: 0n, late: new Map() }
}

export function newRoundState(): RoundState {
  return { proposal: undefined, prevotes: newTally(), precommits: newTally(), senders: new Set(), senderStake: 0n, prevoteTimeoutSet: false, precommitTimeoutSet: false, polSeen: false }
}

/** A round's tally of a vote step (prevote, else precommit). */
export function tallyOf(rs: RoundState, step: number): VoteTally {
  return step === VOTE_STEP.prevote ? rs.prevotes : rs.precommits
}

/** Counts a validator heard from in a round once, for round skipping. */
export function noteSender(rs: RoundState, address: string, stake: bigint): void {
  if (!rs.senders.has(address)) {
    rs.senders.add(address)
    rs.senderStake += stake
  }
}

/** The stake that voted for a value key. */
export function stakeFor(tally: VoteTally, key: string): bigint {
  return tally.byValue.get(key)?.stake ?? 0n
}

/**
 * What adding a vote did: `counted` when it now counts for its value, `firstOfSender` when it is
 * the validator's first vote of this step, `earlier` the validator's first vote when this one
 * signs another value (an equivocation).
 */
export interface TallyChange {
  counted: boolean
  firstOfSender: boolean
  earlier: SignedVote | undefined
}

/**
 * A vote that can change nothing: its value `key` already has a quorum in this tally and its
 * validator has no vote here yet. Every rule reads a value's stake or the tally's total only
 * against the quorum or one third, which that value alone already passes; the commit formed from
 * the tally needs only its quorum. So its signature need not be checked (each check costs as much
 * as a block's state commit); the 4th of 4 validators' prevotes and precommits usually is one.
 */
export function isSettledVote(tally: VoteTally, key: string, address: string, totalStake: bigint): boolean {
  return !tally.first.has(address) && isQuorum(stakeFor(tally, key), totalStake)
}

/** Adds a validated vote for value `key`; a repeat of a counted vote changes nothing. */
export function addToTally(tally: VoteTally, key: string, vote: SignedVote, address: string, stake: bigint): TallyChange {
  let value = tally.byValue.get(key)
  if (value?.votes.has(address)) return { counted: false, firstOfSender: false, earlier: undefined } // a duplicate
  const earlier = tally.first.get(address)
  if (earlier !== undefined) {
    const values = tally.valuesOf.get(address)!
    if (values >= MAX_VALUES_PER_VOTER) return { counted: false, firstOfSender: false, earlier }
    tally.valuesOf.set(address, values + 1)
  } else {
    tally.first.set(address, vote)
    tally.valuesOf.set(address, 1)
    tally.total += stake
  }
  if (value === undefined) {
    value = { stake: 0n, votes: new Map() }
    tally.byValue.set(key, value)
  }
  value.votes.set(address, vote)
  value.stake += stake
  return { counted: true, firstOfSender: earlier === undefined, earlier }
}

/** The commit that the precommits for value `key` in a tally form, signatures by validator address. */
export function commitOf(chainId: string, height: number, round: number, blockId: Hash, precommits: VoteTally, key: string): Commit {
  const signers = [...precommits.byValue.get(key)!.votes.values()]
    .sort((a, b) => compareBytes(a.body.validator, b.body.validator))
  return { chainId, height, round, blockId, signatures: signers.map((v) => ({ validator: v.body.validator, signature: v.signature })) }
}
