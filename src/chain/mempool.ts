import { XscError } from '../../blocks/errors.ts'
import { txId } from '../../blocks/ids.ts'
import type { ChainParams, Hash, SignedTx, TxType } from '../../blocks/schema.ts'
import { fromHex, toHex } from '../crypto/index.ts'
import { readAccount } from '../state/accounts.ts'
import { computeTxCost, verifyTxSignature } from '../state/checkTx.ts'
import { StateError } from '../state/errors.ts'
import { computeRequiredFee, computeTxSize } from '../state/fees.ts'
import type { StateReader } from '../state/stateView.ts'
import { checkTxAdmission } from './checkTxAdmission.ts'
import { MempoolError } from './errors.ts'

export type PoolKind = 'ledger' | 'deployment' | 'execution'
const POOL_KINDS: readonly PoolKind[] = ['ledger', 'deployment', 'execution']

/** Why a tx left the pool without being included: the refusal's code and message, and the height of the block it was dropped at. */
export interface DroppedTx { id: Hash; code: string; message: string; height: number }

export interface MempoolOpts {
  chainId: string
  /** The chain's parameters: a tx's full cost (its execution escrow) depends on them. */
  params: ChainParams
  maxSize?: number
  /** How far past the account's nonce a sender may queue. */
  maxQueuedPerSender?: number
  /** Slots a kind with ready txs may be passed over before it takes the next block whatever the fees. */
  maxKindWaitSlots?: number
  /** How many dropped tx ids (with their reason) are remembered for senders asking why. */
  maxDroppedRecords?: number
  /** Called for every tx that leaves the pool without being included (dropped or replaced). */
  onDrop?: (dropped: DroppedTx) => void
}

/** Which block kind carries a tx of each type. */
export function blockKindOfTx(type: TxType): PoolKind {
  return type === 'deploy' ? 'deployment' : type === 'execute' ? 'execution' : 'ledger'
}

interface Pending { tx: SignedTx; id: string; seq: number; cost: bigint; kind: PoolKind; size: number }

/** Higher fee per byte first (compared by cross-multiplying, no division), then the older one. */
function isBetter(a: Pending, b: Pending | undefined): boolean {
  if (b === undefined) return true
  const left = a.tx.body.fee * BigInt(b.size)
  const right = b.tx.body.fee * BigInt(a.size)
  return left > right || (left === right && a.seq < b.seq)
}

/** What the block being built allows: its base fee (txs paying less wait) and its tx bytes. */
export interface SelectLimits { baseFee: bigint; maxBytes: number }

/**
 * Pending txs, one nonce-ordered queue per sender. `add` runs the block's own checks (signature,
 * chain id, nonce) and checks the tx's full cost (fee + amount + deposit + escrow) against the
 * balance minus everything the sender already has pending, so every admitted tx can pay when it
 * reaches a block. A tx with a queued nonce and a strictly higher fee replaces the queued one.
 * Bounded in total and per sender; txs that leave without being included are remembered with
 * their reason (bounded) so the sender can see why.
 */
/** The asset an execute, extend or delete names. */
export function assetTargetOf(tx: SignedTx): Uint8Array | undefined {
  const p = tx.body.payload
  return p.type === 'execute' || p.type === 'asset.extend' || p.type === 'asset.delete' ? p.asset : undefined
}

/** Tx ids whose signatures are remembered as verified: minutes of txs at devnet rates, ~3 MB. */
const SIGNATURES_REMEMBERED = 32_768
/**
 * Tx ids whose signatures are remembered as failed (~400 KB): the same forged bytes again (256
 * copies in one batch, a replay on a later batch) are refused without another verify. A sender
 * can flush them with new forgeries, but each costs it a REJECT (a penalty) where it came from.
 */
const FAILED_SIGNATURES_REMEMBERED = 4_096

export class Mempool {
  readonly #opts: Required<Omit<MempoolOpts, 'onDrop'>> & Pick<MempoolOpts, 'onDrop'>
  readonly #bySender = new Map<string, Pending[]>()
  /** Per sender (hex): the summed cost of its pending txs, so admission does not walk the queue (a sender may have hundreds in flight). */
  readonly #queuedCost = new Map<string, bigint>()
  readonly #ids = new Set<string>()
  readonly #dropped = new Map<string, DroppedTx>()
  /** Per kind: the slot since which it had ready txs but another kind took the block. */
  readonly #waitingSince = new Map<PoolKind, number>()
  #seq = 0
  #signaturesChecked = 0
  /** Ids (hex) of txs whose signatures this node verified, at admission or block check; oldest first, bounded. */
  readonly #signatureVerified = new Set<string>()
  /** Ids (hex) of txs whose signatures failed here; oldest first, bounded. The id hashes the signed bytes, and a verdict on the same bytes never changes. */
  readonly #signatureFailed = new Set<string>()
  /** Refusals at admission, keyed `code/stage` (see `refusals`). */
  readonly #refusals = new Map<string, number>()

  constructor(opts: MempoolOpts) {
    this.#opts = { maxSize: 50_000, maxQueuedPerSender: 256, maxKindWaitSlots: 4, maxDroppedRecords: 10_000, ...opts }
  }

  get size(): number {
    return this.#ids.size
  }

  /** Tx signatures this pool verified (admission); block import counts its own. */
  get signaturesChecked(): number {
    return this.#signaturesChecked
  }

  has(id: Uint8Array): boolean {
    return this.#ids.has(toHex(id))
  }

  hasHex(id: string): boolean {
    return this.#ids.has(id)
  }

  /** Whether this node verified the signature of the tx with this id (hex). The id hashes the whole signed tx, so it names these exact bytes. */
  isSignatureVerified(id: string): boolean {
    return this.#signatureVerified.has(id)
  }

  rememberSignatureVerified(id: string): void {
    if (this.#signatureVerified.size >= SIGNATURES_REMEMBERED) this.#signatureVerified.delete(this.#signatureVerified.values().next().value!)
    this.#signatureVerified.add(id)
  }

  #rememberSignatureFailed(id: string): void {
    if (this.#signatureFailed.size >= FAILED_SIGNATURES_REMEMBERED) this.#signatureFailed.delete(this.#signatureFailed.values().next().value!)
    this.#signatureFailed.add(id)
  }

  /** Why a tx was dropped, if it was dropped recently and not admitted again since. */
  dropped(id: Uint8Array): DroppedTx | undefined {
    return this.#dropped.get(toHex(id))
  }

  /** Whether `asset` is the id of a deploy tx pending here (an asset id is its deploy's tx id). */
  isPendingDeploy(asset: Uint8Array | undefined): boolean {
    if (asset === undefined || !this.#ids.has(toHex(asset))) return false
    const id = toHex(asset)
    for (const queue of this.#bySender.values()) for (const p of queue) if (p.id === id) return p.tx.body.payload.type === 'deploy'
    return false
  }

  /**
   * Admits a tx or throws a typed error (StateError for tx-level faults, MempoolError for pool
   * limits). The signature is verified last, after every check it plays no part in
   * (checkTxAdmission.ts): junk that can never enter the pool costs no ed25519 verify.
   */
  add(tx: SignedTx, state: StateReader, opts: { signatureChecked?: boolean; height?: number; baseFee?: bigint } = {}): Uint8Array {
    const verifiedBefore = this.#signaturesChecked
    try {
      return this.#add(tx, state, opts)
    } catch (e) {
      if (e instanceof XscError) {
        const key = `${e.code}/${this.#signaturesChecked > verifiedBefore ? 'after_verify' : 'before_verify'}`
        this.#refusals.set(key, (this.#refusals.get(key) ?? 0) + 1)
      }
      throw e
    }
  }

  /** Txs refused at admission since start, by code and by whether the refusal came before or after their signature verify. */
  refusals(): { reason: string; stage: 'before_verify' | 'after_verify'; count: number }[] {
    return [...this.#refusals].map(([key, count]) => {
      const [reason, stage] = key.split('/') as [string, 'before_verify' | 'after_verify']
      return { reason, stage, count }
    })
  }

  #add(tx: SignedTx, state: StateReader, opts: { signatureChecked?: boolean; height?: number; baseFee?: bigint }): Uint8Array {
    const idBytes = txId(tx)
    const id = toHex(idBytes)
    if (this.#ids.has(id)) throw new MempoolError('ALREADY_KNOWN', `tx ${id} is already pending`, { txId: id })
    // The id hashes the signed bytes: these exact bytes failed before, whatever the state says now.
    if (this.#signatureFailed.has(id)) throw new StateError('BAD_SIGNATURE', 'signature does not verify (these bytes failed before)', { from: toHex(tx.body.from) })
    // Another network's tx: refused (WRONG_CHAIN, REJECT) before anything is read.
    if (tx.body.chainId !== this.#opts.chainId) verifyTxSignature(tx, this.#opts.chainId)
    const sender = toHex(tx.body.from)
    const queue = this.#bySender.get(sender) ?? []
    const { replaced, others } = checkTxAdmission(tx, state, this.#opts.params, {
      queue, queuedCost: this.#queuedCost.get(sender) ?? 0n, poolSize: this.#ids.size, maxSize: this.#opts.maxSize, maxQueuedPerSender: this.#opts.maxQueuedPerSender,
      targetsPendingDeploy: this.isPendingDeploy(assetTargetOf(tx)), baseFee: opts.baseFee ?? this.#opts.params.minBaseFee,
    })
    // Last, the sender key's validity (for a key never seen, a point decompression that costs about
    // what a verify does) and the signature.
    verifyTxSignature(tx, this.#opts.chainId, { signatureChecked: true })
    if (opts.signatureChecked !== true && !this.#signatureVerified.has(id)) {
      this.#signaturesChecked++
      try {
        verifyTxSignature(tx, this.#opts.chainId)
      } catch (e) {
        if (e instanceof StateError && e.code === 'BAD_SIGNATURE') this.#rememberSignatureFailed(id)
        throw e
      }
      this.rememberSignatureVerified(id)
    }
    const pending: Pending = { tx, id, seq: replaced?.seq ?? this.#seq++, cost: computeTxCost(tx, this.#opts.params), kind: blockKindOfTx(tx.body.payload.type), size: computeTxSize(tx) }
    if (replaced !== undefined) {
      queue[queue.indexOf(replaced)] = pending
      this.#ids.delete(replaced.id)
      this.#record(replaced, 'REPLACED', `replaced by ${id} (same nonce, higher fee)`, opts.height)
    } else queue.push(pending)
    this.#bySender.set(sender, queue)
    this.#queuedCost.set(sender, others + pending.cost)
    this.#ids.add(id)
    this.#dropped.delete(id)
    return idBytes
  }

  /**
   * Picks the next block's kind and txs. The kind is the one whose best ready tx (a sender's queue
   * head) pays the highest fee per byte, ties to the older; but a kind passed over for
   * `maxKindWaitSlots` slots takes the block, so no kind can hold another back for ever. Then
   * ready txs of that kind, best first, following each sender's nonce chain while it stays of that
   * kind, up to `max` txs and `limits.maxBytes` tx bytes (one tx alone may be larger). A tx whose
   * fee no longer covers the block's base fee is not ready: it waits (with its successors) for
   * the base fee to fall, or for the sender to replace it with a higher fee.
   */
  select(max: number, slot: number, limits: SelectLimits = { baseFee: this.#opts.params.minBaseFee, maxBytes: Number.MAX_SAFE_INTEGER }): { kind: PoolKind; txs: SignedTx[] } | undefined {
    const pays = (p: Pending): boolean => p.tx.body.fee >= computeRequiredFee(p.size, limits.baseFee, this.#opts.params)
    const bestOf = new Map<PoolKind, Pending>()
    for (const q of this.#bySender.values()) {
      const head = q[0]
      if (head && pays(head) && isBetter(head, bestOf.get(head.kind))) bestOf.set(head.kind, head)
    }
    let kind: PoolKind | undefined
    let overdueSince = Infinity
    for (const k of POOL_KINDS) {
      const since = this.#waitingSince.get(k)
      if (bestOf.has(k) && since !== undefined && slot - since >= this.#opts.maxKindWaitSlots && since < overdueSince) {
        kind = k
        overdueSince = since
      }
    }
    if (kind === undefined) {
      let best: Pending | undefined
      for (const p of bestOf.values()) if (isBetter(p, best)) best = p
      kind = best?.kind
    }
    for (const k of POOL_KINDS) {
      if (!bestOf.has(k) || k === kind) this.#waitingSince.delete(k)
      else if (!this.#waitingSince.has(k)) this.#waitingSince.set(k, slot)
    }
    if (kind === undefined) return undefined
    const heads = [...this.#bySender.values()].map((q) => ({ q, i: 0 }))
    const out: SignedTx[] = []
    let bytes = 0
    while (out.length < max) {
      let best: { q: Pending[]; i: number } | undefined
      for (const h of heads) {
        const p = h.q[h.i]
        if (p && p.kind === kind && pays(p) && isBetter(p, best && best.q[best.i])) best = h
      }
      if (!best) break
      const p = best.q[best.i]!
      if (out.length > 0 && bytes + p.size > limits.maxBytes) break
      out.push(p.tx)
      bytes += p.size
      best.i++
    }
    return { kind, txs: out }
  }

  /**
   * After a block at `height`: drops the txs it included, and drops (with the reason) txs whose
   * nonce another tx used and txs the sender can no longer pay for, with their successors.
   * `accounts` (hex addresses), when given, are the accounts whose rows the block wrote: only
   * those senders' queues are checked again, since a queue depends on nothing but its sender's
   * nonce and balance (and every queue was valid before the block). So a block costs the pool in
   * proportion to the block, not to every sender pending.
   */
  prune(state: StateReader, block: { height: number; kind?: string; included?: ReadonlySet<string>; accounts?: Iterable<string> }): void {
    if (block.kind !== undefined) this.#waitingSince.delete(block.kind as PoolKind)
    const queues = block.accounts === undefined ? this.#bySender : this.#queuesOf(block.accounts)
    for (const [sender, queue] of queues) {
      const acc = readAccount(state, queue[0]!.tx.body.from)
      const keep: Pending[] = []
      let committed = 0n
      let cut: { code: string; message: string } | undefined
      for (const p of queue) {
        if (p.tx.body.nonce < acc.nonce) {
          this.#ids.delete(p.id)
          if (!block.included?.has(p.id)) this.#record(p, 'NONCE_TOO_LOW', `nonce ${p.tx.body.nonce} was used by another tx`, block.height)
          continue
        }
        if (cut === undefined && p.tx.body.nonce !== acc.nonce + keep.length) cut = { code: 'NONCE_GAP', message: `nonce ${p.tx.body.nonce} no longer follows the account nonce ${acc.nonce}` }
        if (cut === undefined && acc.balance < committed + p.cost + this.#opts.params.existentialDeposit) cut = { code: 'INSUFFICIENT_FUNDS', message: `balance ${acc.balance} no longer covers the pending cost ${committed + p.cost} and the existential deposit` }
        if (cut !== undefined) {
          this.#ids.delete(p.id)
          this.#record(p, cut.code, cut.message, block.height)
          cut = { code: 'NONCE_GAP', message: 'follows a dropped tx of the same sender' }
          continue
        }
        committed += p.cost
        keep.push(p)
      }
      this.#setQueue(sender, keep)
    }
  }

  #setQueue(sender: string, keep: Pending[]): void {
    if (keep.length === 0) {
      this.#bySender.delete(sender)
      this.#queuedCost.delete(sender)
    } else {
      this.#bySender.set(sender, keep)
      this.#queuedCost.set(sender, keep.reduce((sum, p) => sum + p.cost, 0n))
    }
  }

  /**
   * Drops a tx that cannot apply (at proposal), with its reason, and the sender's later txs
   * that depended on its nonce.
   */
  drop(tx: SignedTx, reason: { code: string; message: string }, height: number): void {
    const sender = toHex(tx.body.from)
    const queue = this.#bySender.get(sender)
    if (!queue) return
    const keep = queue.filter((p) => p.tx.body.nonce < tx.body.nonce)
    for (const p of queue) {
      if (keep.includes(p)) continue
      this.#ids.delete(p.id)
      if (p.tx.body.nonce === tx.body.nonce) this.#record(p, reason.code, reason.message, height)
      else this.#record(p, 'NONCE_GAP', `follows dropped tx of nonce ${tx.body.nonce}`, height)
    }
    this.#setQueue(sender, keep)
  }

  /** Removes a sender's own tx (and its successors) without recording a drop: the node replaces it itself. */
  remove(tx: SignedTx): void {
    const sender = toHex(tx.body.from)
    const queue = this.#bySender.get(sender)
    if (!queue) return
    const keep = queue.filter((p) => p.tx.body.nonce < tx.body.nonce)
    for (const p of queue) if (!keep.includes(p)) this.#ids.delete(p.id)
    this.#setQueue(sender, keep)
  }

  /** The nonce the sender's next tx must carry: the account's, past the sender's pending txs. */
  nextNonce(address: Uint8Array, state: StateReader): number {
    return readAccount(state, address).nonce + (this.#bySender.get(toHex(address))?.length ?? 0)
  }

  #queuesOf(senders: Iterable<string>): [string, Pending[]][] {
    const out: [string, Pending[]][] = []
    for (const sender of senders) {
      const queue = this.#bySender.get(sender)
      if (queue !== undefined) out.push([sender, queue])
    }
    return out
  }

  /** Whether `sender` (hex address) has txs pending here. */
  hasSender(sender: string): boolean {
    return this.#bySender.has(sender)
  }

  /** The addresses with txs pending here. */
  senders(): Uint8Array[] {
    return [...this.#bySender.values()].map((queue) => queue[0]!.tx.body.from)
  }

  pending(): SignedTx[] {
    return [...this.#bySender.values()].flat().sort((a, b) => a.seq - b.seq).map((p) => p.tx)
  }

  #record(p: Pending, code: string, message: string, height: number | undefined): void {
    // Bounded like the record itself: the reason travels in RPC answers and events as is.
    const dropped: DroppedTx = { id: fromHex(p.id), code: code.slice(0, 64), message: message.slice(0, 1024), height: height ?? 0 }
    this.#dropped.delete(p.id)
    this.#dropped.set(p.id, dropped)
    if (this.#dropped.size > this.#opts.maxDroppedRecords) this.#dropped.delete(this.#dropped.keys().next().value!)
    this.#opts.onDrop?.(dropped)
  }
}
