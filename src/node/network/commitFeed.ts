import type { Stream } from '@libp2p/interface'

import { encodeChunkedMessage, isFramingGarbage, readChunkedMessages } from '../../net/framing.ts'
import { DIRECT_STREAM_PENALTY, type NetNode, PeerRateLimit, type ValidationResult } from '../../net/index.ts'
import type { Logger } from '../logger.ts'
import { CommitFeedError, encodeFeedMessage, FEED_MAX_BYTES, type FeedBlock, type FeedVersion } from './commitFeedMessages.ts'

export { CommitFeedError, type FeedBlock, type FeedVersion } from './commitFeedMessages.ts'

/**
 * The commit feed: a follower (host, RPC node) receives each committed block once, straight from
 * one validator, instead of about three times through the `commits` gossip mesh (the proposer's
 * flood publish plus each mesh neighbour's relay, every copy decrypted, decoded and hashed, and
 * relayed again by the follower itself).
 *
 * A follower opens one stream (`/xsc/<chainId>/commit-feed/<version>`) to a validator it is
 * connected to and sends nothing on it; the validator writes every block it commits, with its
 * commit (DATA chunks of at most 256 KiB, then END): version 2 with the block's write set too,
 * which a follower that trusts commits applies instead of running the block (commitFeedMessages.ts;
 * it asks for 2, then 1 from a validator that does not speak 2). While its feed is up the follower
 * leaves the `commits` gossip topic; when the feed ends or stays quiet it rejoins the topic and
 * opens a feed to another validator, and range sync fills any gap meanwhile.
 *
 * Every check of the gossip path stays: the same handler judges each message (`verifyCommit`
 * before the carried block is held, the per-neighbour message cap), a message above the topic's
 * cap or a malformed frame ends the feed and scores the validator down, a REJECTed message
 * (forged commit or block) scores it as over a validator link, and so does a write set that does
 * not give the block's state root when the block itself does (`refuse`). A validator serves at most
 * MAX_SUBSCRIBERS followers, one feed per peer, and a peer that opens feeds too often is refused;
 * a follower that does not read its feed is cut off (it falls back to gossip).
 */
export function commitFeedProtocol(chainId: string, version: FeedVersion = 2): string {
  return `/xsc/${chainId}/commit-feed/${version}`
}

const VERSIONS: readonly FeedVersion[] = [1, 2]

/** Followers one validator feeds at most; more are refused (they keep gossip). */
export const MAX_SUBSCRIBERS = 256
/** Points a REJECTed message on a feed costs the validator (as on a validator link). */
export const FEED_REJECT_PENALTY = DIRECT_STREAM_PENALTY.reject
/** Points garbage on a feed costs (malformed frames, a message over the cap, bytes from a follower). */
export const FEED_GARBAGE_PENALTY = DIRECT_STREAM_PENALTY.garbage
/** Feed opens a peer may make, per second and in a burst: a follower reconnecting is fine, a loop is not. */
const OPENS_PER_SECOND = 0.2
const OPENS_BURST = 3
const OPEN_TIMEOUT_MS = 5_000

export interface CommitFeedServerModules {
  net: NetNode
  log: Logger
  chainId: string
  now?: () => number
}

/** A validator's side: serves followers' feeds and writes each committed block to all of them. */
export class CommitFeedServer {
  readonly #m: CommitFeedServerModules
  readonly #subscribers = new Map<string, { stream: Stream; version: FeedVersion }>()
  readonly #opens: PeerRateLimit

  constructor(modules: CommitFeedServerModules) {
    this.#m = modules
    this.#opens = new PeerRateLimit({ perSecond: () => OPENS_PER_SECOND, burst: () => OPENS_BURST, now: modules.now ?? Date.now })
  }

  async start(): Promise<void> {
    for (const version of VERSIONS) {
      await this.#m.net.handleStream(commitFeedProtocol(this.#m.chainId, version), (stream, peer) => void this.#serve(stream, peer, version), { maxInboundStreams: 1 })
    }
  }

  async stop(): Promise<void> {
    for (const { stream } of this.#subscribers.values()) stream.abort(new CommitFeedError('FEED_CLOSED', 'node stopping'))
    this.#subscribers.clear()
    for (const version of VERSIONS) await this.#m.net.unhandle(commitFeedProtocol(this.#m.chainId, version)).catch(() => undefined)
  }

  get subscriberCount(): number {
    return this.#subscribers.size
  }

  /**
   * Writes one committed block to every follower in its feed's version (each encoded once), its
   * frames in one write (each write is a yamux frame, a noise encryption and a socket write on both
   * ends); a follower whose buffer is still full is cut off.
   */
  publish(committed: FeedBlock): void {
    if (this.#subscribers.size === 0) return
    const messages = new Map<FeedVersion, Uint8Array | undefined>()
    const messageOf = (version: FeedVersion): Uint8Array | undefined => {
      if (!messages.has(version)) {
        let encoded: Uint8Array | undefined
        try {
          encoded = encodeFeedMessage(version, committed)
        } catch (err) {
          // Never on a block this node committed; if it were, its followers take it from gossip or range sync.
          this.#m.log.warn({ version, err: String(err) }, 'commit feed message not encodable')
        }
        messages.set(version, encoded === undefined ? undefined : encodeChunkedMessage(encoded))
      }
      return messages.get(version)
    }
    for (const [peer, { stream, version }] of this.#subscribers) {
      const message = messageOf(version)
      if (message === undefined) continue
      try {
        if (stream.writableNeedsDrain) throw new CommitFeedError('FEED_CLOSED', 'follower does not read its feed')
        stream.send(message)
      } catch (err) {
        this.#m.log.debug({ peer, err: String(err) }, 'commit feed dropped')
        this.#subscribers.delete(peer)
        stream.abort(err instanceof Error ? err : new CommitFeedError('FEED_CLOSED', 'send failed'))
      }
    }
  }

  async #serve(stream: Stream, peer: string, version: FeedVersion): Promise<void> {
    if (this.#subscribers.has(peer) || this.#subscribers.size >= MAX_SUBSCRIBERS || !this.#opens.take(peer)) {
      return void stream.abort(new CommitFeedError('FEED_REFUSED', 'feed refused', { peer }))
    }
    this.#subscribers.set(peer, { stream, version })
    try {
      // A follower sends nothing: any byte from it is garbage.
      for await (const chunk of stream) {
        if (chunk.byteLength === 0) continue
        this.#m.net.penalize(peer, FEED_GARBAGE_PENALTY, 'bytes from a commit-feed follower')
        throw new CommitFeedError('BAD_FEED_MESSAGE', 'a follower sent bytes on its feed', { peer })
      }
    } catch (err) {
      stream.abort(err instanceof Error ? err : new CommitFeedError('FEED_CLOSED', 'feed failed'))
    } finally {
      if (this.#subscribers.get(peer)?.stream === stream) this.#subscribers.delete(peer)
    }
  }
}

export interface CommitFeedClientModules {
  net: NetNode
  log: Logger
  chainId: string
  now: () => number
  /** Peers that may serve a feed (validators we are connected to), best first. */
  candidates(): string[]
  /** Ask for the write sets (version 2): this follower applies them (it trusts commits). */
  writes: boolean
  /** The judgement gossip makes of a `commits` message (decode, caps, handler), of the feed's version. */
  receive(bytes: Uint8Array, from: string, version: FeedVersion): Promise<ValidationResult>
  /** The feed came up (leave the commits topic) or went down (rejoin it). */
  onChange(up: boolean): void
  /** A feed quiet this long is dropped for another validator's. */
  quietMs: number
}

interface Feed {
  peer: string
  stream: Stream
  version: FeedVersion
  lastAt: number
}

/** A follower's side: keeps one feed from one validator, moving to another when it ends or goes quiet. */
export class CommitFeedClient {
  readonly #m: CommitFeedClientModules
  #feed: Feed | undefined
  #opening = false
  /** Peers whose feed failed, was refused or went quiet: not asked again before this time. */
  readonly #avoid = new Map<string, number>()
  #stopped = false

  constructor(modules: CommitFeedClientModules) {
    this.#m = modules
  }

  get peer(): string | undefined {
    return this.#feed?.peer
  }

  /** Call periodically: drops a quiet feed and opens one when there is none. */
  poll(): void {
    if (this.#stopped) return
    const now = this.#m.now()
    const feed = this.#feed
    if (feed !== undefined && now - feed.lastAt > this.#m.quietMs) {
      this.#m.log.info({ peer: feed.peer, quietMs: now - feed.lastAt }, 'commit feed quiet: trying another validator')
      this.#avoidForAWhile(feed.peer)
      this.#end(feed, new CommitFeedError('FEED_CLOSED', 'feed quiet'))
    }
    if (this.#feed !== undefined || this.#opening) return
    for (const [peer, until] of this.#avoid) if (until <= now) this.#avoid.delete(peer)
    const peer = this.#m.candidates().find((p) => !this.#avoid.has(p))
    if (peer !== undefined) void this.#open(peer)
  }

  /**
   * A message from `peer`'s feed proved wrong: REJECTed when judged (a forged commit or block), or
   * after it was taken (a write set that does not give its block's state root when the block's own
   * run does): scored as a REJECTed gossip message would be, the feed ended and the validator left
   * for another.
   */
  refuse(peer: string, reason: string): void {
    this.#m.net.penalize(peer, FEED_REJECT_PENALTY, reason)
    this.#avoidForAWhile(peer)
    const feed = this.#feed
    if (feed?.peer === peer) this.#end(feed, new CommitFeedError('BAD_FEED_MESSAGE', reason, { peer }))
  }

  /** A peer whose feed failed, was refused, went quiet or lied is not asked again for ten quiet periods. */
  #avoidForAWhile(peer: string): void {
    this.#avoid.set(peer, this.#m.now() + 10 * this.#m.quietMs)
  }

  stop(): void {
    this.#stopped = true
    if (this.#feed !== undefined) this.#end(this.#feed, new CommitFeedError('FEED_CLOSED', 'node stopping'))
  }

  #end(feed: Feed, reason: Error): void {
    feed.stream.abort(reason)
    if (this.#feed !== feed) return
    this.#feed = undefined
    if (!this.#stopped) this.#m.onChange(false)
  }

  async #open(peer: string): Promise<void> {
    this.#opening = true
    let stream: Stream
    // Most preferred first: one multistream negotiation picks the first the validator speaks.
    const asked: readonly FeedVersion[] = this.#m.writes ? [2, 1] : [1]
    try {
      stream = await this.#m.net.openStream(peer, asked.map((v) => commitFeedProtocol(this.#m.chainId, v)), { signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) })
    } catch (err) {
      this.#m.log.debug({ peer, err: String(err) }, 'commit feed open failed')
      this.#avoidForAWhile(peer)
      return
    } finally {
      this.#opening = false
    }
    if (this.#stopped) return void stream.abort(new CommitFeedError('FEED_CLOSED', 'node stopping'))
    const version = asked.find((v) => commitFeedProtocol(this.#m.chainId, v) === stream.protocol)
    if (version === undefined) return void stream.abort(new CommitFeedError('FEED_CLOSED', `negotiated a protocol not asked for: ${stream.protocol}`))
    const feed: Feed = { peer, stream, version, lastAt: this.#m.now() }
    this.#feed = feed
    this.#m.onChange(true)
    this.#m.log.debug({ peer }, 'commit feed open')
    await this.#read(feed)
  }

  /** Reads CommittedBlocks (DATA chunks, END) and judges each; garbage or a rejected message ends the feed. */
  async #read(feed: Feed): Promise<void> {
    const { peer, stream, version } = feed
    try {
      const bad = (why: 'oversize' | 'malformed'): CommitFeedError => new CommitFeedError('BAD_FEED_MESSAGE', why === 'oversize' ? 'feed message over its cap' : 'not a feed message', { peer })
      for await (const bytes of readChunkedMessages(stream, FEED_MAX_BYTES[version], bad)) {
        feed.lastAt = this.#m.now()
        const verdict = await this.#m.receive(bytes, peer, version)
        if (this.#feed !== feed) return
        // A forged commit or block: what gossip scoring would charge, and another validator's feed.
        if (verdict === 'reject') return this.refuse(peer, 'invalid committed block on a commit feed')
      }
      this.#end(feed, new CommitFeedError('FEED_CLOSED', 'feed ended'))
    } catch (err) {
      // Ended from outside (quiet, refused, stopping): scored there, if at all.
      if (this.#feed !== feed) return
      // Garbage costs the sender; a stream cut mid-message (the validator crashed) does not.
      const garbage = (err instanceof CommitFeedError && err.code === 'BAD_FEED_MESSAGE') || isFramingGarbage(err)
      if (garbage) this.#m.net.penalize(peer, FEED_GARBAGE_PENALTY, 'garbage on a commit feed')
      this.#avoidForAWhile(peer)
      this.#end(feed, err instanceof Error ? err : new CommitFeedError('FEED_CLOSED', 'feed failed'))
    }
  }
}
