import type { Stream } from '@libp2p/interface'

import { XscError } from '../../../blocks/errors.ts'
import { concatBytes, hashParts, sign, toHex, utf8, verify } from '../../crypto/index.ts'
import { CHUNK_BYTES, encodeChunkedMessage, encodeFrame, FRAME, isFramingGarbage, readChunkedMessages, readFrames } from '../../net/framing.ts'
import { DIRECT_STREAM_PENALTY, GOSSIP_MAX_BYTES, type NetNode, PeerRateLimit, type ValidationResult } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

/**
 * Receipt push: a host writes its receipt batches (ReceiptGossipBatch) straight to every validator
 * it is connected to, one long-lived stream per validator (`/xsc/<chainId>/receipt-push/1`),
 * instead of publishing them on the `receipts` gossip topic, where each validator received each
 * batch about 3.3 times (the host's flood publish plus the other validators' relays) and relayed
 * it about 4.6 times (session 13: 9.3 % of a validator's busy samples in the execution phase).
 * A pushed batch is judged as a gossiped one (the same `admitReceiptBatch`) and forwarded nowhere.
 *
 * The host opens the stream; the validator answers with a hello (its address and its signature
 * over the chain id and both peer ids), so the host knows which member of the set each stream
 * reaches, and then sends nothing more. When the host's streams do not reach every member of the
 * current set (a validator not connected, a stream down, a peer of an older build) the batch is
 * ALSO published on gossip, so nothing is lost (ReceiptPushClient.send returns false).
 *
 * Any peer may push (receipts are checked by signature), within bounds: one stream per peer, at
 * most MAX_PUSHERS streams, opens and messages rate-limited per peer. A malformed frame, a message
 * over the receipts topic's cap or a flood closes the stream and costs the sender
 * PUSH_GARBAGE_PENALTY; a REJECTed batch (a forged, unassigned or mismatched receipt) costs
 * PUSH_REJECT_PENALTY (as gossip scoring or a validator link would); duplicates and late receipts
 * cost nothing.
 */
export function receiptPushProtocol(chainId: string): string {
  return `/xsc/${chainId}/receipt-push/1`
}

const HELLO_DOMAIN = utf8('XSC/receipt-push/v1')
/** What a validator signs on each push stream: this chain, its own peer id, the pushing peer's. */
export function receiptPushHelloMessage(chainId: string, validatorPeer: string, pusherPeer: string): Uint8Array {
  return hashParts(HELLO_DOMAIN, utf8(chainId), utf8(validatorPeer), utf8(pusherPeer))
}
/** A hello: the validator's address (32 bytes) then its signature (64 bytes). */
const HELLO_BYTES = 96

export class ReceiptPushError extends XscError<{ BAD_PUSH_MESSAGE: { peer: string }; PUSH_REFUSED: { peer: string }; PUSH_CLOSED: {} }> {
  static override readonly verdicts = { BAD_PUSH_MESSAGE: 'REJECT', PUSH_REFUSED: 'IGNORE', PUSH_CLOSED: 'IGNORE' } as const
}

/** Push streams one validator accepts at most (hosts and others); more are refused (they keep gossip). */
export const MAX_PUSHERS = 1024
/** Points a REJECTed batch costs its pusher (as on a validator link). */
export const PUSH_REJECT_PENALTY = DIRECT_STREAM_PENALTY.reject
/** Points garbage costs (malformed frames, a message over the cap, a flood, bytes from a validator after its hello). */
export const PUSH_GARBAGE_PENALTY = DIRECT_STREAM_PENALTY.garbage
/** Stream opens a peer may make, per second and in a burst (a host reconnecting is fine, a loop is not). */
const OPENS_PER_SECOND = 0.2
const OPENS_BURST = 3
/**
 * Batches a peer may push, per second and in a burst. A host's batcher sends at most one message
 * per 25 ms window (40/s) however many executions it runs; the burst covers a backlog after a stall.
 */
const MESSAGES_PER_SECOND = 100
const MESSAGES_BURST = 400
const OPEN_TIMEOUT_MS = 5_000
/** How long a peer is not asked again after its stream failed, was refused or was not a validator's. */
const AVOID_MS = 30_000

export interface ReceiptPushServerModules {
  net: NetNode
  log: Logger
  chainId: string
  /** This validator's key: the hello is signed with it. */
  validatorKey: { publicKey: Uint8Array; secretKey: Uint8Array }
  /** The judgement a `receipts` gossip message gets (StorageCoordinator.acceptReceipts). */
  accept(bytes: Uint8Array, from: string): ValidationResult | Promise<ValidationResult>
  now?: () => number
}

/** A validator's side: takes receipt batches pushed by hosts, judges each once, relays none. */
export class ReceiptPushServer {
  readonly #m: ReceiptPushServerModules
  readonly #streams = new Map<string, Stream>()
  readonly #opens: PeerRateLimit
  readonly #messages: PeerRateLimit
  /** Batches received over push streams (a count for benches and tests). */
  received = 0

  constructor(modules: ReceiptPushServerModules) {
    this.#m = modules
    const now = modules.now ?? Date.now
    this.#opens = new PeerRateLimit({ perSecond: () => OPENS_PER_SECOND, burst: () => OPENS_BURST, now })
    this.#messages = new PeerRateLimit({ perSecond: () => MESSAGES_PER_SECOND, burst: () => MESSAGES_BURST, now })
  }

  async start(): Promise<void> {
    await this.#m.net.handleStream(receiptPushProtocol(this.#m.chainId), (stream, peer) => void this.#serve(stream, peer), { maxInboundStreams: 1 })
  }

  async stop(): Promise<void> {
    for (const stream of this.#streams.values()) stream.abort(new ReceiptPushError('PUSH_CLOSED', 'node stopping'))
    this.#streams.clear()
    await this.#m.net.unhandle(receiptPushProtocol(this.#m.chainId)).catch(() => undefined)
  }

  get pusherCount(): number {
    return this.#streams.size
  }

  async #serve(stream: Stream, peer: string): Promise<void> {
    if (this.#streams.has(peer) || this.#streams.size >= MAX_PUSHERS || !this.#opens.take(peer)) {
      return void stream.abort(new ReceiptPushError('PUSH_REFUSED', 'receipt push refused', { peer }))
    }
    this.#streams.set(peer, stream)
    try {
      const key = this.#m.validatorKey
      const signature = sign(key.secretKey, receiptPushHelloMessage(this.#m.chainId, this.#m.net.peerId, peer))
      stream.send(encodeFrame(FRAME.data, concatBytes(key.publicKey, signature)))
      const bad = (why: 'oversize' | 'malformed'): ReceiptPushError => new ReceiptPushError('BAD_PUSH_MESSAGE', why === 'oversize' ? 'pushed message over the receipts cap' : 'not a receipt push message', { peer })
      for await (const bytes of readChunkedMessages(stream, GOSSIP_MAX_BYTES.receipts, bad)) {
        if (!this.#messages.take(peer)) throw new ReceiptPushError('BAD_PUSH_MESSAGE', 'receipt push over the message rate', { peer })
        this.received++
        if ((await this.#m.accept(bytes, peer)) === 'reject') {
          this.#m.net.penalize(peer, PUSH_REJECT_PENALTY, 'invalid receipt batch on a receipt push')
          throw new ReceiptPushError('PUSH_CLOSED', 'the pusher sent an invalid receipt batch')
        }
      }
    } catch (err) {
      // Garbage costs the sender; a stream cut mid-message (the host crashed) does not.
      if (isGarbage(err)) this.#m.net.penalize(peer, PUSH_GARBAGE_PENALTY, 'garbage on a receipt push')
      stream.abort(err instanceof Error ? err : new ReceiptPushError('PUSH_CLOSED', 'push failed'))
    } finally {
      if (this.#streams.get(peer) === stream) this.#streams.delete(peer)
    }
  }
}

function isGarbage(err: unknown): boolean {
  return (err instanceof ReceiptPushError && err.code === 'BAD_PUSH_MESSAGE') || isFramingGarbage(err)
}

export interface ReceiptPushClientModules {
  net: NetNode
  log: Logger
  chainId: string
  /** Addresses (hex) of the current validator set. */
  validators(): readonly string[]
  /** Peers that may be validators (on the vote topic), asked for a push stream. */
  candidates(): readonly string[]
  /** This node's own validator address (hex), when it is one: its own pool took the receipt already. */
  self?: string
  now?: () => number
}

interface Push {
  peer: string
  /** The validator (hex address) whose hello came on this stream. */
  validator: string
  stream: Stream
}

/** A host's side: one push stream per validator it is connected to; `send` writes a batch to all. */
export class ReceiptPushClient {
  readonly #m: ReceiptPushClientModules
  readonly #now: () => number
  readonly #pushes = new Map<string, Push>()
  readonly #opening = new Set<string>()
  readonly #avoid = new Map<string, number>()
  #stopped = false
  /** Batches written to push streams, and batches that also needed gossip (counts for benches and tests). */
  readonly sent = { pushes: 0, gossipFallbacks: 0 }

  constructor(modules: ReceiptPushClientModules) {
    this.#m = modules
    this.#now = modules.now ?? Date.now
  }

  /** Validators (hex) a push stream is up to. */
  get validators(): string[] {
    return [...this.#pushes.values()].map((p) => p.validator)
  }

  /** Opens a push stream to each candidate that has none (call at each block, and on new peers). */
  poll(): void {
    if (this.#stopped || this.#m.net.libp2p === undefined) return
    const now = this.#now()
    for (const [peer, until] of this.#avoid) if (until <= now) this.#avoid.delete(peer)
    for (const peer of this.#m.candidates()) {
      if (!this.#pushes.has(peer) && !this.#opening.has(peer) && !this.#avoid.has(peer)) void this.#open(peer)
    }
  }

  stop(): void {
    this.#stopped = true
    for (const push of this.#pushes.values()) push.stream.abort(new ReceiptPushError('PUSH_CLOSED', 'node stopping'))
    this.#pushes.clear()
  }

  /**
   * Writes one encoded ReceiptGossipBatch to every pushed-to member of the current set. True when
   * that reached every other member; false when the caller must also publish it on gossip (a
   * member without a stream, a stream that failed, or one whose reader is behind: at most one
   * batch past the stream's high-water mark waits on it, and nothing queued is ever discarded).
   */
  send(batch: Uint8Array): boolean {
    const members = new Set(this.#m.validators())
    if (this.#m.self !== undefined) members.delete(this.#m.self)
    if (batch.length > GOSSIP_MAX_BYTES.receipts) return false
    if (members.size === 0) return true
    const message = encodeChunkedMessage(batch)
    for (const push of this.#pushes.values()) {
      if (!members.has(push.validator)) continue
      // A validator behind on reading its stream gets this batch by gossip. Its stream is kept, not
      // aborted: an abort would discard the batches still queued on it, already counted as delivered.
      if (push.stream.writeStatus === 'writable' && push.stream.writableNeedsDrain) continue
      try {
        if (push.stream.writeStatus !== 'writable') throw new ReceiptPushError('PUSH_CLOSED', 'push stream closed')
        push.stream.send(message)
        members.delete(push.validator)
        this.sent.pushes++
      } catch (err) {
        this.#drop(push, err)
      }
    }
    if (members.size > 0) this.sent.gossipFallbacks++
    return members.size === 0
  }

  #drop(push: Push, err: unknown, avoid = true): void {
    this.#m.log.debug({ peer: push.peer, err: String(err) }, 'receipt push dropped')
    if (this.#pushes.get(push.peer) === push) this.#pushes.delete(push.peer)
    if (avoid) this.#avoid.set(push.peer, this.#now() + AVOID_MS)
    push.stream.abort(err instanceof Error ? err : new ReceiptPushError('PUSH_CLOSED', 'push failed'))
  }

  async #open(peer: string): Promise<void> {
    this.#opening.add(peer)
    let stream: Stream
    try {
      stream = await this.#m.net.openStream(peer, receiptPushProtocol(this.#m.chainId), { signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) })
    } catch (err) {
      // Not a validator, an older build, or gone: asked again later.
      this.#m.log.debug({ peer, err: String(err) }, 'receipt push open failed')
      this.#avoid.set(peer, this.#now() + AVOID_MS)
      this.#opening.delete(peer)
      return
    }
    if (this.#stopped) return void (this.#opening.delete(peer), stream.abort(new ReceiptPushError('PUSH_CLOSED', 'node stopping')))
    let push: Push | undefined
    const timer = setTimeout(() => push === undefined && stream.abort(new ReceiptPushError('PUSH_CLOSED', 'no hello')), OPEN_TIMEOUT_MS)
    try {
      for await (const frame of readFrames(stream, CHUNK_BYTES)) {
        if (push !== undefined) throw new ReceiptPushError('BAD_PUSH_MESSAGE', 'bytes after the hello on a receipt push', { peer })
        const validator = this.#checkHello(frame, peer)
        clearTimeout(timer)
        push = { peer, validator, stream }
        this.#opening.delete(peer)
        this.#pushes.set(peer, push)
        this.#m.log.debug({ peer, validator }, 'receipt push open')
      }
      throw new ReceiptPushError('PUSH_CLOSED', 'push stream ended')
    } catch (err) {
      clearTimeout(timer)
      this.#opening.delete(peer)
      if (isGarbage(err)) this.#m.net.penalize(peer, PUSH_GARBAGE_PENALTY, 'garbage on a receipt push')
      if (push !== undefined) this.#drop(push, err)
      else {
        this.#avoid.set(peer, this.#now() + AVOID_MS)
        stream.abort(err instanceof Error ? err : new ReceiptPushError('PUSH_CLOSED', 'push failed'))
      }
    }
  }

  /** A hello signed by a current validator for this pair of peer ids: its address (hex). A stranger's is no fault of theirs. */
  #checkHello(frame: { type: number; payload: Uint8Array }, peer: string): string {
    if (frame.type !== FRAME.data || frame.payload.length !== HELLO_BYTES) throw new ReceiptPushError('BAD_PUSH_MESSAGE', 'not a receipt push hello', { peer })
    const address = frame.payload.subarray(0, 32)
    if (!verify(address, receiptPushHelloMessage(this.#m.chainId, peer, this.#m.net.peerId), frame.payload.subarray(32))) throw new ReceiptPushError('BAD_PUSH_MESSAGE', 'receipt push hello does not verify', { peer })
    const validator = toHex(address)
    if (!this.#m.validators().includes(validator)) throw new ReceiptPushError('PUSH_REFUSED', 'receipt push hello from a key outside the validator set', { peer })
    return validator
  }
}
