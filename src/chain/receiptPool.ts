import { computeWriteSetHash } from '../../blocks/executionHashes.ts'
import { receiptSigningHash, sameValue } from '../../blocks/ids.ts'
import type { Hash, KvWrite, Receipt } from '../../blocks/schema.ts'
import { equalBytes, toHex, verify } from '../crypto/index.ts'
import { EXECUTION_STATUS } from '../state/records.ts'
import type { StateReader } from '../state/stateView.ts'
import { readRow, TABLES } from '../state/tables.ts'
import { ReceiptError } from './errors.ts'

/** A receipt with the write set it signed (and the hash its signature was checked over). */
export interface HeldReceipt { receipt: Receipt; writeSet: KvWrite[]; signingHash: Hash }

/**
 * Receipts hosts gossiped, per execution in arrival order, each checked on arrival (signature,
 * assignment, write-set hash), the latest per host (each names the asset state it ran on;
 * block production takes those on the current state). It only holds them: block production
 * (produceBlock/buildCompletions.ts) builds completion entries from what it holds.
 */
export class ReceiptPool {
  readonly #chainId: string
  readonly #byExecution = new Map<string, HeldReceipt[]>()
  #admitted = 0

  constructor(chainId: string) {
    this.#chainId = chainId
  }

  /**
   * Admits a receipt after its checks (ReceiptError says why not). `signedHere`: this process
   * signed it a moment ago with its own host key (HostRole), so its signature is not verified
   * again; every other caller's receipt is.
   */
  add(receipt: Receipt, writeSet: KvWrite[], state: StateReader, opts: { signedHere?: boolean } = {}): void {
    const b = receipt.body
    if (b.chainId !== this.#chainId) throw new ReceiptError('WRONG_CHAIN', `receipt for chain ${b.chainId}`)
    const rec = readRow(state, TABLES.execution.at(b.executionId))
    if (rec === undefined) throw new ReceiptError('UNKNOWN_EXECUTION', `no execution ${toHex(b.executionId)}`)
    if (rec.status !== EXECUTION_STATUS.pending) throw new ReceiptError('SETTLED', 'execution already settled')
    if (!rec.assignment.some((h) => equalBytes(h, b.host))) throw new ReceiptError('NOT_ASSIGNED', `host ${toHex(b.host)} is not assigned this execution`)
    const signingHash = receiptSigningHash(b)
    if (opts.signedHere !== true && !verify(b.host, signingHash, receipt.signature)) throw new ReceiptError('BAD_SIGNATURE', 'receipt signature does not verify')
    if (!equalBytes(computeWriteSetHash(writeSet), b.writeSetHash)) throw new ReceiptError('WRITE_SET_MISMATCH', 'write set does not hash to the receipt writeSetHash')
    const id = toHex(b.executionId)
    const held = this.#byExecution.get(id) ?? []
    const previous = held.findIndex((h) => equalBytes(h.receipt.body.host, b.host))
    if (previous >= 0 && equalBytes(held[previous]!.receipt.body.preStateHash, b.preStateHash)) throw new ReceiptError('DUPLICATE', 'this host already sent a receipt')
    // A host re-runs an execution when the state it ran on turned out stale (executionQueue.ts):
    // its newer receipt replaces the older one, so a host holds one place per execution.
    if (previous >= 0) held.splice(previous, 1)
    held.push({ receipt, writeSet, signingHash })
    this.#byExecution.set(id, held)
    this.#admitted++
  }

  /** Executions with receipts held. */
  get size(): number {
    return this.#byExecution.size
  }

  /** Receipts admitted since the pool was made: a proposer waiting for a quorum retries when it grows. */
  get admitted(): number {
    return this.#admitted
  }

  receiptsOf(executionId: Hash): Receipt[] {
    return (this.#byExecution.get(toHex(executionId)) ?? []).map((h) => h.receipt)
  }

  /** What the pool holds for one execution, in arrival order (block production builds completions from it). */
  heldFor(executionId: Hash): readonly HeldReceipt[] {
    return this.#byExecution.get(toHex(executionId)) ?? []
  }

  /**
   * Whether this pool checked `receipt`'s signature on arrival: it holds a receipt with the same
   * signing hash (which covers the whole body, host included) and the same signature bytes. Block
   * import then skips its own check of that receipt (one verify per receipt per node).
   */
  hasChecked(receipt: Receipt): boolean {
    const held = this.#byExecution.get(toHex(receipt.body.executionId))
    if (held === undefined) return false
    const match = held.find((h) => equalBytes(h.receipt.signature, receipt.signature))
    if (match === undefined) return false
    // Equal fields have one canonical encoding, so one signing hash: compared without encoding
    // and hashing the body again (a proposer meets each held receipt three times per completion).
    return sameValue(match.receipt.body, receipt.body)
  }

  /**
   * Drops receipts of executions the state has settled, and returns those of settled executions:
   * one the completion left out may contradict the agreed result (evidence against its host).
   */
  prune(state: StateReader): Receipt[] {
    const settled: Receipt[] = []
    for (const id of [...this.#byExecution.keys()]) {
      const rec = readRow(state, TABLES.execution.at(Buffer.from(id.slice(2), 'hex')))
      if (rec !== undefined && rec.status === EXECUTION_STATUS.pending) continue
      if (rec !== undefined) for (const h of this.#byExecution.get(id)!) settled.push(h.receipt)
      this.#byExecution.delete(id)
    }
    return settled
  }
}
