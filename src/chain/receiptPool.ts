import { XscError } from '../../blocks/errors.ts'
import { computeWriteSetHash } from '../../blocks/executionHashes.ts'
import { receiptSigningHash } from '../../blocks/ids.ts'
import type { BlockEntry, Hash, KvWrite, Receipt } from '../../blocks/schema.ts'
import { equalBytes, toHex, verify } from '../crypto/index.ts'
import { decodeTrusted } from '../../blocks/codec.ts'
import { readHost } from '../state/hosts.ts'
import { computeCompletion } from '../state/market/index.ts'
import { EXECUTION_STATUS, ExecutionRecord } from '../state/records.ts'
import { executionKey, STATE_PREFIX } from '../state/stateKeys.ts'
import { StateOverlay, type StateReader } from '../state/stateView.ts'
import type { ApplyContext } from '../state/applyContext.ts'
import { applyCompletion } from '../state/applyCompletion.ts'

export type ReceiptErrorCode = 'UNKNOWN_EXECUTION' | 'NOT_ASSIGNED' | 'BAD_SIGNATURE' | 'WRONG_CHAIN' | 'WRITE_SET_MISMATCH' | 'DUPLICATE' | 'SETTLED'
export class ReceiptError extends XscError<ReceiptErrorCode> {}

interface Held { receipt: Receipt; writeSet: KvWrite[] }

/**
 * Receipts hosts gossiped, per execution in arrival order, each checked on arrival (signature,
 * assignment, write-set hash). The proposer builds completion entries from it; an entry lists
 * the receipts in this order and validators recompute the settlement from them.
 */
export class ReceiptPool {
  readonly #chainId: string
  readonly #byExecution = new Map<string, Held[]>()

  constructor(chainId: string) {
    this.#chainId = chainId
  }

  add(receipt: Receipt, writeSet: KvWrite[], state: StateReader): void {
    const b = receipt.body
    if (b.chainId !== this.#chainId) throw new ReceiptError('WRONG_CHAIN', `receipt for chain ${b.chainId}`)
    const recBytes = state.get(executionKey(b.executionId))
    if (recBytes === undefined) throw new ReceiptError('UNKNOWN_EXECUTION', `no execution ${toHex(b.executionId)}`)
    const rec = decodeTrusted(ExecutionRecord, recBytes)
    if (rec.status !== EXECUTION_STATUS.pending) throw new ReceiptError('SETTLED', 'execution already settled')
    if (!rec.assignment.some((h) => equalBytes(h, b.host))) throw new ReceiptError('NOT_ASSIGNED', `host ${toHex(b.host)} is not assigned this execution`)
    if (!verify(b.host, receiptSigningHash(b), receipt.signature)) throw new ReceiptError('BAD_SIGNATURE', 'receipt signature does not verify')
    if (!equalBytes(computeWriteSetHash(writeSet), b.writeSetHash)) throw new ReceiptError('WRITE_SET_MISMATCH', 'write set does not hash to the receipt writeSetHash')
    const id = toHex(b.executionId)
    const held = this.#byExecution.get(id) ?? []
    if (held.some((h) => equalBytes(h.receipt.body.host, b.host))) throw new ReceiptError('DUPLICATE', 'this host already sent a receipt')
    held.push({ receipt, writeSet })
    this.#byExecution.set(id, held)
  }

  receiptsOf(executionId: Hash): Receipt[] {
    return (this.#byExecution.get(toHex(executionId)) ?? []).map((h) => h.receipt)
  }

  /**
   * Completion entries this block can carry: executions whose receipts reach quorum, and
   * executions past their deadline (settled as failed, refunded, no-shows penalized).
   */
  computeCompletions(state: StateReader, ctx: ApplyContext, max: number): Extract<BlockEntry, { type: 'completion' }>[] {
    const out: Extract<BlockEntry, { type: 'completion' }>[] = []
    // Each completion is computed against the state with the earlier ones of this block applied
    // (they move the same hosts' reputation), exactly as validators will apply them.
    const view = new StateOverlay(state)
    let events = 0
    for (const w of state.scan(new Uint8Array([STATE_PREFIX.execution]))) {
      if (out.length >= max) break
      const rec = decodeTrusted(ExecutionRecord, w.value!)
      if (rec.status !== EXECUTION_STATUS.pending) continue
      const executionId = w.key.subarray(1)
      const held = this.#byExecution.get(toHex(executionId)) ?? []
      const deadlinePassed = ctx.slot > rec.deadlineSlot
      if (held.length === 0 && !deadlinePassed) continue
      const receipts = held.map((h) => h.receipt)
      const result = computeCompletion({ execution: rec, executionId, receipts, hosts: (a) => readHost(view, a), params: ctx.genesis.params, proposer: ctx.proposer, deadlinePassed, height: ctx.height })
      if (result === undefined) continue
      const agreedWrites = result.status === 0 && result.outcome === 0
        ? held.find((h) => h.receipt.body.outcome === result.outcome && equalBytes(h.receipt.body.resultHash, result.resultHash) && h.receipt.body.fuelUsed === result.fuelUsed)?.writeSet ?? []
        : []
      const entry: Extract<BlockEntry, { type: 'completion' }> = {
        type: 'completion',
        executionId,
        status: result.status,
        outcome: result.outcome,
        resultHash: result.resultHash,
        fuelUsed: result.fuelUsed,
        output: result.output,
        writeSet: agreedWrites,
        receipts,
        payouts: result.payouts,
        refund: result.refund,
        burn: result.burn,
        reputation: result.reputation,
      }
      try {
        applyCompletion(view, entry, ctx, () => events++)
        out.push(entry)
      } catch {
        // not settleable in this block (e.g. a receipt set that no longer verifies): leave it for a later one
      }
    }
    return out
  }

  /** Drops receipts of executions the state has settled. */
  prune(state: StateReader): void {
    for (const id of [...this.#byExecution.keys()]) {
      const b = state.get(executionKey(Buffer.from(id.slice(2), 'hex')))
      if (b === undefined || decodeTrusted(ExecutionRecord, b).status !== EXECUTION_STATUS.pending) this.#byExecution.delete(id)
    }
  }
}
