import type { Hash } from '../../blocks/schema.ts'
import { keyPairFromSecret, toHex } from '../../src/crypto/index.ts'
import { computeGossipSnapshot, computeHeldVotes, computeOwnMessagesForRound } from './catchUpMessages.ts'
import { BftError } from './errors.ts'
import { HeightMessages } from './HeightMessages.ts'
import type { BftAction, BftConfig, BftInput, BftStep, HeightContext } from './machineTypes.ts'
import { commitVoteBody, type ConsensusMessage, type SignedProposal, type SignedVote, signProposal, signVote, VOTE_STEP, type VoteStep } from './messages.ts'
import { findDecision, nextRoundRule, type RoundRule, roundToSkipTo } from './roundRules.ts'
import { checkTimeoutParams, computeTimeout, type TimeoutStep } from './timeouts.ts'
import { commitOf, NIL, type RoundState } from './voteTally.ts'

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
 *
 * What was heard at the height (proposals and votes checked and tallied, ids, verdicts, evidence)
 * lives in HeightMessages; this class holds our position (round, step, locks) and the rules.
 */

/** The rounds before the first height starts: none. */
const NO_ROUNDS: ReadonlyMap<number, RoundState> = new Map()

export class BftMachine {
  readonly #config: BftConfig
  readonly #self: string | undefined
  /** What was heard at the current height; undefined before startHeight. */
  #h: HeightMessages | undefined
  #round = 0
  #step: BftStep = 'propose'
  #lockedValue: string | undefined
  #lockedRound = -1
  #validValue: string | undefined
  #validRound = -1
  #signed = new Set<string>()
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

  get height(): number | undefined { return this.#h?.ctx.height }
  get round(): number { return this.#round }
  get step(): BftStep { return this.#step }
  get lockedRound(): number { return this.#lockedRound }
  get validRound(): number { return this.#validRound }

  /** Starts a height (after the previous one was decided and applied); replays buffered messages. */
  startHeight(ctx: HeightContext): BftAction[] {
    if (this.#h !== undefined && ctx.height <= this.#h.ctx.height) {
      throw new BftError('BAD_PARAMS', 'heights only move forward', { got: ctx.height, current: this.#h.ctx.height })
    }
    this.#h = new HeightMessages(ctx, (action) => this.#out.push(action))
    this.#lockedValue = undefined
    this.#lockedRound = -1
    this.#validValue = undefined
    this.#validRound = -1
    this.#signed = new Set()
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
    if (this.#h === undefined) throw new BftError('BAD_PARAMS', 'startHeight must be called first')
    this.#out = []
    this.#accept(input)
    this.#progress()
    return this.#flush()
  }

  /** Our proposal and votes of the current round (and a re-proposal's proof of lock): for peers that lost messages (computeGossipSnapshot). */
  gossipSnapshot(): ConsensusMessage[] {
    return computeGossipSnapshot({ proposal: this.#ownProposal, votes: this.#ownVotes }, this.#h?.rounds ?? NO_ROUNDS, this.#round)
  }

  /** Every validator's first vote of each step of the current round (computeHeldVotes). */
  heldVotes(): SignedVote[] {
    return computeHeldVotes(this.#h?.rounds ?? NO_ROUNDS, this.#round)
  }

  /** Whether `vote` (this height) would be held unchecked (isSettledVote): gossip does not relay it. */
  isSettledVote(vote: SignedVote): boolean {
    return this.#h?.isSettledVote(vote) ?? false
  }

  /** Our own signed messages of an earlier round of this height (computeOwnMessagesForRound). */
  ownMessagesForRound(round: number): ConsensusMessage[] {
    return computeOwnMessagesForRound({ proposal: this.#ownProposal, votes: this.#ownVotes }, round)
  }

  // ---------- input handling ----------

  #accept(input: BftInput): void {
    const h = this.#h!
    const ctx = h.ctx
    switch (input.type) {
      case 'vote':
        if (this.#isForThisHeight(input, input.vote.body)) h.addVote(input.vote, this.#round)
        return
      case 'proposal':
        if (this.#isForThisHeight(input, input.proposal.body)) h.addProposal(input.proposal, this.#round)
        return
      case 'commit':
        if (!this.#isForThisHeight(input, input.commit)) return
        for (const sig of input.commit.signatures) {
          h.addVote({ body: commitVoteBody(input.commit, sig.validator), signature: sig.signature }, this.#round)
        }
        return
      case 'verdict':
        if (input.height === ctx.height) h.setVerdict(input.blockId, input.valid)
        return
      case 'timeout':
        return this.#onTimeout(input.step, input.height, input.round)
      case 'proposalValue': {
        // Our own fresh value (line 18): built by the driver, valid by construction.
        if (input.height !== ctx.height || input.round !== this.#round || this.#step !== 'propose') return
        if (this.#ownProposal !== undefined && this.#ownProposal.body.round === input.round) return
        h.setVerdict(input.blockId, true)
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
    const ctx = this.#h!.ctx
    const height = ctx.height
    if (message.height === height + 1) {
      const cap = 64 + 8 * ctx.validators.validators.length
      if (this.#future.length < cap) this.#future.push(input)
    }
    return message.height === height
  }


  // ---------- rules ----------

  #startRound(round: number): void {
    this.#round = round
    this.#step = 'propose'
    const h = this.#h!
    h.roundState(round)
    if (this.#self !== undefined && h.proposerOf(round) === this.#self && !this.#signedBefore(round, 0)) {
      // lines 14–19: re-propose the valid value with its proof of lock, else a fresh value.
      if (this.#validValue !== undefined && !this.#config.unsafeIgnoreLocks) {
        this.#propose(h.idOf(this.#validValue)!, this.#validRound)
      } else {
        this.#out.push({ type: 'buildProposal', height: h.ctx.height, round })
      }
    }
    this.#schedule('propose', round) // line 21
  }

  #propose(blockId: Hash, validRound: number): void {
    const h = this.#h!
    const secretKey = this.#config.secretKey!
    const signKey = `p/${this.#round}`
    if (this.#signed.has(signKey) || this.#signedBefore(this.#round, 0)) return // never two proposals for one round
    this.#signed.add(signKey)
    const proposal = signProposal({ chainId: this.#config.chainId, height: h.ctx.height, round: this.#round, blockId, validRound, proposer: this.#addressBytes() }, secretKey)
    this.#ownProposal = proposal
    h.recordProposal(proposal, this.#self!, h.stakeOf(this.#self!))
    this.#out.push({ type: 'broadcast', message: { type: 'proposal', proposal } })
  }

  /** Signs and sends our vote of this step (an observer only moves on): the step ends with it. */
  #vote(step: VoteStep, blockKey: string): void {
    this.#step = step === VOTE_STEP.prevote ? 'prevote' : 'precommit'
    const secretKey = this.#config.secretKey
    if (secretKey === undefined || this.#self === undefined) return
    const h = this.#h!
    const stake = h.ctx.validators.byAddress.get(this.#self)
    if (stake === undefined || stake === 0n) return // not (or no longer) a validator: observe only
    const signKey = `v/${this.#round}/${step}`
    if (this.#signed.has(signKey) || this.#signedBefore(this.#round, step)) return // the in-memory double-sign guard; the one on disk
    this.#signed.add(signKey)
    const blockId = blockKey === NIL ? undefined : h.idOf(blockKey)
    const vote = signVote({ chainId: this.#config.chainId, step, height: h.ctx.height, round: this.#round, blockId, validator: this.#addressBytes() }, secretKey)
    this.#ownVotes.push(vote)
    h.recordVote(vote, this.#self, stake)
    this.#out.push({ type: 'broadcast', message: { type: 'vote', vote } })
  }

  /** Whether a position of this height was signed before a restart (or lies below one that was): never signed again. */
  #signedBefore(round: number, step: number): boolean {
    const upTo = this.#signedUpTo
    return upTo !== undefined && (round < upTo.round || (round === upTo.round && step <= upTo.step))
  }

  #addressBytes(): Uint8Array {
    return this.#h!.ctx.validators.validators.find((v) => toHex(v.address) === this.#self)!.address
  }

  #schedule(step: TimeoutStep, round: number): void {
    this.#out.push({ type: 'scheduleTimeout', step, height: this.#h!.ctx.height, round, delayMs: computeTimeout(this.#config.timeouts, step, round) })
  }

  #onTimeout(step: TimeoutStep, height: number, round: number): void {
    if (height !== this.#h!.ctx.height || round !== this.#round || this.#step === 'decided') return
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
    const h = this.#h!
    const total = h.ctx.validators.totalStake
    const verdict = (key: string): boolean | undefined => h.verdict(key)
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.#step === 'decided') return
      const decision = findDecision(h.rounds, total, verdict) // line 49
      if (decision !== undefined) return this.#decide(decision.round, decision.key)
      const skipTo = roundToSkipTo(h.rounds, this.#round, total) // line 55
      if (skipTo > this.#round) {
        this.#startRound(skipTo)
        continue
      }
      const rs = h.roundState(this.#round)
      const rule = nextRoundRule({
        step: this.#step,
        rs,
        rounds: h.rounds,
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
    const h = this.#h!
    const height = h.ctx.height
    const blockId = h.idOf(key)!
    const commit = commitOf(this.#config.chainId, height, round, blockId, h.rounds.get(round)!.precommits, key)
    this.#step = 'decided'
    this.#out.push({ type: 'decide', height, round, blockId, commit })
  }

  #flush(): BftAction[] {
    const out = this.#out
    this.#out = []
    return out
  }
}
