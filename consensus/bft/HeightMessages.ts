import type { Hash } from '../../blocks/schema.ts'
import { toHex } from '../../src/crypto/index.ts'
import { computeRoundProposer } from '../proposerPriority.ts'
import { BftError } from './errors.ts'
import type { BftAction, HeightContext } from './machineTypes.ts'
import {
  compareSignedProposals,
  compareSignedVotes,
  type Evidence,
  isProposalSignatureValid,
  isVoteSignatureValid,
  type SignedProposal,
  type SignedVote,
  VOTE_STEP,
} from './messages.ts'
import { addToTally, isSettledVote, keyOf, newRoundState, noteSender, type RoundState, tallyOf } from './voteTally.ts'

/** Votes of rounds further than this ahead of ours are dropped (bounded memory per validator). */
export const ROUND_WINDOW = 64

/**
 * What the BFT machine (stateMachine.ts) has heard at one height: proposals and votes by round
 * (checked, tallied, equivocations turned into evidence once), the block ids seen, the driver's
 * verdicts on them, and each round's proposer. One instance per height; the machine applies the
 * rules on top of it. Actions it produces (evidence, validation requests) go to `emit`.
 */
export class HeightMessages {
  readonly ctx: HeightContext
  readonly rounds = new Map<number, RoundState>()
  readonly #emit: (action: BftAction) => void
  readonly #ids = new Map<string, Hash>()
  readonly #verdicts = new Map<string, boolean>()
  readonly #requested = new Set<string>()
  readonly #proposers = new Map<number, string>()
  readonly #evidenceSeen = new Set<string>()

  constructor(ctx: HeightContext, emit: (action: BftAction) => void) {
    this.ctx = ctx
    this.#emit = emit
  }

  /** The block id behind a value key (a hex id), if a message or verdict named it. */
  idOf(key: string): Hash | undefined {
    return this.#ids.get(key)
  }

  stakeOf(address: string): bigint {
    const stake = this.ctx.validators.byAddress.get(address)
    if (stake === undefined || stake === 0n) throw new BftError('NOT_VALIDATOR', 'sender is not a staked validator', { validator: address })
    return stake
  }

  roundState(round: number): RoundState {
    let rs = this.rounds.get(round)
    if (rs === undefined) {
      rs = newRoundState()
      this.rounds.set(round, rs)
    }
    return rs
  }

  proposerOf(round: number): string {
    let p = this.#proposers.get(round)
    if (p === undefined) {
      p = toHex(computeRoundProposer(this.ctx.priorities, round))
      this.#proposers.set(round, p)
    }
    return p
  }

  /** Whether `vote` would be held unchecked (isSettledVote). */
  isSettledVote(vote: SignedVote): boolean {
    return this.rounds.has(vote.body.round) && isSettledVote(tallyOf(this.rounds.get(vote.body.round)!, vote.body.step), keyOf(vote.body.blockId), toHex(vote.body.validator), this.ctx.validators.totalStake)
  }

  /** A peer's vote (`currentRound`: the machine's round, for ROUND_WINDOW). Throws BftError when invalid. */
  addVote(vote: SignedVote, currentRound: number): void {
    const body = vote.body
    if (body.step !== VOTE_STEP.prevote && body.step !== VOTE_STEP.precommit) throw new BftError('BAD_STEP', 'unknown vote step', { got: body.step })
    const address = toHex(body.validator)
    const stake = this.stakeOf(address)
    if (body.round > currentRound + ROUND_WINDOW) return
    const tally = tallyOf(this.roundState(body.round), body.step)
    if (isSettledVote(tally, keyOf(body.blockId), address, this.ctx.validators.totalStake)) return void (tally.late.has(address) || tally.late.set(address, vote))
    if (!isVoteSignatureValid(vote)) throw new BftError('BAD_SIGNATURE', 'vote signature is not its validator\'s', { validator: address })
    const late = tally.late.get(address) // held for another value: with this vote an equivocation
    if (late !== undefined && tally.late.delete(address) && keyOf(late.body.blockId) !== keyOf(body.blockId) && isVoteSignatureValid(late)) this.recordVote(late, address, stake)
    this.recordVote(vote, address, stake)
  }

  /** Counts a checked vote (ours or a peer's); a second value from one validator is evidence. */
  recordVote(vote: SignedVote, address: string, stake: bigint): void {
    const rs = this.roundState(vote.body.round)
    const key = keyOf(vote.body.blockId)
    const change = addToTally(vote.body.step === VOTE_STEP.prevote ? rs.prevotes : rs.precommits, key, vote, address, stake)
    if (change.earlier !== undefined) {
      const [first, second] = compareSignedVotes(change.earlier, vote) < 0 ? [change.earlier, vote] : [vote, change.earlier]
      this.#reportEvidence(`v/${vote.body.round}/${vote.body.step}/${address}`, { type: 'duplicateVote', first, second })
    }
    if (!change.counted) return
    if (change.firstOfSender) noteSender(rs, address, stake)
    if (vote.body.blockId !== undefined) this.#ids.set(key, vote.body.blockId)
  }

  /** A peer's proposal. Throws BftError when invalid (bad valid round, wrong proposer, bad signature). */
  addProposal(proposal: SignedProposal, currentRound: number): void {
    const body = proposal.body
    if (!Number.isInteger(body.validRound) || body.validRound < -1 || body.validRound >= body.round) {
      throw new BftError('BAD_VALID_ROUND', 'valid round must be −1 or below the proposal round', { got: body.validRound, round: body.round })
    }
    const address = toHex(body.proposer)
    const stake = this.stakeOf(address)
    if (body.round > currentRound + ROUND_WINDOW) return
    const expected = this.proposerOf(body.round)
    if (address !== expected) throw new BftError('WRONG_PROPOSER', 'not the proposer of this round', { round: body.round, got: address, expected })
    if (!isProposalSignatureValid(proposal)) throw new BftError('BAD_SIGNATURE', 'proposal signature is not its proposer\'s', { proposer: address })
    this.recordProposal(proposal, address, stake)
  }

  /** Holds a checked proposal (ours or a peer's); a second one for the round is evidence. */
  recordProposal(proposal: SignedProposal, address: string, stake: bigint): void {
    const rs = this.roundState(proposal.body.round)
    const existing = rs.proposal
    if (existing !== undefined) {
      const same = toHex(existing.body.blockId) === toHex(proposal.body.blockId) && existing.body.validRound === proposal.body.validRound
      if (!same) {
        const [first, second] = compareSignedProposals(existing, proposal) < 0 ? [existing, proposal] : [proposal, existing]
        this.#reportEvidence(`p/${proposal.body.round}`, { type: 'duplicateProposal', first, second })
      }
      return
    }
    rs.proposal = proposal
    const key = toHex(proposal.body.blockId)
    this.#ids.set(key, proposal.body.blockId)
    noteSender(rs, address, stake)
    this.verdict(key) // ask the driver early: the block may need fetching
  }

  setVerdict(blockId: Hash, valid: boolean): void {
    const key = toHex(blockId)
    this.#ids.set(key, blockId)
    this.#verdicts.set(key, valid)
  }

  /** The verdict for a value, asking the driver once if unknown. */
  verdict(key: string): boolean | undefined {
    const v = this.#verdicts.get(key)
    if (v === undefined && !this.#requested.has(key)) {
      this.#requested.add(key)
      const blockId = this.#ids.get(key)
      if (blockId !== undefined) this.#emit({ type: 'validate', height: this.ctx.height, blockId })
    }
    return v
  }

  #reportEvidence(key: string, evidence: Evidence): void {
    if (this.#evidenceSeen.has(key)) return
    this.#evidenceSeen.add(key)
    this.#emit({ type: 'evidence', evidence })
  }
}
