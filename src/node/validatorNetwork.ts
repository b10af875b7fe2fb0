import { encode } from '../../blocks/codec.ts'
import { Block, type Hash, Offence, type SignedTx } from '../../blocks/schema.ts'
import type { Evidence } from '../../consensus/bft/messages.ts'
import type { Chain, ImportedBlock } from '../chain/chain.ts'
import { toOffence } from '../chain/evidencePool.ts'
import type { ForkChoiceStore } from '../chain/forkChoice.ts'
import type { KeyPair } from '../crypto/index.ts'
import { type GossipTopic, type NetNode, PeerRateLimit, type ValidationResult } from '../net/index.ts'
import type { Logger } from './logger.ts'
import { admitAndGossip } from './network/admitAndGossip.ts'
import { ConsensusDriver } from './network/consensusDriver.ts'
import { createGossipHandlers, type GossipHandlers, runGossipHandler, subscribeGossipHandlers } from './network/gossipHandlers.ts'
import { connectedPeers, exchangePeers, servePeerExchange } from './network/peerExchange.ts'
import { RangeSync } from './network/rangeSync.ts'
import { exchangeVotes, serveVoteExchange } from './network/voteExchange.ts'

/**
 * A validator on the network, composed of one part per job (src/node/network/): the gossip
 * handler table, the consensus driver (block intake, attestations, fork choice, finality), range
 * sync, vote exchange and peer exchange, around one started `Chain` and one `NetNode`. This
 * class wires them and owns the timers that poll peers.
 */
export interface ValidatorNetworkOpts {
  /** Present on validators: signs and gossips attestations. */
  validatorKey?: KeyPair
  /** Period of the status poll that notices being behind. Default 3 s. */
  syncIntervalMs?: number
  /** The clock (for `isFromFuture` and sync budgets). */
  now?: () => number
}

export interface ValidatorNetworkModules {
  chain: Chain
  net: NetNode
  log: Logger
  /** Called (under the lock) after the store's finalized block moved to `height`. */
  onFinalized?: (height: number) => void | Promise<void>
}

/** Votes a neighbour may relay per validator per slot before the rest is dropped unchecked. */
const VOTES_PER_VALIDATOR_PER_SLOT = 4
/** Offences a neighbour may relay per second, with bursts: equivocations are rare, a flood is an attack. */
const EVIDENCE_PER_SECOND = 4
const EVIDENCE_BURST = 64

export class ValidatorNetwork {
  readonly chain: Chain
  readonly net: NetNode
  readonly #log: Logger
  readonly #now: () => number
  readonly #syncIntervalMs: number
  readonly #driver: ConsensusDriver
  readonly #sync: RangeSync
  readonly #gossip: GossipHandlers
  readonly #voteCap: PeerRateLimit
  readonly #evidenceCap: PeerRateLimit
  #pollTimer: NodeJS.Timeout | undefined
  #offPeer: (() => void) | undefined
  #stopped = false

  constructor(opts: ValidatorNetworkOpts, modules: ValidatorNetworkModules) {
    this.chain = modules.chain
    this.net = modules.net
    this.#log = modules.log
    this.#now = opts.now ?? Date.now
    this.#syncIntervalMs = opts.syncIntervalMs ?? 3_000
    this.#driver = new ConsensusDriver(
      { validatorKey: opts.validatorKey, now: this.#now },
      { chain: this.chain, log: this.#log, publish: (topic, data) => this.#publish(topic, data), requestSync: (peer) => this.requestSync(peer), onFinalized: modules.onFinalized },
    )
    this.#sync = new RangeSync({ chain: this.chain, net: this.net, log: this.#log, now: this.#now, isKnown: (hash) => this.#driver.isKnown(hash), processBlock: (bytes) => this.processBlock(bytes) })
    const slotMs = this.chain.genesis.slotMs
    this.#voteCap = new PeerRateLimit({
      perSecond: () => (VOTES_PER_VALIDATOR_PER_SLOT * this.#driver.validatorCount() * 1_000) / slotMs,
      burst: () => VOTES_PER_VALIDATOR_PER_SLOT * this.#driver.validatorCount() + 64,
      now: this.#now,
    })
    this.#gossip = createGossipHandlers({
      admitTx: (tx) => void admitAndGossip({ chain: this.chain, net: this.net, log: this.#log }, tx, 'gossip'),
      processBlock: (block, bytes, from) => this.#driver.processBlock(block, bytes, from),
      countAttestation: (att) => this.#driver.countAttestation(att),
      withinVoteCap: (from) => from === undefined || this.#voteCap.take(from),
      submitEvidence: (offence) => this.chain.submitEvidence(offence),
      withinEvidenceCap: (from) => from === undefined || this.#evidenceCap.take(from),
    })
    this.#evidenceCap = new PeerRateLimit({ perSecond: () => EVIDENCE_PER_SECOND, burst: () => EVIDENCE_BURST, now: this.#now })
  }

  get forkChoice(): ForkChoiceStore {
    return this.#driver.forkChoice
  }

  /** Loads the unfinalized canonical blocks, subscribes the topics and serves sync. Call before `net.start()` (or after: both work). */
  async start(): Promise<void> {
    await this.#driver.start()
    subscribeGossipHandlers(this.net, this.#gossip)
    await this.#sync.start()
    await servePeerExchange(this.net)
    await serveVoteExchange(this.net, { latestAttestations: () => this.forkChoice.latestAttestations(), validatorCount: () => this.#driver.validatorCount() }, this.#now)
    this.#offPeer = this.net.onPeer('connect', (peer) => {
      this.requestSync(peer)
      // identify has to run before the peer can tell its own peers' addresses; ask a moment later.
      setTimeout(() => this.#exchange(peer), 500).unref()
    })
    this.#pollTimer = setInterval(() => {
      for (const peer of connectedPeers(this.net)) {
        this.requestSync(peer)
        this.#exchange(peer)
      }
    }, this.#syncIntervalMs)
    this.#pollTimer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    this.#offPeer?.()
    this.#sync.stop()
    await this.#driver.stop()
  }

  /** True while range sync is moving our head. */
  get syncing(): boolean {
    return this.#sync.syncing
  }

  peerCount(): number {
    return connectedPeers(this.net).length
  }

  /**
   * The seam for offences found here (the consensus driver seeing two conflicting votes, RPC):
   * checked and held for a block by Chain.submitEvidence, then gossiped so every proposer holds
   * it. False when already held; throws (BftError/StateError) when it does not apply.
   */
  submitEvidence(value: Offence | Evidence): boolean {
    const offence = toOffence(value)
    const added = this.chain.submitEvidence(offence)
    if (added) this.net.publish('evidence', encode(Offence, offence)).catch((err: unknown) => this.#log.debug({ topic: 'evidence', err: String(err) }, 'publish failed'))
    return added
  }

  /** Proposes in this node's slot (under the lock) and gossips the block. */
  async produce(slot: number, nowMs: number): Promise<ImportedBlock | undefined> {
    // Audit answers wait on the hosts: gathered before the lock, so imports are not held up.
    const prepared = await this.chain.prepareProposal(slot)
    return this.#driver.locked(async () => {
      // Building on a head that sync is moving only makes a fork to be reverted; the pause is bounded (RangeSync).
      if (this.#sync.shouldPauseProduction(this.#now())) return undefined
      const imported = await this.chain.produceBlock(slot, nowMs, prepared)
      if (imported) {
        this.#publish('blocks', encode(Block, imported.block))
        await this.#driver.settle()
      }
      return imported
    })
  }

  /** Admits a tx from this process (RPC, the host role) and gossips it. */
  admitAndGossip(tx: SignedTx): Hash {
    return admitAndGossip({ chain: this.chain, net: this.net, log: this.#log }, tx)
  }

  /** An encoded block from gossip (`from` = the neighbour) or range sync (`from` undefined), through the blocks gossip handler. */
  processBlock(bytes: Uint8Array, from?: string): Promise<ValidationResult> {
    return runGossipHandler(this.#gossip, 'blocks', bytes, from)
  }

  /** Asks `peer` for its status and downloads what it has beyond us. */
  requestSync(peer: string): void {
    if (!this.#stopped) this.#sync.requestSync(peer)
  }

  #exchange(peer: string): void {
    if (this.#stopped) return
    void exchangePeers(this.net, peer, this.#log)
    void exchangeVotes(this.net, peer, this.#driver.validatorCount(), (att) => this.#driver.countAttestation(att), this.#log)
  }

  #publish(topic: GossipTopic, data: Uint8Array): void {
    this.net.publish(topic, data).catch((err: unknown) => this.#log.debug({ topic, err: String(err) }, 'publish failed'))
  }
}
