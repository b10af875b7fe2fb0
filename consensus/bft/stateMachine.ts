import type { Hash } from '../../blocks/schema.ts'
import { keyPairFromSecret, toHex } from '../../src/crypto/index.ts'
import { computeRoundProposer } from '../proposerPriority.ts'
import { computeGossipSnapshot, computeHeldVotes, computeOwnMessagesForRound } from './catchUpMessages.ts'
import { BftError } from './errors.ts'
import type { BftAction, BftConfig, BftInput, BftStep, HeightContext } from './machineTypes.ts'
import {
  commitVoteBody,
  compareSignedProposals,
  compareSignedVotes,
  type ConsensusMessage,
  type Evidence,
  isProposalSignatureValid,
  isVoteSignatureValid,
  type SignedProposal,
  type SignedVote,
  signProposal,
  signVote,
  VOTE_STEP,
  type VoteStep,
} from './messages.ts'
import { findDecision, nextRoundRule, type RoundRule, roundToSkipTo } from './roundRules.ts'
import { checkTimeoutParams, computeTimeout, type TimeoutStep } from './timeouts.ts'
import { addToTally, commitOf, isSettledVote, keyOf, newRoundState, NIL, noteSender, type RoundState, tallyOf } from './voteTally.ts'

/**
 * The Tendermint consensus algorithm (Buchman, Kwon, Milosevic 2018, "The latest gossip on BFT
 * consensus", algorithm 1) as a pure state machine: inputs are messages, timeouts, proposal
 * verdicts and proposal values; outputs are actions (messages to broadcast, timers to set,
 * validation and block-building requests, decisions with their commit, evidence). No I/O, no
 * clock: the node's driver and the simulator run exactly this code.
 *
 * Line numbers in comments refer to algorithm 1 of the paper. Differences from the paper:
 * - values are block ids; whether a block is valid is asked of the driver (`validate` →
 *   `verdict` input), since only the driver holds block bytes and state;
 * - the decision (line 49) needs >2/3 precommits for an id and a valid verdict for that id, not the
 *   proposal message itself: the id is the block's hash, so it binds the value. This lets a node
 *   that missed the proposal decide from a gossiped `Commit` (catch-up);
 * - stake-weighted thresholds: "2f+1" is more than 2/3 of the stake, "f+1" more than 1/3;
 * - a proposer that must build a fresh value asks the driver (`buildProposal` →
 *   `proposalValue`), and sets a propose timeout for itself too, so a slow builder costs a round,
 *   never the height.
 */

/** Votes of rounds further than this ahead of ours are dropped (bounded memory per validator). */
export const ROUND_WINDOW = 64

export class BftMachine {
  readonly #config: BftConfig
  readonly #self: string | undefined
  #ctx: HeightContext | undefined
  #round = 0
  #step: BftStep = 'propose'
  #lockedValue: string | undefined
  #lockedRound = -1
  #validValue: string | undefined
  #validRound = -1
  #rounds = new Map<number, RoundState>()
  #ids = new Map<string, Hash>()
  #verdicts = new Map<string, boolean>()
  #requested = new Set<string>()
  #proposers = new Map<number, string>()
  #signed = new Set<string>()
  #evidenceSeen = new Set<string>()
  #future: BftInput[] = []
  #ownProposal: SignedProposal | undefined
  #ownVotes: SignedVote[] = []
  /** HeightContext.signedUpTo of this height: positions signed in a life this machine does not remember. */
  #signedUpTo: { round: number; step: number } | undefined
  #out: BftAction[] = []

  constructor(config: BftConfig) {
    checkTimeoutParams(config.timeouts)
    this.#config = config
    this.#self = config.secretKey === undefined ? undefined : toHex(keyPairFromSecret(config.secretKey).publicKey)
  }

  get height(): number | undefined { return this.#ctx?.height }
  get round(): number { return this.#round }
  get step(): BftStep { return this.#step }
  get lockedRound(): number { return this.#lockedRound }
  get validRound(): number { return this.#validRound }

  /** Starts a height (after the previous one was decided and applied); replays buffered messages. */
  startHeight(ctx: HeightContext): BftAction[] {
    if (this.#ctx !== undefined && ctx.height <= this.#ctx.height) {
      throw new BftError('BAD_PARAMS', 'heights only move forward', { got: ctx.height, current: this.#ctx.height })
    }
    this.#ctx = ctx
    this.#lockedValue = undefined
    this.#lockedRound = -1
    this.#validValue = undefined
    this.#validRound = -1
    this.#rounds = new Map()
    this.#ids = new Map()
    this.#verdicts = new Map()
    this.#requested = new Set()
    this.#proposers = new Map()
    this.#signed = new Set()
    this.#evidenceSeen = new Set()
    this.#ownProposal = undefined
    this.#ownVotes = []
    this.#signedUpTo = ctx.signedUpTo
    this.#out = []
    this.#startRound(0) // line 10
    const buffered = this.#future
    this.#future = []
    for (const input of buffered) {
      try {
        this.#accept(input)
      } catch {
        // A buffered message that turns out invalid for this height is dropped.
      }
    }
    this.#progress()
    return this.#flush()
  }

  /**
   * Feeds one input. Throws BftError for a message that is invalid in itself (wrong chain, not a
   * validator, bad signature, wrong proposer, bad valid round): the driver REJECTs its sender.
   * Messages for other heights are ignored (older) or buffered (the next height).
   */
  handle(input: BftInput): BftAction[] {
    if (this.#ctx === undefined) throw new BftError('BAD_PARAMS', 'startHeight must be called first')
    this.#out = []
    this.#accept(input)
    this.#progress()
    return this.#flush()
  }

  /** Our proposal and votes of the current round (and a re-proposal's proof of lock): for peers that lost messages (computeGossipSnapshot). */
  gossipSnapshot(): ConsensusMessage[] {
    return computeGossipSnapshot({ proposal: this.#ownProposal, votes: this.#ownVotes }, this.#rounds, this.#round)
  }

  /** Every validator's first vote of each step of the current round (computeHeldVotes). */
  heldVotes(): SignedVote[] {
    return computeHeldVotes(this.#rounds, this.#round)
  }

  /** Whether `vote` (this height) would be held unchecked (isSettledVote): gossip does not relay it. */
  isSettledVote(vote: SignedVote): boolean {
    return this.#rounds.has(vote.body.round) && isSettledVote(tallyOf(this.#rounds.get(vote.body.round)!, vote.body.step), keyOf(vote.body.blockId), toHex(vote.body.validator), this.#ctx?.validators.totalStake ?? 0n)
  }

  /** Our own signed messages of an earlier round of this height (computeOwnMessagesForRound). */
  ownMessagesForRound(round: number): ConsensusMessage[] {
    return computeOwnMessagesForRound({ proposal: this.#ownProposal, votes: this.#ownVotes }, round)
  }

  // ---------- input handling ----------

  #accept(input: BftInput): void {
    const ctx = this.#ctx!
    switch (input.type) {
      case 'vote':
        if (this.#isForThisHeight(input, input.vote.body)) this.#addVote(input.vote)
        return
      case 'proposal':
        if (this.#isForThisHeight(input, input.proposal.body)) this.#addProposal(input.proposal)
        return
      case 'commit':
        if (!this.#isForThisHeight(input, input.commit)) return
        for (const sig of input.commit.signatures) {
          this.#addVote({ body: commitVoteBody(input.commit, sig.validator), signature: sig.signature })
        }
        return
      case 'verdict':
        if (input.height === ctx.height) this.#setVerdict(input.blockId, input.valid)
        return
      case 'timeout':
        return this.#onTimeout(input.step, input.height, input.round)
      case 'proposalValue': {
        // Our own fresh value (line 18): built by the driver, valid by construction.
        if (input.height !== ctx.height || input.round !== this.#round || this.#step !== 'propose') return
        if (this.#ownProposal !== undefined && this.#ownProposal.body.round === input.round) return
        this.#setVerdict(input.blockId, true)
        this.#propose(input.blockId, -1)
        return
      }
    }
  }

  /**
   * Checks a message's chain; true when it is for the current height. One for the next height is
   * buffered, others are ignored.
   */
  #isForThisHeight(input: BftInput, message: { chainId: string; height: number }): boolean {
    if (message.chainId !== this.#config.chainId) throw new BftError('WRONG_CHAIN', 'message is for another chain', { got: message.chainId, expected: this.#config.chainId })
    const height = this.#ctx!.height
    if (message.height === height + 1) {
      const cap = 64 + 8 * this.#ctx!.validators.validators.length
      if (this.#future.length < cap) this.#future.push(input)
    }
    return message.height === height
  }

  #stakeOf(address: string): bigint {
    const stake = this.#ctx!.validators.byAddress.get(address)
    if (stake === undefined || stake === 0n) throw new BftError('NOT_VALIDATOR', 'sender is not a staked validator', { validator: address })
    return stake
  }

  #roundState(round: number): RoundState {
    let rs = this.#rounds.get(round)
    if (rs === undefined) {
      rs = newRoundState()
      this.#rounds.set(round, rs)
    }
    return rs
  }

  #proposerOf(round: number): string {
    let p = this.#proposers.get(round)
    if (p === undefined) {
      p = toHex(computeRoundProposer(this.#ctx!.priorities, round))
      this.#proposers.set(round, p)
    }
    return p
  }

  #addVote(vote: SignedVote): void {
    const body = vote.body
    if (body.step !== VOTE_STEP.prevote && body.step !== VOTE_STEP.precommit) throw new BftError('BAD_STEP', 'unknown vote step', { got: body.step })
    const address = toHex(body.validator)
    const stake = this.#stakeOf(address)
    if (body.round > this.#round + ROUND_WINDOW) return
    const tally = tallyOf(this.#roundState(body.round), body.step)
    if (isSettledVote(tally, keyOf(body.blockId), address, this.#ctx!.validators.totalStake)) return void (tally.late.has(address) || tally.late.set(address, vote))
    if (!isVoteSignatureValid(vote)) throw new BftError('BAD_SIGNATURE', 'vote signature is not its validator\'s', { validator: address })
    const late = tally.late.get(address) // held for another value: with this vote an equivocation
    if (late !== undefined && tally.late.delete(address) && keyOf(late.body.blockId) !== keyOf(body.blockId) && isVoteSignatureValid(late)) this.#recordVote(late, address, stake)
    this.#recordVote(vote, address, stake)
  }

  #recordVote(vote: SignedVote, address: string, stake: bigint): void {
    const rs = this.#roundState(vote.body.round)
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

  #addProposal(proposal: SignedProposal): void {
    const body = proposal.body
    if (!Number.isInteger(body.validRound) || body.validRound < -1 || body.validRound >= body.round) {
      throw new BftError('BAD_VALID_ROUND', 'valid round must be −1 or below the proposal round', { got: body.validRound, round: body.round })
    }
    const address = toHex(body.proposer)
    const stake = this.#stakeOf(address)
    if (body.round > this.#round + ROUND_WINDOW) return
    const expected = this.#proposerOf(body.round)
    if (address !== expected) throw new BftError('WRONG_PROPOSER', 'not the proposer of this round', { round: body.round, got: address, expected })
    if (!isProposalSignatureValid(proposal)) throw new BftError('BAD_SIGNATURE', 'proposal signature is not its proposer\'s', { proposer: address })
    this.#recordProposal(proposal, address, stake)
  }

  #recordProposal(proposal: SignedProposal, address: string, stake: bigint): void {
    const rs = this.#roundState(proposal.body.round)
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
    this.#verdict(key) // ask the driver early: the block may need fetching
  }

  #reportEvidence(key: string, evidence: Evidence): void {
    if (this.#evidenceSeen.has(key)) return
    this.#evidenceSeen.add(key)
    this.#out.push({ type: 'evidence', evidence })
  }

  #setVerdict(blockId: Hash, valid: boolean): void {
    const key = toHex(blockId)
    this.#ids.set(key, blockId)
    this.#verdicts.set(key, valid)
  }

  /** The verdict for a value, asking the driver once if unknown. */
  #verdict(key: string): boolean | undefined {
    const v = this.#verdicts.get(key)
    if (v === undefined && !this.#requested.has(key)) {
      this.#requested.add(key)
      const blockId = this.#ids.get(key)
      if (blockId !== undefined) this.#out.push({ type: 'validate', height: this.#ctx!.height, blockId })
    }
    return v
  }

  // ---------- rules ----------

  #startRound(round: number): void {
    this.#round = round
    this.#step = 'propose'
    this.#roundState(round)
    const ctx = this.#ctx!
    if (this.#self !== undefined && this.#proposerOf(round) === this.#self && !this.#signedBefore(round, 0)) {
      // lines 14–19: re-propose the valid value with its proof of lock, else a fresh value.
      if (this.#validValue !== undefined && !this.#config.unsafeIgnoreLocks) {
        this.#propose(this.#ids.get(this.#validValue)!, this.#validRound)
      } else {
        this.#out.push({ type: 'buildProposal', height: ctx.height, round })
      }
    }
    this.#schedule('propose', round) // line 21
  }

  #propose(blockId: Hash, validRound: number): void {
    const ctx = this.#ctx!
    const secretKey = this.#config.secretKey!
    const signKey = `p/${this.#round}`
    if (this.#signed.has(signKey) || this.#signedBefore(this.#round, 0)) return // never two proposals for one round
    this.#signed.add(signKey)
    const proposal = signProposal({ chainId: this.#config.chainId, height: ctx.height, round: this.#round, blockId, validRound, proposer: this.#addressBytes() }, secretKey)
    this.#ownProposal = proposal
    this.#recordProposal(proposal, this.#self!, this.#stakeOf(this.#self!))
    this.#out.push({ type: 'broadcast', message: { type: 'proposal', proposal } })
  }

  /** Signs and sends our vote of this step (an observer only moves on): the step ends with it. */
  #vote(step: VoteStep, blockKey: string): void {
    this.#step = step === VOTE_STEP.prevote ? 'prevote' : 'precommit'
    const secretKey = this.#config.secretKey
    if (secretKey === undefined || this.#self === undefined) return
    const stake = this.#ctx!.validators.byAddress.get(this.#self)
    if (stake === undefined || stake === 0n) return // not (or no longer) a validator: observe only
    const signKey = `v/${this.#round}/${step}`
    if (this.#signed.has(signKey) || this.#signedBefore(this.#round, step)) return // the in-memory double-sign guard; the one on disk
    this.#signed.add(signKey)
    const blockId = blockKey === NIL ? undefined : this.#ids.get(blockKey)
    const vote = signVote({ chainId: this.#config.chainId, step, height: this.#ctx!.height, round: this.#round, blockId, validator: this.#addressBytes() }, secretKey)
    this.#ownVotes.push(vote)
    this.#recordVote(vote, this.#self, stake)
    this.#out.push({ type: 'broadcast', message: { type: 'vote', vote } })
  }

  /** Whether a position of this height was signed before a restart (or lies below one that was): never signed again. */
  #signedBefore(round: number, step: number): boolean {
    const upTo = this.#signedUpTo
    return upTo !== undefined && (round < upTo.round || (round === upTo.round && step <= upTo.step))
  }

  #addressBytes(): Uint8Array {
    return this.#ctx!.validators.validators.find((v) => toHex(v.address) === this.#self)!.address
  }

  #schedule(step: TimeoutStep, round: number): void {
    this.#out.push({ type: 'scheduleTimeout', step, height: this.#ctx!.height, round, delayMs: computeTimeout(this.#config.timeouts, step, round) })
  }

  #onTimeout(step: TimeoutStep, height: number, round: number): void {
    if (height !== this.#ctx!.height || round !== this.#round || this.#step === 'decided') return
    if (step === 'propose' && this.#step === 'propose') { // line 57
      this.#vote(VOTE_STEP.prevote, NIL)
    } else if (step === 'prevote' && this.#step === 'prevote') { // line 61
      this.#vote(VOTE_STEP.precommit, NIL)
    } else if (step === 'precommit') { // line 65
      this.#startRound(round + 1)
    }
  }

  /** Applies every rule whose condition holds, until none does. */
  #progress(): void {
    const total = this.#ctx!.validators.totalStake
    const verdict = (key: string): boolean | undefined => this.#verdict(key)
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.#step === 'decided') return
      const decision = findDecision(this.#rounds, total, verdict) // line 49
      if (decision !== undefined) return this.#decide(decision.round, decision.key)
      const skipTo = roundToSkipTo(this.#rounds, this.#round, total) // line 55
      if (skipTo > this.#round) {
        this.#startRound(skipTo)
        continue
      }
      const rs = this.#roundState(this.#round)
      const rule = nextRoundRule({
        step: this.#step,
        rs,
        rounds: this.#rounds,
        totalStake: total,
        lockedRound: this.#lockedRound,
        lockedValue: this.#lockedValue,
        unsafeIgnoreLocks: this.#config.unsafeIgnoreLocks === true,
        verdict,
      })
      if (rule === undefined) return
      this.#applyRoundRule(rule, rs)
    }
  }

  /** Does what a rule of the current round (lines 22–48) says. */
  #applyRoundRule(rule: RoundRule, rs: RoundState): void {
    const round = this.#round
    switch (rule.rule) {
      case 'prevote':
        this.#vote(VOTE_STEP.prevote, rule.value)
        return
      case 'prevoteTimeout':
        rs.prevoteTimeoutSet = true
        this.#schedule('prevote', round)
        return
      case 'proofOfLock':
        rs.polSeen = true
        if (this.#step === 'prevote') {
          this.#lockedValue = rule.value
          this.#lockedRound = round
          this.#vote(VOTE_STEP.precommit, rule.value)
        }
        this.#validValue = rule.value
        this.#validRound = round
        return
      case 'precommitNil':
        this.#vote(VOTE_STEP.precommit, NIL)
        return
      case 'precommitTimeout':
        rs.precommitTimeoutSet = true
        this.#schedule('precommit', round)
        return
    }
  }

  #decide(round: number, key: string): void {
    const height = this.#ctx!.height
    const blockId = this.#ids.get(key)!
    const commit = commitOf(this.#config.chainId, height, round, blockId, this.#rounds.get(round)!.precommits, key)
    this.#step = 'decided'
    this.#out.push({ type: 'decide', height, round, blockId, commit })
  }

  #flush(): BftAction[] {
    const out = this.#out
    this.#out = []
    return out
  }
}
