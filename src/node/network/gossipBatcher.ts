import { type Codec, encode } from '../../../blocks/codec.ts'
import type { NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

export interface GossipBatcherOpts {
  /** Sends one encoded batch (NetNode.publish on the batch's topic). */
  publish(bytes: Uint8Array): Promise<unknown>
  log?: Logger
  /** How long items added after a publish wait to share the next message. Default 25 ms. */
  windowMs?: number
  /** A batch is sent at once when its items reach this many bytes. Default 64 KiB. */
  maxBytes?: number
  /** Longest an item waits while the batcher is held (`hold`). Default 100 ms. */
  maxHoldMs?: number
  now?: () => number
}

/**
 * Coalesces what a node gossips on one topic (Nagle-like): an item after a quiet window goes out
 * at once, so a lone tx or receipt is not delayed; items added within `windowMs` of the last
 * publish wait and leave together in one message (or earlier, at `maxItems` or `maxBytes`); items
 * added while the batcher is held (`hold`) leave together when it is released.
 * Every gossip message costs each receiver a noise decrypt, a yamux frame, a protobuf decode and
 * a content hash, and each is received about three times.
 */
export class GossipBatcher<T> {
  readonly #batch: Codec<T[]>
  readonly #maxItems: number
  readonly #sizeOf: (item: T) => number
  readonly #topic: string
  readonly #opts: Required<Omit<GossipBatcherOpts, 'log'>> & Pick<GossipBatcherOpts, 'log'>
  #pending: T[] = []
  #pendingBytes = 0
  #lastPublish = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined
  #holds = 0

  constructor(kind: { topic: string; batch: Codec<T[]>; maxItems: number; sizeOf(item: T): number }, opts: GossipBatcherOpts) {
    this.#topic = kind.topic
    this.#batch = kind.batch
    this.#maxItems = kind.maxItems
    this.#sizeOf = kind.sizeOf
    this.#opts = { windowMs: 25, maxBytes: 64 * 1024, maxHoldMs: 100, now: () => performance.now(), ...opts }
  }

  /** Items waiting for the window to close. */
  get waiting(): number {
    return this.#pending.length
  }

  add(item: T): void {
    const size = this.#sizeOf(item)
    // An item that would push the batch past its byte bound goes in the next one.
    if (this.#pending.length > 0 && this.#pendingBytes + size > this.#opts.maxBytes) this.flush()
    this.#pending.push(item)
    this.#pendingBytes += size
    if (this.#pending.length >= this.#maxItems || this.#pendingBytes >= this.#opts.maxBytes) return this.flush()
    if (this.#holds > 0) return this.#flushWithin(this.#opts.maxHoldMs)
    const quiet = this.#opts.now() - this.#lastPublish >= this.#opts.windowMs
    if (quiet) this.flush()
    else this.#flushWithin(Math.max(0, this.#lastPublish + this.#opts.windowMs - this.#opts.now()))
  }

  /**
   * Holds what is added until the returned release is called (by every holder, when several
   * hold), then sends it as one message: for items that come in a known burst, such as the
   * receipts of one pass over an asset's executions (executionThreads.ts), which would otherwise
   * leave as a first lone message and then one per window. No item waits longer than `maxHoldMs`;
   * a batch still leaves at once when full. Releasing twice is releasing once.
   */
  hold(): () => void {
    this.#holds++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--this.#holds === 0) this.flush()
    }
  }

  #flushWithin(ms: number): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => this.flush(), ms)
    this.#timer.unref()
  }

  /** Sends what waits now, as one message. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending.length === 0) return
    const items = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    this.#lastPublish = this.#opts.now()
    this.#opts.publish(encode(this.#batch, items)).catch((err: unknown) => this.#opts.log?.debug({ topic: this.#topic, items: items.length, err: String(err) }, 'publish failed'))
  }

  /** Drops what waits (the node stops). */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pending = []
    this.#pendingBytes = 0
  }
}

/**
 * `make`'s batcher of each net node: one per node (its messages must share one window), made on
 * first use (with that call's `extra` arguments).
 */
export function oneBatcherPerNet<B, A extends unknown[] = []>(make: (net: NetNode, log: Logger, ...extra: A) => B): (net: NetNode, log: Logger, ...extra: A) => B {
  const made = new WeakMap<NetNode, B>()
  return (net, log, ...extra) => {
    let batcher = made.get(net)
    if (batcher === undefined) {
      batcher = make(net, log, ...extra)
      made.set(net, batcher)
    }
    return batcher
  }
}
