import { XscError } from '../../blocks/errors.ts'
import { txId } from '../../blocks/ids.ts'
import type { SignedTx, TxType } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import { readAccount } from '../state/accounts.ts'
import { checkTxAgainstState, computeTxCost, verifyTxSignature } from '../state/checkTx.ts'
import type { StateReader } from '../state/stateView.ts'

export type MempoolErrorCode = 'MEMPOOL_FULL' | 'ALREADY_KNOWN' | 'NONCE_GAP' | 'SENDER_QUEUE_FULL'
export class MempoolError extends XscError<MempoolErrorCode> {}

export interface MempoolOpts {
  chainId: string
  maxSize?: number
  /** How far past the account's nonce a sender may queue. */
  maxQueuedPerSender?: number
}

/** Which block kind carries a tx of each type. */
export function blockKindOfTx(type: TxType): 'ledger' | 'deployment' | 'execution' {
  return type === 'deploy' ? 'deployment' : type === 'execute' ? 'execution' : 'ledger'
}

interface Pending { tx: SignedTx; id: string; seq: number; cost: bigint }

/**
 * Pending txs, one nonce-ordered queue per sender. `add` runs the same checks as block import
 * (signature, chain id, nonce, balance) against the head state plus the sender's queued txs, so
 * anything admitted is includable in order. Bounded in total and per sender.
 */
export class Mempool {
  readonly #opts: Required<MempoolOpts>
  readonly #bySender = new Map<string, Pending[]>()
  readonly #ids = new Set<string>()
  #seq = 0

  constructor(opts: MempoolOpts) {
    this.#opts = { maxSize: 50_000, maxQueuedPerSender: 256, ...opts }
  }

  get size(): number {
    return this.#ids.size
  }

  has(id: Uint8Array): boolean {
    return this.#ids.has(toHex(id))
  }

  /** Admits a tx or throws a typed error (StateError for tx-level faults, MempoolError for pool limits). */
  add(tx: SignedTx, state: StateReader, opts: { signatureChecked?: boolean } = {}): Uint8Array {
    const idBytes = txId(tx)
    const id = toHex(idBytes)
    if (this.#ids.has(id)) throw new MempoolError('ALREADY_KNOWN', `tx ${id} is already pending`, { txId: id })
    if (this.#ids.size >= this.#opts.maxSize) throw new MempoolError('MEMPOOL_FULL', `mempool holds ${this.#opts.maxSize} txs; retry later`)
    verifyTxSignature(tx, this.#opts.chainId, opts)
    const sender = toHex(tx.body.from)
    const queue = this.#bySender.get(sender) ?? []
    if (queue.length >= this.#opts.maxQueuedPerSender) throw new MempoolError('SENDER_QUEUE_FULL', `sender has ${queue.length} pending txs`)
    const nextNonce = readAccount(state, tx.body.from).nonce + queue.length
    const committed = queue.reduce((sum, p) => sum + p.cost, 0n)
    checkTxAgainstState(state, tx, nextNonce, committed)
    const pending = { tx, id, seq: this.#seq++, cost: computeTxCost(tx) }
    queue.push(pending)
    this.#bySender.set(sender, queue)
    this.#ids.add(id)
    return idBytes
  }

  /**
   * Picks the next block's kind and txs: the kind of the oldest ready tx (a sender's queue head),
   * then ready txs of that kind in arrival order, following each sender's nonce chain while it
   * stays of that kind.
   */
  select(max: number): { kind: 'ledger' | 'deployment' | 'execution'; txs: SignedTx[] } | undefined {
    let oldest: Pending | undefined
    for (const q of this.#bySender.values()) if (q[0] && (!oldest || q[0].seq < oldest.seq)) oldest = q[0]
    if (!oldest) return undefined
    const kind = blockKindOfTx(oldest.tx.body.payload.type)
    const heads = [...this.#bySender.values()].map((q) => ({ q, i: 0 }))
    const out: SignedTx[] = []
    // Repeatedly take the oldest head of the wanted kind: arrival order across senders, nonce order within one.
    while (out.length < max) {
      let best: { q: Pending[]; i: number } | undefined
      for (const h of heads) {
        const p = h.q[h.i]
        if (p && blockKindOfTx(p.tx.body.payload.type) === kind && (!best || p.seq < best.q[best.i]!.seq)) best = h
      }
      if (!best) break
      out.push(best.q[best.i]!.tx)
      best.i++
    }
    return { kind, txs: out }
  }

  /** After a block: drop included txs and any whose nonce the state has passed or can no longer pay. */
  prune(state: StateReader): void {
    for (const [sender, queue] of this.#bySender) {
      const first = queue[0]
      if (!first) continue
      const acc = readAccount(state, first.tx.body.from)
      let keep = queue.filter((p) => p.tx.body.nonce >= acc.nonce)
      // Re-check the remaining chain from the new state; cut at the first tx that no longer fits.
      let committed = 0n
      let cut = keep.length
      for (let i = 0; i < keep.length; i++) {
        const p = keep[i]!
        if (p.tx.body.nonce !== acc.nonce + i || acc.balance < committed + p.cost) {
          cut = i
          break
        }
        committed += p.cost
      }
      const dropped = queue.filter((p) => !keep.slice(0, cut).includes(p))
      keep = keep.slice(0, cut)
      for (const p of dropped) this.#ids.delete(p.id)
      if (keep.length === 0) this.#bySender.delete(sender)
      else this.#bySender.set(sender, keep)
    }
  }

  /** Drops a tx that can never apply, and the sender's later txs that depended on its nonce. */
  remove(tx: SignedTx): void {
    const sender = toHex(tx.body.from)
    const queue = this.#bySender.get(sender)
    if (!queue) return
    const keep = queue.filter((p) => p.tx.body.nonce < tx.body.nonce)
    for (const p of queue) if (!keep.includes(p)) this.#ids.delete(p.id)
    if (keep.length === 0) this.#bySender.delete(sender)
    else this.#bySender.set(sender, keep)
  }

  pending(): SignedTx[] {
    return [...this.#bySender.values()].flat().sort((a, b) => a.seq - b.seq).map((p) => p.tx)
  }
}
