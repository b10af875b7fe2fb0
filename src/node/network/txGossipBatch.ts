import { encode, list } from '../../../blocks/codec.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import type { NetNode } from '../../net/index.ts'
import { computeTxSize } from '../../state/fees.ts'
import type { Logger } from '../logger.ts'

/** Most txs one `transactions` gossip message carries; the topic's byte cap (GOSSIP_MAX_BYTES) bounds it too. */
export const MAX_TXS_PER_GOSSIP = 256

/**
 * The `transactions` topic's message: the txs one node admitted within a short window. Every
 * gossip message costs each receiver a noise decrypt, a yamux frame, a protobuf decode and a
 * content hash, and each is received about three times (the publisher's flood plus mesh
 * relays); one message per tx made that per-message cost most of a transfer's network share.
 */
export const TxGossipBatch = list(SignedTx, MAX_TXS_PER_GOSSIP)

export interface TxGossipBatcherOpts {
  /** Sends one encoded batch (NetNode.publish on `transactions`). */
  publish(bytes: Uint8Array): Promise<unknown>
  log?: Logger
  /** How long txs admitted after a publish wait to share the next message. Default 25 ms. */
  windowMs?: number
  /** A batch is sent at once when its txs reach this many bytes. Default 64 KiB. */
  maxBytes?: number
  now?: () => number
}

/**
 * Coalesces the txs this node gossips (Nagle-like): a tx after a quiet window goes out at once,
 * so a lone deploy or execute is not delayed; txs admitted within `windowMs` of the last publish
 * wait and leave together in one message (or earlier, at MAX_TXS_PER_GOSSIP or `maxBytes`).
 */
export class TxGossipBatcher {
  readonly #opts: Required<Omit<TxGossipBatcherOpts, 'log'>> & Pick<TxGossipBatcherOpts, 'log'>
  #pending: SignedTx[] = []
  #pendingBytes = 0
  #lastPublish = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(opts: TxGossipBatcherOpts) {
    this.#opts = { windowMs: 25, maxBytes: 64 * 1024, now: () => performance.now(), ...opts }
  }

  /** Txs waiting for the window to close. */
  get waiting(): number {
    return this.#pending.length
  }

  add(tx: SignedTx): void {
    const size = computeTxSize(tx)
    // A tx that would push the batch past its byte bound goes in the next one.
    if (this.#pending.length > 0 && this.#pendingBytes + size > this.#opts.maxBytes) this.flush()
    this.#pending.push(tx)
    this.#pendingBytes += size
    const quiet = this.#opts.now() - this.#lastPublish >= this.#opts.windowMs
    if (quiet || this.#pending.length >= MAX_TXS_PER_GOSSIP || this.#pendingBytes >= this.#opts.maxBytes) this.flush()
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), Math.max(0, this.#lastPublish + this.#opts.windowMs - this.#opts.now()))
      this.#timer.unref()
    }
  }

  /** Sends what waits now, as one message. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending.length === 0) return
    const txs = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    this.#lastPublish = this.#opts.now()
    this.#opts.publish(encode(TxGossipBatch, txs)).catch((err: unknown) => this.#opts.log?.debug({ topic: 'transactions', txs: txs.length, err: String(err) }, 'publish failed'))
  }

  /** Drops what waits (the node stops; the txs stay in its mempool). */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pending = []
    this.#pendingBytes = 0
  }
}

const batchers = new WeakMap<NetNode, TxGossipBatcher>()

/** The batcher of one net node (one per node, made on first use). */
export function txGossipBatcherOf(net: NetNode, log: Logger): TxGossipBatcher {
  let batcher = batchers.get(net)
  if (batcher === undefined) {
    batcher = new TxGossipBatcher({ publish: (bytes) => net.publish('transactions', bytes), log })
    batchers.set(net, batcher)
  }
  return batcher
}
