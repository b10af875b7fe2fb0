import { encode } from '../../blocks/codec.ts'
import { BlockError } from '../../blocks/errors.ts'
import { Block, type Hash, Offence, type SignedTx } from '../../blocks/schema.ts'
import type { ConsensusMessage, Evidence } from '../../consensus/bft/messages.ts'
import type { TimeoutParams } from '../../consensus/bft/timeouts.ts'
import type { Chain, ImportedBlock } from '../chain/chain.ts'
import { type EvidenceSink, toOffence } from '../chain/evidencePool.ts'
import type { KeyPair } from '../crypto/index.ts'
import { type GossipTopic, gossipVerdictOf, NetError, type NetNode, PeerRateLimit, type ValidationResult } from '../net/index.ts'
import type { Logger } from './logger.ts'
import { admitAndGossip } from './network/admitAndGossip.ts'
import { CommitFeedClient, CommitFeedServer } from './network/commitFeed.ts'
import { ConsensusDriver } from './network/consensusDriver.ts'
import { createLinkReceive } from './network/createLinkReceive.ts'
import type { LinkTraffic } from './network/fastLinks.ts'
import { createGossipHandlers, type GossipHandlerModules, type GossipHandlers, runFeedBlockHandler, runGossipHandler, subscribeGossipHandlers, subscribeGossipTopic } from './network/gossipHandlers.ts'
import { connectedPeers, exchangePeers, servePeerExchange } from './network/peerExchange.ts'
import { RangeSync } from './network/rangeSync.ts'
import { exchangeRoundState, serveRoundState } from './network/roundStateExchange.ts'
import { TxRefusalBudget } from './network/TxRefusalBudget.ts'
import { ValidatorLinks } from './network/validatorLinks.ts'
import type { SignGuard } from './signGuard.ts'

/**
 * A node on the network, composed of one part per job (src/node/network/): the gossip handler
 * table, the consensus driver (BFT: proposals, votes, commits), range sync of committed blocks,
 * round-state exchange and peer exchange, around one started `Chain` and one `NetNode`. This
 * class wires them and owns the timers that poll peers.
 */
export interface ValidatorNetworkOpts {
  /** Present on validators: signs proposals and votes. */
  validatorKey?: KeyPair
  /** Required with a validator key: the double-sign state on disk. */
  signGuard?: SignGuard
  timeouts: TimeoutParams
  /** TEST ONLY: equivocate (see ConsensusDriverOpts.twin). */
  twin?: boolean
  /** Period of the status poll that notices being behind. Default 3 s. */
  syncIntervalMs?: number
  /** Period of the stall check that pulls each peer's round state (catch-up of lost consensus messages). Default two slots, at least 1 s. */
  roundStateIntervalMs?: number
  /** The clock (for slots and sync budgets). */
  now?: () => number
  /** Validators: send consensus messages over direct links (validatorLinks.ts), gossip as the fallback. Default true; false: gossip only (docs/consensus.md, "Validator links"). */
  directLinks?: boolean
  /** Followers: take committed blocks from one validator's commit feed (commitFeed.ts) instead of the commits gossip mesh. Default true. */
  commitFeed?: boolean
}

export interface ValidatorNetworkModules {
  chain: Chain
  net: NetNode
  log: Logger
  /** Where the consensus driver puts equivocations it detects; by default checked against state, held and gossiped (submitEvidence). */
  evidence?: Pick<EvidenceSink, 'add'>
  /** Called after a block was committed (final) at `height`. */
  onFinalized?: (height: number) => void | Promise<void>
}

/** Consensus messages a neighbour may relay per validator per slot before the rest is dropped unchecked. */
const MESSAGES_PER_VALIDATOR_PER_SLOT = 16
/** Offences a neighbour may relay per second, with bursts: equivocations are rare, a flood is an attack. */
const EVIDENCE_PER_SECOND = 4
const EVIDENCE_BURST = 64
/** While the head moves, a status poll asks one peer level with us in turn every this many polls. */
const STATUS_TURN_POLLS = 4
/** Peer exchange runs every this many polls. */
const PEER_EXCHANGE_POLLS = 10
/** Below this many peers a peer exchange asks every peer (the mesh must not hang on one node); above, one in turn. */
const FEW_PEERS = 8

/**
 * Default period of the round-state stall check: two slots, at least 1 s. A node waiting for the
 * next slot makes no consensus progress, so a check shorter than a slot saw every idle slot as a
 * stall and pulled every peer's round state (at 2 s slots, every other second: a stream to and
 * from every validator, ~15 % of an idle validator's CPU).
 */
export function computeRoundStateIntervalMs(slotMs: number): number {
  return Math.max(1_000, 2 * slotMs)
}

/**
 * Status polls without a new head after which our head counts as stood still (and every peer is
 * asked): more than a slot's worth. With slots longer than the poll (4 s against 3 s) a single
 * poll often sees no new block while nothing is wrong, and asked every peer for its status.
 */
export function computeStatusStallPolls(syncIntervalMs: number, slotMs: number): number {
  return Math.floor(slotMs / syncIntervalMs) + 1
}

/**
 * Whether the round-state timer pulls after `stalledPolls` intervals without consensus progress:
 * after 1, 2 and 4, then every 8th (back-off while a stall lasts; 0 = progress, no pull).
 */
export function shouldPullRoundState(stalledPolls: number): boolean {
  if (stalledPolls <= 0) return false
  return stalledPolls <= 4 ? (stalledPolls & (stalledPolls - 1)) === 0 : stalledPolls % 8 === 0
}

export class ValidatorNetwork {
  readonly chain: Chain
  readonly net: NetNode
  readonly #log: Logger
  readonly #now: () => number
  readonly #syncIntervalMs: number
  readonly #roundStateIntervalMs: number
  readonly #driver: ConsensusDriver
  readonly #sync: RangeSync
  readonly #gossip: GossipHandlers
  readonly #messageCap: PeerRateLimit
  readonly #evidenceCap: PeerRateLimit
  /** Refused-tx budgets per gossip neighbour and per linked validator (TxRefusalBudget.ts). */
  readonly #txBudgets: { gossip: TxRefusalBudget; link: TxRefusalBudget }
  /** Validators only: direct links to the other validators for proposals, votes and proposal blocks. */
  readonly #links: ValidatorLinks | undefined
  /** Validators: every committed block to the followers that asked (commit feed). */
  readonly #feedServer: CommitFeedServer | undefined
  /** Followers: committed blocks from one validator's feed. */
  readonly #feedClient: CommitFeedClient | undefined
  readonly #onBlock = (imported: ImportedBlock): void => this.#feedCommitted(imported)
  #pollTimer: NodeJS.Timeout | undefined
  #roundStateTimer: NodeJS.Timeout | undefined
  #offPeer: (() => void) | undefined
  #offDisconnect: (() => void) | undefined
  #stopped = false

  /** Has a validator key: takes part in proposals and votes (the `consensus` topic). */
  readonly #isValidator: boolean

  constructor(opts: ValidatorNetworkOpts, modules: ValidatorNetworkModules) {
    this.#isValidator = opts.validatorKey !== undefined
    this.chain = modules.chain
    this.net = modules.net
    this.#log = modules.log
    this.#now = opts.now ?? Date.now
    this.#txBudgets = { gossip: new TxRefusalBudget({ now: this.#now }), link: new TxRefusalBudget({ now: this.#now }) }
    this.#syncIntervalMs = opts.syncIntervalMs ?? 3_000
    this.#roundStateIntervalMs = opts.roundStateIntervalMs ?? computeRoundStateIntervalMs(this.chain.genesis.slotMs)
    this.#driver = new ConsensusDriver(
      { validatorKey: opts.validatorKey, signGuard: opts.signGuard, now: this.#now, timeouts: opts.timeouts, ...(opts.twin ? { twin: true } : {}) },
      { chain: this.chain, log: this.#log, publish: (topic, data) => this.#publish(topic, data), requestSync: (peer) => this.requestSync(peer), requestCommittedBlock: (peer, height) => { if (!this.#stopped) this.#sync.requestCommittedBlock(peer, height) }, onFinalized: modules.onFinalized, evidence: modules.evidence ?? { add: (e) => this.#trySubmitEvidence(e) } },
    )
    this.#sync = new RangeSync({ chain: this.chain, net: this.net, log: this.#log, now: this.#now, processCommittedBlock: (block, bytes, commit) => this.#processCommittedBlock(block, bytes, commit) })
    const slotMs = this.chain.genesis.slotMs
    this.#messageCap = new PeerRateLimit({
      perSecond: () => (MESSAGES_PER_VALIDATOR_PER_SLOT * this.#driver.validatorCount() * 1_000) / slotMs,
      burst: () => MESSAGES_PER_VALIDATOR_PER_SLOT * this.#driver.validatorCount() + 64,
      now: this.#now,
    })
    const judge: GossipHandlerModules = {
      admitTx: async (tx) => void (await admitAndGossip({ chain: this.chain, net: this.net, log: this.#log }, tx, 'gossip')),
      processBlock: (block, bytes, from) => this.#driver.processBlock(block, bytes, from),
      handleConsensus: (message, from) => this.#driver.handleMessage(message, from),
      handleCommitted: (committed, from, writes) => this.#driver.handleCommittedBlock(committed, from, writes),
      withinVoteCap: (from) => from === undefined || this.#messageCap.take(from),
      submitEvidence: (offence) => this.chain.submitEvidence(offence),
      withinEvidenceCap: (from) => from === undefined || this.#evidenceCap.take(from),
      txBudget: this.#txBudgets.gossip,
    }
    this.#gossip = createGossipHandlers(judge)
    this.#evidenceCap = new PeerRateLimit({ perSecond: () => EVIDENCE_PER_SECOND, burst: () => EVIDENCE_BURST, now: this.#now })
    const key = opts.validatorKey
    this.#links = key === undefined || opts.directLinks === false
      ? undefined
      : new ValidatorLinks({
        net: this.net,
        log: this.#log,
        chainId: this.chain.genesis.chainId,
        validatorKey: key,
        validators: () => this.chain.validatorAddressesHex(),
        // The same judgement, plus a budget of refused txs per linked validator (createLinkReceive.ts).
        receive: createLinkReceive(judge, { budget: this.#txBudgets.link }),
      })
    this.#feedServer = this.#isValidator ? new CommitFeedServer({ net: this.net, log: this.#log, chainId: this.chain.genesis.chainId, now: this.#now }) : undefined
    this.#feedClient = this.#isValidator || opts.commitFeed === false
      ? undefined
      : new CommitFeedClient({
        net: this.net,
        log: this.#log,
        chainId: this.chain.genesis.chainId,
        now: this.#now,
        // Validators (on the vote topic) we are connected to, from a random one: followers spread over them.
        candidates: () => {
          const voters = this.net.topicPeers('consensus')
          const start = Math.floor(Math.random() * voters.length)
          return [...voters.slice(start), ...voters.slice(0, start)]
        },
        writes: this.chain.trustsCommits,
        // Version 2 carries the block's write set, offered to consensus; a wrong one costs its sender (refuse).
        receive: (bytes, from, version) => version === 1
          ? runGossipHandler(this.#gossip, 'commits', bytes, from)
          : runFeedBlockHandler(judge, bytes, from, () => this.#feedClient?.refuse(from, 'a write set that does not give its block\'s state root')),
        onChange: (up) => {
          if (up) this.net.unsubscribe('commits')
          else if (!this.#stopped) subscribeGossipTopic(this.net, this.#gossip, 'commits')
        },
        // A stall of the whole chain (an audit block under load) also looks quiet: only a long one moves the feed.
        quietMs: Math.max(20 * slotMs, 10_000),
      })
  }

  /** Subscribes the topics, serves sync and round state, starts consensus. Call before `net.start()` (or after: both work). */
  async start(): Promise<void> {
    subscribeGossipHandlers(this.net, this.#gossip, { validator: this.#isValidator })
    await this.#sync.start()
    await servePeerExchange(this.net)
    await serveRoundState(this.net, { roundState: () => this.#driver.roundState(), validatorCount: () => this.#driver.validatorCount() })
    await this.#links?.start()
    await this.#feedServer?.start()
    if (this.#feedServer !== undefined) this.chain.on('block', this.#onBlock)
    this.#offDisconnect = this.net.onPeer('disconnect', (peer) => this.#sync.forget(peer))
    this.#offPeer = this.net.onPeer('connect', (peer) => {
      this.requestSync(peer)
      // identify has to run before the peer can tell its own peers' addresses; ask a moment later.
      setTimeout(this.#tick('peer exchange', () => {
        this.#exchange(peer)
        this.#feedClient?.poll()
      }), 500).unref()
    })
    // Each poll costs a stream per peer asked (and the peer one to answer). Status: every peer
    // while our head stood still for more than a slot (computeStatusStallPolls); while it moves, the peers whose last status
    // claimed a head we lack (they have blocks for us, or lie and are scored down until dropped:
    // syncAttacks.test.ts) and one other peer in turn every STATUS_TURN_POLLS polls, since gossip
    // and commits from ahead trigger sync anyway. Peer exchange: every PEER_EXCHANGE_POLLS polls,
    // with every peer while we have few, else one in turn; and on each new connection.
    let polls = 0
    let lastHead = -1
    let stillPolls = 0
    const stallPolls = computeStatusStallPolls(this.#syncIntervalMs, this.chain.genesis.slotMs)
    this.#pollTimer = setInterval(this.#tick('status poll', () => {
      const head = this.chain.store.head.height
      stillPolls = head === lastHead ? stillPolls + 1 : 0
      const stalled = stillPolls >= stallPolls
      lastHead = head
      const poll = polls++
      const peers = connectedPeers(this.net)
      this.#links?.refresh()
      this.#feedClient?.poll()
      const turn = Math.floor(poll / STATUS_TURN_POLLS)
      const statusTurn = poll % STATUS_TURN_POLLS === 0
      const exchangeTurn = poll % PEER_EXCHANGE_POLLS === 0
      const exchangeAll = peers.length < FEW_PEERS
      peers.forEach((peer, i) => {
        if (stalled || this.#sync.claimedAhead(peer) || (statusTurn && i === turn % peers.length)) this.requestSync(peer)
        if (exchangeTurn && (exchangeAll || i === (poll / PEER_EXCHANGE_POLLS) % peers.length)) void exchangePeers(this.net, peer, this.#log)
      })
    }), this.#syncIntervalMs)
    this.#pollTimer.unref()
    // Pull peers' round state only when consensus made no progress over a whole interval: on a
    // healthy network gossip suffices, and each pull costs every peer a stream. While the stall
    // lasts the pulls back off (after 1, 2, 4, then every 8 intervals): a node stuck because the
    // machine is overloaded must not add a stream per peer per second to the load. Only peers on
    // the vote topic hold votes; a node without a vote asks one of them in turn for the commit.
    let lastProgress = ''
    let stalledPolls = 0
    let turn = 0
    this.#roundStateTimer = setInterval(this.#tick('stall check', () => {
      const progress = `${this.#driver.height}/${this.#driver.round}`
      stalledPolls = progress === lastProgress ? stalledPolls + 1 : 0
      lastProgress = progress
      if (!shouldPullRoundState(stalledPolls)) return
      const voters = this.net.topicPeers('consensus')
      const peers = voters.length > 0 ? voters : connectedPeers(this.net)
      if (this.#isValidator) for (const peer of peers) this.#pullRoundState(peer)
      else if (peers.length > 0) this.#pullRoundState(peers[turn++ % peers.length]!)
    }), this.#roundStateIntervalMs)
    this.#roundStateTimer.unref()
    await this.#driver.start()
  }

  /**
   * A timer's callback. start() runs before the net's start (node.ts), which under load took longer
   * than a tick: a tick finds the net not started (or stopping) and does nothing. No tick's error
   * escapes its timer, where it would end the process.
   */
  #tick(name: string, fn: () => void): () => void {
    return () => {
      if (this.#stopped) return
      try {
        fn()
      } catch (err) {
        if (err instanceof NetError && err.code === 'NOT_STARTED') return
        this.#log.warn({ err, timer: name }, 'timer tick failed')
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    if (this.#roundStateTimer) clearInterval(this.#roundStateTimer)
    this.#offPeer?.()
    this.#offDisconnect?.()
    await this.#links?.stop()
    this.chain.off('block', this.#onBlock)
    await this.#feedServer?.stop()
    this.#feedClient?.stop()
    this.#sync.stop()
    await this.#driver.stop()
  }

  /** Tx batches dropped unread since start, their peer past its refused-tx budget: by gossip, by the validator links. */
  get txBatchesDropped(): { gossip: number; link: number } {
    return { gossip: this.#txBudgets.gossip.droppedBatches, link: this.#txBudgets.link.droppedBatches }
  }

  /** Messages and bytes sent over validator links since start, by path (a fast link's socket or libp2p); undefined without links. */
  get linkTraffic(): LinkTraffic | undefined {
    return this.#links?.traffic
  }

  /** True while range sync is moving our head. */
  get syncing(): boolean {
    return this.#sync.syncing
  }

  /** The height and round consensus is at. */
  get consensus(): { height: number | undefined; round: number } {
    return { height: this.#driver.height, round: this.#driver.round }
  }

  /**
   * The seam for offences found here (the consensus driver seeing two conflicting votes, RPC):
   * checked and held for a block by Chain.submitEvidence, then gossiped so every proposer holds
   * it. False when already held; throws (BftError/StateError) when it does not apply.
   */
  #trySubmitEvidence(value: Offence | Evidence): boolean {
    try {
      return this.submitEvidence(value)
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, 'evidence refused')
      return false
    }
  }

  submitEvidence(value: Offence | Evidence): boolean {
    const offence = toOffence(value)
    const added = this.chain.submitEvidence(offence)
    if (added) this.net.publish('evidence', encode(Offence, offence)).catch((err: unknown) => this.#log.debug({ topic: 'evidence', err: String(err) }, 'publish failed'))
    return added
  }

  peerCount(): number {
    return connectedPeers(this.net).length
  }

  /** Admits a tx from this process (RPC, the host role) and gossips it. */
  admitAndGossip(tx: SignedTx): Promise<Hash> {
    const links = this.#links
    return admitAndGossip({ chain: this.chain, net: this.net, log: this.#log, sendDirect: links && ((bytes) => links.send('transactions', bytes)) }, tx)
  }

  /** An encoded block from gossip (`from` = the neighbour), through the blocks gossip handler. */
  processBlock(bytes: Uint8Array, from?: string): Promise<ValidationResult> {
    return runGossipHandler(this.#gossip, 'blocks', bytes, from)
  }

  /** Asks `peer` for its status and downloads what it has beyond us. */
  requestSync(peer: string): void {
    if (!this.#stopped) this.#sync.requestSync(peer)
  }

  /** A range-synced block: applied only with a commit that proves it final. */
  async #processCommittedBlock(block: Block, bytes: Uint8Array, commit: Parameters<Chain['commitBlock']>[1]): Promise<ValidationResult> {
    try {
      await this.chain.commitBlock(block, commit, bytes)
      return 'accept'
    } catch (e) {
      if (e instanceof BlockError && (e.code === 'ALREADY_KNOWN' || e.code === 'PARENT_UNKNOWN')) return 'ignore'
      const verdict = gossipVerdictOf(e, 'blocks')
      this.#log.info({ height: block.header.height, verdict, err: e instanceof Error ? e.message : String(e) }, 'range-synced block not applied')
      return verdict
    }
  }

  #exchange(peer: string): void {
    if (this.#stopped) return
    void exchangePeers(this.net, peer, this.#log)
    this.#pullRoundState(peer)
  }

  #pullRoundState(peer: string): void {
    if (this.#stopped) return
    void exchangeRoundState(this.net, peer, this.#driver.validatorCount(), (message: ConsensusMessage) => this.#driver.handleMessage(message, peer), this.#log)
  }

  /** Validators: each committed block to the followers on our commit feed (the bytes it arrived as; encoded only when it had none). */
  #feedCommitted(imported: ImportedBlock): void {
    const server = this.#feedServer
    if (server === undefined || server.subscriberCount === 0 || imported.commit === undefined) return
    server.publish({ block: imported.bytes ?? encode(Block, imported.block), commit: imported.commit, writes: imported.writes })
  }

  /**
   * Proposals, votes and proposal blocks go over the validator links; gossip too unless they
   * reached every other validator. A follower with a commit feed does not re-publish commits: the
   * others take theirs from their own feeds (or from the proposer's publish when they have none).
   */
  #publish(topic: GossipTopic, data: Uint8Array): void {
    if ((topic === 'consensus' || topic === 'blocks') && this.#links?.send(topic, data) === true) return
    if (topic === 'commits' && this.#feedClient?.peer !== undefined) return
    this.net.publish(topic, data).catch((err: unknown) => this.#log.debug({ topic, err: String(err) }, 'publish failed'))
  }
}
