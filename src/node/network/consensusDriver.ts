import { encode } from '../../../blocks/codec.ts'
import type { Block, Hash } from '../../../blocks/schema.ts'
import { BftError } from '../../../consensus/bft/errors.ts'
import type { BftAction, BftInput } from '../../../consensus/bft/machineTypes.ts'
import { type Commit, CommittedBlock, ConsensusMessage, type Evidence } from '../../../consensus/bft/messages.ts'
import { BftMachine } from '../../../consensus/bft/stateMachine.ts'
import type { TimeoutParams } from '../../../consensus/bft/timeouts.ts'
import type { Chain, ImportedBlock, OfferedWrites, SlowQueueJob } from '../../chain/chain.ts'
import type { EvidenceSink } from '../../chain/evidencePool.ts'
import { equalBytes, type KeyPair, toHex } from '../../crypto/index.ts'
import type { ValidationResult } from '../../net/index.ts'
import type { Logger } from '../logger.ts'
import type { SignGuard } from '../signGuard.ts'
import { HeightTimers } from './HeightTimers.ts'
import { LostVote } from './LostVote.ts'
import { OwnMessages } from './OwnMessages.ts'
import { ProposalBlocks } from './ProposalBlocks.ts'
import { ProposalScheduler } from './ProposalScheduler.ts'
import { computeRoundStateAnswer } from './roundStateExchange.ts'

/**
 * The consensus side of a networked node: runs the pure BFT machine (consensus/bft) for real.
 * Inputs: gossiped proposals, votes, commits and evidence; blocks (proposal values); timers;
 * verdicts of `Chain.checkBlock`. Outputs: our signed messages (through the on-disk sign guard
 * first), timers, block building when we propose, and decisions, which are applied with their
 * commit (`Chain.commitBlock`): a block is applied only once it is final, so nothing is ever
 * reverted. When the head moves (our decision or range sync), the next height starts.
 *
 * Every input to the machine and every chain mutation runs under one lock (`locked`).
 */
export interface ConsensusDriverOpts {
  /** Present on validators: signs proposals and votes. Absent: the node follows and commits as an observer. */
  validatorKey?: KeyPair | undefined
  /** Required with a validator key: the double-sign state on disk. */
  signGuard?: SignGuard | undefined
  now: () => number
  timeouts: TimeoutParams
  /**
   * TEST ONLY (refused unless the genesis is a test genesis, see node.ts): every vote for a block
   * is sent together with a conflicting vote for nil, so peers see an equivocation.
   */
  twin?: boolean
}

export interface ConsensusDriverModules {
  chain: Chain
  log: Logger
  publish(topic: 'blocks' | 'consensus' | 'commits', data: Uint8Array): void
  /** A message from a height ahead of ours: ask the neighbour that sent it for the range. */
  requestSync(peer: string): void
  /** The commit of our next height arrived before (or without) its block: fetch that block with its commit. */
  requestCommittedBlock(peer: string, height: number): void
  /** Called after a block was committed (final) at `height`. */
  onFinalized?: ((height: number) => void | Promise<void>) | undefined
  /** Where detected and gossiped equivocations go (the chain checks them against state and holds them for a block). */
  evidence: Pick<EvidenceSink, 'add'>
}

/**
 * Added to the propose timeout of a height whose block is due to carry an audit: its proposer
 * waits for the hosts' answers (bounded at 2 s, storageCoordinator.ts) and builds and checks the
 * audit entry, which under load took longer than the plain timeout, so every round was lost
 * until the timeout had grown enough (a 30 s gap at load 25). Longer timeouts never touch safety.
 */
const AUDIT_PROPOSE_EXTRA_MS = 3_000

export class ConsensusDriver {
  readonly #chain: Chain
  readonly #m: ConsensusDriverModules
  readonly #log: Logger
  readonly #opts: ConsensusDriverOpts
  readonly #machine: BftMachine
  /** Proposal values of the current and next height, what awaits its block, the rounds ids were proposed in. */
  readonly #blocks: ProposalBlocks
  readonly #timers = new HeightTimers()
  readonly #scheduler: ProposalScheduler
  readonly #own: OwnMessages
  /** Whether the current height's block is due to carry an audit (its propose timeout is longer). */
  #auditDue = false
  /** The commit of the last height we decided or synced: re-served so a peer one height behind can catch up. */
  #lastCommit: Commit | undefined
  /**
   * A committed block for the height after the machine's (a follower's feed runs ahead of its
   * commits under load), taken up when the machine gets there instead of a range sync, which
   * would fetch it again and run it without its offered write set.
   */
  #nextCommitted: { committed: CommittedBlock; from: string | undefined; writes: OfferedWrites | undefined } | undefined
  /** The height whose committed block this node holds (its decision under way): a next one is then only kept, not synced. */
  #committedHeldAt: number | undefined
  /** After a restart inside a height: our last vote, which may never have left. */
  readonly #lostVote: LostVote
  #lock: Promise<unknown> = Promise.resolve()
  #started = false
  #stopped = false
  readonly #onBlock = (imported: ImportedBlock): void => this.#blockApplied(imported)
  readonly #onSlowJob = (job: SlowQueueJob): void => this.#log.info(job, 'slow chain queue job')

  constructor(opts: ConsensusDriverOpts, modules: ConsensusDriverModules) {
    if (opts.validatorKey !== undefined && opts.signGuard === undefined) throw new BftError('BAD_PARAMS', 'a validator needs its sign guard (double-sign state on disk)', { field: 'signGuard' })
    this.#chain = modules.chain
    this.#m = modules
    this.#log = modules.log
    this.#opts = opts
    this.#machine = new BftMachine({ chainId: modules.chain.genesis.chainId, secretKey: opts.validatorKey?.secretKey, timeouts: opts.timeouts })
    this.#lostVote = new LostVote(opts.validatorKey, modules.chain.genesis.chainId, modules.log)
    this.#blocks = new ProposalBlocks({ chain: modules.chain, onAwaited: (block, blockId) => this.#validate(block, blockId) })
    this.#scheduler = new ProposalScheduler({ chain: modules.chain, log: modules.log, now: opts.now })
    this.#own = new OwnMessages({
      log: modules.log,
      publish: (topic, data) => modules.publish(topic, data),
      signGuard: opts.signGuard,
      validatorKey: opts.validatorKey,
      heldBlockBytes: (blockId) => this.#blocks.get(blockId)?.bytes,
      isStopped: () => this.#stopped,
      twin: opts.twin === true,
    })
  }

  /** Starts the height after the head and follows the chain's commits. */
  async start(): Promise<void> {
    this.#chain.on('block', this.#onBlock)
    this.#chain.on('slowJob', this.#onSlowJob)
    const last = this.#chain.store.head.height
    this.#lastCommit = await this.#chain.store.getCommit(last)
    this.#started = true
    await this.locked(async () => this.#startNextHeight())
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#timers.clear()
    this.#scheduler.wakeAll()
    this.#chain.off('block', this.#onBlock)
    this.#chain.off('slowJob', this.#onSlowJob)
    await this.#lock.catch(() => undefined)
  }

  /** Runs `f` under the driver lock (after everything queued before it). */
  locked<T>(f: () => Promise<T> | T): Promise<T> {
    const run = this.#lock.then(f, f)
    this.#lock = run.catch(() => undefined)
    return run
  }

  get height(): number | undefined {
    return this.#machine.height
  }

  get round(): number {
    return this.#machine.round
  }

  validatorCount(): number {
    return this.#chain.validators().length
  }

  /**
   * Our own messages of this height (every round so far) and the last commit: what a peer that
   * lost gossip needs to catch up (served by round-state exchange, since gossipsub never
   * re-sends a message it has seen).
   */
  roundState(): ConsensusMessage[] {
    if (this.#machine.height === undefined) return this.#lastCommit === undefined ? [] : [{ type: 'commit', commit: this.#lastCommit }]
    const own: ConsensusMessage[] = []
    for (let r = 0; r < this.#machine.round; r++) own.push(...this.#machine.ownMessagesForRound(r))
    own.push(...this.#machine.gossipSnapshot())
    return computeRoundStateAnswer({ lastCommit: this.#lastCommit, own, held: this.#machine.heldVotes(), self: this.#opts.validatorKey?.publicKey, published: this.#own.published })
  }

  // --- inputs ---

  /**
   * A consensus message from gossip or round-state exchange (`from` = the neighbour). 'accept'
   * when it was for this height (or buffered for the next), 'ignore' otherwise; throws the
   * BftError that says why it is invalid (REJECT).
   */
  handleMessage(message: ConsensusMessage, from: string | undefined): Promise<ValidationResult> {
    return this.locked(() => this.#handleMessage(message, from))
  }

  /**
   * A commit from the `commits` topic with the block it decides (CommittedBlock): nodes off the
   * `blocks` topic learn each block from it in one message, held once the commit proves it
   * (ProposalBlocks.holdCommitted). `writes`: the block's write set as the sender offered it (commit feed).
   */
  handleCommittedBlock(committed: CommittedBlock, from: string | undefined, writes?: OfferedWrites): Promise<ValidationResult> {
    return this.locked(() => this.#handleMessage({ type: 'commit', commit: committed.commit }, from, committed.block, writes))
  }

  #handleMessage(message: ConsensusMessage, from: string | undefined, carriedBlock?: Uint8Array, writes?: OfferedWrites): ValidationResult {
    const height = this.#machine.height
    if (height === undefined || this.#stopped) return 'ignore'
    const at = message.type === 'vote' ? message.vote.body.height : message.type === 'proposal' ? message.proposal.body.height : message.commit.height
    if (at < height) return 'ignore'
    if (message.type === 'commit' && at === height + 1 && carriedBlock !== undefined && (this.#nextCommitted === undefined || (writes !== undefined && this.#nextCommitted.writes === undefined))) {
      // Checked when its height starts (its validator set is known then); one kept, an offer of writes preferred.
      this.#nextCommitted = { committed: { block: carriedBlock, commit: message.commit }, from, writes }
      // Without this height's block in hand (its commit missed), range sync brings it, as before.
      if (this.#committedHeldAt !== height && from !== undefined) this.#m.requestSync(from)
      return 'accept'
    }
    if (at > height + 1 || (message.type === 'commit' && at > height)) {
      // Peers are ahead: range sync brings the committed blocks.
      if (from !== undefined) this.#m.requestSync(from)
      return at > height + 1 ? 'ignore' : 'accept'
    }
    if (message.type === 'commit') {
      this.#input({ type: 'commit', commit: message.commit })
      const held = carriedBlock !== undefined ? this.#blocks.holdCommitted(message.commit, carriedBlock, writes) : this.#blocks.has(message.commit.blockId)
      if (held) this.#committedHeldAt = at
      else if (from !== undefined) this.#m.requestCommittedBlock(from, at)
      return 'accept'
    }
    if (message.type === 'vote') {
      const settled = at === height && this.#machine.isSettledVote(message.vote) // held unchecked (may be forged): not relayed
      this.#input({ type: 'vote', vote: message.vote })
      if (this.#lostVote.isLostIn(message.vote.body.round)) this.#recoverLastVote(message.vote.body.blockId)
      return settled ? 'ignore' : 'accept'
    }
    // Recorded before the machine sees it (it may ask for the verdict at once), undone if it refuses the proposal.
    const body = message.proposal.body
    if (this.#lostVote.isLostIn(body.round)) this.#recoverLastVote(body.blockId)
    const undo = this.#blocks.noteProposed(body.blockId, body.round)
    try {
      this.#input({ type: 'proposal', proposal: message.proposal })
    } catch (err) {
      undo()
      throw err
    }
    return 'accept'
  }

  /**
   * A gossiped block: a proposal value. Checked cheaply and held (ProposalBlocks.holdGossiped);
   * fully checked (`Chain.checkBlock`) when the machine asks for its verdict.
   */
  processBlock(block: Block, bytes: Uint8Array, from?: string): Promise<ValidationResult> {
    return this.locked(async () => {
      const height = this.#machine.height
      if (height === undefined) return 'ignore'
      const h = block.header.height
      if (h < height) return 'ignore'
      if (h > height + 1) {
        if (from !== undefined) this.#m.requestSync(from)
        return 'ignore'
      }
      return this.#blocks.holdGossiped(block, bytes, height)
    })
  }

  // --- the machine ---

  #input(input: BftInput): void {
    this.#perform(this.#machine.handle(input))
  }

  #startNextHeight(): void {
    if (this.#stopped) return
    const next = this.#chain.store.head.height + 1
    const current = this.#machine.height
    if (current !== undefined && current >= next) return
    this.#blocks.startHeight(next)
    this.#timers.clear()
    this.#scheduler.wakeAll()
    // Every validator gathers the next block's audit answers now, whoever proposes it.
    const nextSlot = Math.max(this.#chain.currentSlot(this.#opts.now()), this.#chain.store.head.header.slot + 1)
    this.#auditDue = this.#chain.isAuditDue(nextSlot)
    // After a restart inside this height: sign nothing at or below the guard's position, and look for our last vote.
    const signed = this.#lostVote.startHeight(this.#opts.signGuard?.last, next)
    const actions = this.#machine.startHeight({ height: next, validators: this.#chain.validatorSet(), priorities: this.#chain.priorities(), ...signed })
    this.#chain.prefetchAuditAnswers(nextSlot)
    // The round-0 proposer asks for storage acks now, so its block carries the answers without waiting for them.
    const key = this.#opts.validatorKey
    if (key !== undefined && equalBytes(this.#chain.proposerOf(0), key.publicKey)) this.#chain.prefetchStorageAcks()
    this.#log.debug({ height: next, proposer: toHex(this.#chain.proposerOf(0)) }, 'height started')
    this.#perform(actions)
    this.#recoverLastVote(undefined)
    this.#takeNextCommitted(next)
  }

  /** The committed block kept for `height` (#nextCommitted), now judged; one that fails leaves the block to range sync. */
  #takeNextCommitted(height: number): void {
    const kept = this.#nextCommitted
    if (kept === undefined || kept.committed.commit.height > height) return
    this.#nextCommitted = undefined
    if (kept.committed.commit.height < height) return
    try {
      this.#handleMessage({ type: 'commit', commit: kept.committed.commit }, kept.from, kept.committed.block, kept.writes)
    } catch (err) {
      this.#log.debug({ height, err: String(err) }, 'kept committed block refused')
      if (kept.from !== undefined) this.#m.requestSync(kept.from)
    }
  }

  /** Counts and sends again our vote lost in a restart, if it named `candidate` (LostVote). */
  #recoverLastVote(candidate: Hash | undefined): void {
    const vote = this.#lostVote.find(this.#machine.height, candidate)
    if (vote === undefined) return
    this.#input({ type: 'vote', vote })
    this.#own.send([{ type: 'vote', vote }])
  }

  #perform(actions: BftAction[]): void {
    // One step's messages (a proposal and its prevote) go through the sign guard together: one synced write.
    const broadcasts = actions.flatMap((a) => (a.type === 'broadcast' ? [a.message] : []))
    if (broadcasts.length > 0) this.#own.send(broadcasts)
    for (const action of actions) {
      switch (action.type) {
        case 'broadcast':
          break
        case 'scheduleTimeout':
          this.#timers.set(action.step === 'propose' && this.#auditDue ? action.delayMs + AUDIT_PROPOSE_EXTRA_MS : action.delayMs, () => void this.locked(() => {
            if (this.#machine.height === action.height) this.#input({ type: 'timeout', step: action.step, height: action.height, round: action.round })
          }).catch((err: unknown) => this.#log.warn({ err: String(err) }, 'timeout handling failed')))
          break
        case 'validate': {
          const held = this.#blocks.request(action.blockId)
          if (held !== undefined) this.#validate(held.block, action.blockId)
          break
        }
        case 'buildProposal':
          void this.#buildProposal(action.height, action.round)
          break
        case 'decide':
          void this.locked(() => this.#decide(action.height, action.blockId, action.commit))
          break
        case 'evidence':
          this.#submitEvidence(action.evidence)
          break
      }
    }
  }

  /** Checks a proposal value against the head (off the lock: the chain serializes itself); feeds the verdict back. */
  #validate(block: Block, blockId: Hash): void {
    const height = block.header.height
    // A block built for a later round than any it was proposed in (or than ours) is refused (verifyBlockProposer).
    const round = this.#blocks.roundFor(blockId, this.#machine.round)
    // A node without a validator key casts no vote: it applies a block only with a commit, which
    // vouches for its signatures and lets an offered write set stand for its transition.
    const forCommitOnly = this.#opts.validatorKey === undefined
    void this.#chain.checkBlock(block, round, { forCommitOnly, writes: forCommitOnly ? this.#blocks.get(blockId)?.writes : undefined }).then(
      () => true,
      (err: unknown) => {
        this.#log.info({ height, hash: toHex(blockId), err: err instanceof Error ? err.message : String(err) }, 'proposal invalid')
        return false
      },
    ).then((valid) => this.locked(() => {
      if (this.#machine.height === height) this.#input({ type: 'verdict', height, blockId, valid })
    }))
  }

  /** Our turn: build when the block is due (ProposalScheduler.buildWhenDue), hold it, hand its id to the machine (the block leaves with the proposal: OwnMessages). */
  async #buildProposal(height: number, round: number): Promise<void> {
    try {
      const built = await this.#scheduler.buildWhenDue(round, () => this.#machine.height === height, () => this.#stopped)
      if (built === undefined || this.#stopped) return
      await this.locked(() => {
        if (this.#machine.height !== height) return
        this.#blocks.holdOwn(built.hash, { block: built.block, bytes: built.bytes }, round)
        this.#input({ type: 'proposalValue', height, round, blockId: built.hash })
      })
    } catch (err) {
      this.#log.error({ err, height, round }, 'building a proposal failed')
    }
  }

  async #decide(height: number, blockId: Hash, commit: Commit): Promise<void> {
    const held = this.#blocks.get(blockId)
    if (held === undefined || this.#chain.store.head.height + 1 !== height) return
    const key = this.#opts.validatorKey
    const ourRound = key !== undefined && equalBytes(this.#chain.proposerOf(commit.round), key.publicKey)
    try {
      await this.#chain.commitBlock(held.block, commit, held.bytes, held.writes)
    } catch (err) {
      this.#log.error({ err, height, hash: toHex(blockId) }, 'decided block could not be applied')
      return
    }
    // Rounds lost before a decision are what stall the chain under load: visible at info level.
    if (commit.round > 0) this.#log.info({ height, round: commit.round, kind: held.block.entries[0]?.type ?? 'empty' }, 'decided after lost rounds')
    // Nodes without a vote learn each block from one CommittedBlock on `commits`, a topic validators
    // are not on: the round's proposer publishes it once applied; a node without a vote re-publishes
    // (a no-op when it came by gossip). Had the proposer crashed first, followers catch up from the
    // next height's commit (range sync) or their stalled round-state pull.
    if (key === undefined || ourRound) {
      // The commit carries our own precommit, counted here the moment the guard admitted it: it
      // leaves only once that position is on disk, like every message we sign (OwnMessages.send).
      const durable = await this.#opts.signGuard?.whenDurable().then(() => true, () => false)
      if (durable === false || this.#stopped) return
      this.#m.publish('commits', encode(CommittedBlock, { block: held.bytes, commit }))
    }
  }

  /** Every applied block (ours, or range-synced with its commit) moves consensus to the next height. */
  #blockApplied(imported: ImportedBlock): void {
    if (!this.#started) return
    if (imported.commit !== undefined) this.#lastCommit = imported.commit
    void this.locked(async () => {
      this.#startNextHeight()
      try {
        await this.#m.onFinalized?.(imported.block.header.height)
      } catch (err) {
        this.#log.warn({ err: String(err) }, 'finalized listener failed')
      }
    })
  }

  // --- signing and evidence ---

  /** Evidence our machine detected: to the sink, which checks it, holds it for a block and gossips it on the evidence topic. */
  #submitEvidence(evidence: Evidence): void {
    if (!this.#m.evidence.add(evidence)) return
    const offender = evidence.type === 'duplicateVote' ? evidence.first.body.validator : evidence.first.body.proposer
    this.#log.warn({ type: evidence.type, offender: toHex(offender), height: evidence.first.body.height }, 'equivocation detected')
  }
}
