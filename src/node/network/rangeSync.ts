import { decode, encode } from '../../../blocks/codec.ts'
import { Block, type Hash } from '../../../blocks/schema.ts'
import { CommittedBlock } from '../../../consensus/bft/messages.ts'
import { computeMaxPlausibleHeight } from '../../../consensus/slot.ts'
import type { Chain } from '../../chain/chain.ts'
import { equalBytes } from '../../crypto/index.ts'
import {
  type NetNode,
  ProductionPause,
  PROTOCOL_LIMITS,
  requestBlocksByRange,
  requestStatus,
  serveBlocksByRange,
  serveStatus,
  SYNC_LIMITS,
  SYNC_PENALTY,
  type ValidationResult,
} from '../../net/index.ts'
import type { Logger } from '../logger.ts'
import { connectedPeers } from './peerExchange.ts'

/**
 * Range sync: asks peers for their status and downloads what they have beyond us, each block with
 * its commit (CommittedBlock): a block is applied only when its commit proves it final
 * (verifyCommit), so a peer cannot feed us a branch, only stale or invalid data. Under the rules
 * of src/net/syncPolicy.ts. A peer's status is a hint: a head higher than the clock allows (one
 * block per millisecond since genesis, computeMaxPlausibleHeight) is refused (and penalised) without a single range request; every session with a peer
 * is bounded in requests and time; a batch that brings nothing new ends the session, and a
 * session that never advanced us toward a head we still do not know costs the peer score until
 * it is dropped; up to `maxParallelPeers` peers are synced from at once, so one slow or lying
 * peer holds back nobody.
 */
export interface RangeSyncModules {
  chain: Chain
  net: NetNode
  log: Logger
  /** A range-synced block with its commit in, its verdict out. */
  processCommittedBlock(block: Block, blockBytes: Uint8Array, commit: CommittedBlock['commit']): Promise<ValidationResult>
  now: () => number
}

const MAX_BLOCKS = PROTOCOL_LIMITS.blocksByRange.maxBlocks

/** One block of a range answer: the block, its bytes as sent, and its commit. */
interface RangeAnswer { block: Block; blockBytes: Uint8Array; commit: CommittedBlock['commit'] }

/** Decodes one range answer item (a CommittedBlock); throws on bytes that do not parse. */
function decodeRangeAnswer(bytes: Uint8Array): RangeAnswer {
  const c = decode(CommittedBlock, bytes)
  return { block: decode(Block, c.block), blockBytes: c.block, commit: c.commit }
}
/** A status this many blocks above our head or less is ordinary propagation lag, not a peer to ask at every poll. */
const AHEAD_LAG_BLOCKS = 2
/** Peers a commit-led fetch asks in turn before it falls back to a status-led session. */
const MAX_COMMITTED_FETCH_PEERS = 4

interface Session {
  started: number
  /** The head hash the peer's status claimed (when it was news to us). */
  claimed?: Hash
  /** At least one batch brought a block we did not have. */
  progressed: boolean
  /** Ended by its request or time budget, not because the peer had nothing more. */
  budgetSpent: boolean
  /**
   * The peer answered, and its answer brought nothing new (no blocks, or only blocks we had). A
   * request that timed out or failed does not set it: a slow peer (or our own starved CPU) is
   * not a lying one, and a session costs us only its slot, never block production.
   */
  answeredStale: boolean
}

export class RangeSync {
  readonly #m: RangeSyncModules
  readonly #pause: ProductionPause
  /** Peers waiting for a session (a peer with a running session stays here until it ends). */
  readonly #queue = new Set<string>()
  readonly #active = new Set<string>()
  /** Peers whose session moved our head and has more to give. */
  readonly #advancing = new Set<string>()
  /** Heights whose block a commit-led fetch is asking for. */
  readonly #fetching = new Set<number>()
  /** When range sync last moved the head. */
  #lastAdvanceAt = 0
  /** Peers whose last status claimed a head we do not have, beyond propagation lag (see claimedAhead). */
  readonly #claimedAhead = new Set<string>()
  #stopped = false

  constructor(modules: RangeSyncModules) {
    this.#m = modules
    // A catch-up pauses proposing for at most 20 slots (and 10 s) at a stretch.
    this.#pause = new ProductionPause({ maxPauseMs: Math.max(20 * modules.chain.genesis.slotMs, 10_000) })
  }

  /** Serves status and blocks by range to peers. */
  async start(): Promise<void> {
    await serveStatus(this.#m.net, () => {
      const { head, finalized } = this.#m.chain.store
      return { headHeight: head.height, headHash: head.hash, finalizedHeight: finalized.height, finalizedHash: finalized.hash, earliestHeight: this.#m.chain.store.prunedBelow }
    })
    await serveBlocksByRange(this.#m.net, (from, count) => this.#blocksByRange(from, count))
  }

  stop(): void {
    this.#stopped = true
    this.#queue.clear()
  }

  /**
   * Whether `peer`'s last status claimed a head we did not have, more than AHEAD_LAG_BLOCKS above
   * ours: such a peer is asked again at every poll (it has blocks for us, or it lies and is scored
   * down until dropped), while peers level with us are asked only now and then.
   */
  claimedAhead(peer: string): boolean {
    return this.#claimedAhead.has(peer)
  }

  /** Forgets a peer that went away. */
  forget(peer: string): void {
    this.#claimedAhead.delete(peer)
  }

  /** True while a session is advancing our head: it brought new blocks and its peer has more. */
  get syncing(): boolean {
    return this.#advancing.size > 0
  }

  /** Whether a proposer should skip this slot: only while sync advances the head, and for a bounded time. */
  shouldPauseProduction(now: number): boolean {
    return this.#pause.shouldPause(now, this.syncing)
  }

  /**
   * A commit for our next height arrived without its block (nodes off the `blocks` topic learn
   * blocks this way): one range request for just that block, to the neighbour that sent the
   * commit, then to the other peers in turn (a relaying follower may not hold it yet); a
   * status-led session with the neighbour when none had it.
   */
  requestCommittedBlock(peer: string, height: number): void {
    if (this.#stopped || this.#fetching.has(height)) return
    this.#fetching.add(height)
    void this.#fetchCommitted(peer, height)
      .then((done) => {
        if (!done) this.requestSync(peer)
      })
      .catch((err: unknown) => this.#m.log.debug({ peer, height, err: String(err) }, 'committed block fetch failed'))
      .finally(() => this.#fetching.delete(height))
  }

  async #fetchCommitted(first: string, height: number): Promise<boolean> {
    const { net } = this.#m
    const others = connectedPeers(net).filter((p) => p !== first)
    for (const peer of [first, ...others].slice(0, MAX_COMMITTED_FETCH_PEERS)) {
      if (this.#stopped) return true
      if (this.#m.chain.store.head.height >= height) return true
      let list: Uint8Array[]
      try {
        list = await requestBlocksByRange(net, peer, { fromHeight: height, count: 1 })
      } catch {
        continue
      }
      if (list.length === 0) continue
      let decoded: RangeAnswer
      try {
        decoded = decodeRangeAnswer(list[0]!)
      } catch {
        net.penalize(peer, SYNC_PENALTY.invalidBlock, 'undecodable range-synced block')
        continue
      }
      const verdict = await this.#m.processCommittedBlock(decoded.block, decoded.blockBytes, decoded.commit)
      if (verdict === 'reject') {
        net.penalize(peer, SYNC_PENALTY.invalidBlock, 'invalid range-synced block')
        continue
      }
      if (this.#m.chain.store.head.height >= height) {
        this.#lastAdvanceAt = this.#m.now()
        return true
      }
    }
    return this.#m.chain.store.head.height >= height
  }

  /** Asks `peer` for its status and downloads what it has beyond us (one session per peer at a time). */
  requestSync(peer: string): void {
    if (this.#stopped) return
    this.#queue.add(peer)
    this.#drain()
  }

  #drain(): void {
    for (const peer of this.#queue) {
      if (this.#active.size >= SYNC_LIMITS.maxParallelPeers || this.#stopped) return
      if (this.#active.has(peer)) continue
      this.#queue.delete(peer)
      this.#active.add(peer)
      void this.#session(peer)
        .catch((err: unknown) => this.#m.log.warn({ peer, err: String(err) }, 'sync session failed'))
        .finally(() => {
          this.#active.delete(peer)
          this.#drain()
        })
    }
  }

  async #session(peer: string): Promise<void> {
    // Filled in as the session goes, so what it achieved before a failure (a timeout) still counts.
    const session: Session = { started: this.#m.now(), progressed: false, budgetSpent: false, answeredStale: false }
    try {
      await this.#syncFrom(peer, session)
    } catch (err) {
      this.#m.log.debug({ peer, err: String(err) }, 'sync from peer failed')
    } finally {
      this.#advancing.delete(peer)
    }
    if (this.#stopped) return
    const { claimed } = session
    if (session.progressed) {
      // More may be there (a long catch-up, or the peer moved on): go on with this peer.
      if (session.budgetSpent || (claimed !== undefined && !(await this.#knownAnywhere(claimed)))) this.#queue.add(peer)
      return
    }
    // Answers with nothing new from a peer whose head we still do not have, while no other sync
    // moved us either (then its blocks were just the ones another peer gave us first).
    if (session.answeredStale && claimed !== undefined && !(await this.#knownAnywhere(claimed)) && this.#lastAdvanceAt < session.started) {
      this.#m.net.penalize(peer, SYNC_PENALTY.noProgress, 'range sync did not advance us')
    }
  }

  async #knownAnywhere(hash: Hash): Promise<boolean> {
    return this.#m.chain.store.hasBlock(hash)
  }

  /** The highest head an honest chain can have now: one block per millisecond since genesis at most. */
  #maxPlausibleHeight(): number {
    const { genesis } = this.#m.chain
    return computeMaxPlausibleHeight(genesis.genesisTime, BigInt(Math.floor(this.#m.now() + genesis.consensus.driftMs)))
  }

  async #syncFrom(peer: string, session: Session): Promise<void> {
    const { chain, net, log } = this.#m
    const store = chain.store
    const status = await requestStatus(net, peer)
    const ahead = status.headHeight > store.head.height && !(await this.#knownAnywhere(status.headHash))
    // A block or two ahead is how a follower always sees the validators (it hears of each block last).
    if (ahead && status.headHeight > store.head.height + AHEAD_LAG_BLOCKS) this.#claimedAhead.add(peer)
    else this.#claimedAhead.delete(peer)
    if (status.headHeight > this.#maxPlausibleHeight()) {
      net.penalize(peer, SYNC_PENALTY.implausibleStatus, 'status head above what the clock allows')
      log.info({ peer, claimed: status.headHeight, plausible: this.#maxPlausibleHeight() }, 'peer claims a head the clock does not allow; not syncing from it')
      return
    }
    if (!ahead) return
    // A pruned peer no longer has the blocks we need next: not its fault, ask others (or state-sync).
    if ((status.earliestHeight ?? 1) > store.head.height + 1) {
      log.debug({ peer, earliest: status.earliestHeight, need: store.head.height + 1 }, 'peer pruned the blocks we need')
      return
    }
    session.claimed = status.headHash
    const target = status.headHeight
    let from = store.head.height + 1
    for (let requests = 0; from <= target && !this.#stopped; requests++) {
      if (requests >= SYNC_LIMITS.maxRequestsPerSession || this.#m.now() - session.started >= SYNC_LIMITS.sessionBudgetMs) {
        session.budgetSpent = true
        return
      }
      const list = await requestBlocksByRange(net, peer, { fromHeight: from, count: Math.min(MAX_BLOCKS, target - from + 1) })
      if (list.length === 0) {
        session.answeredStale = true
        return
      }
      let decoded: RangeAnswer[]
      try {
        decoded = list.map(decodeRangeAnswer)
      } catch {
        net.penalize(peer, SYNC_PENALTY.invalidBlock, 'undecodable range-synced block')
        return
      }
      // Committed blocks are final: a first block that does not extend our chain is a conflict we never follow.
      if (!(await this.#knownAnywhere(decoded[0]!.block.header.prevHash))) {
        log.warn({ peer, from }, 'peer chain conflicts with our committed chain')
        net.penalize(peer, SYNC_PENALTY.invalidBlock, 'range-synced chain conflicts with committed blocks')
        return
      }
      const headBefore = store.head.hash
      let accepted = 0
      for (const { block, blockBytes, commit } of decoded) {
        const verdict = await this.#m.processCommittedBlock(block, blockBytes, commit)
        if (verdict === 'reject') {
          net.penalize(peer, SYNC_PENALTY.invalidBlock, 'invalid range-synced block')
          log.warn({ peer, from }, 'range sync got an invalid block; stopping')
          return
        }
        if (verdict === 'accept') accepted++
      }
      if (!equalBytes(store.head.hash, headBefore)) this.#lastAdvanceAt = this.#m.now()
      // Answers that bring nothing new end the session, whatever the peer claims to have.
      if (accepted === 0) {
        session.answeredStale = true
        return
      }
      session.progressed = true
      from += list.length
      if (from <= target && !equalBytes(store.head.hash, headBefore)) this.#advancing.add(peer)
    }
    return
  }

  async #blocksByRange(from: number, count: number): Promise<Uint8Array[]> {
    const store = this.#m.chain.store
    const out: Uint8Array[] = []
    for (let h = Math.max(1, from); h < from + count && h <= store.head.height; h++) {
      const hash = await store.getHashAtHeight(h)
      const bytes = hash && (await store.getBlockBytes(hash))
      const commit = await store.getCommit(h)
      // Only final blocks are served: a block without its commit proves nothing to the asker.
      if (!bytes || !commit) break
      out.push(encode(CommittedBlock, { block: bytes, commit }))
    }
    return out
  }
}
