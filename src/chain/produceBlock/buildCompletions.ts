import { decodeTrusted } from '../../../blocks/codec.ts'
import { COMPLETION_STATUS, type CompletionEntry, OUTCOME } from '../../../blocks/schema.ts'
import { equalBytes } from '../../crypto/index.ts'
import { applyCompletion } from '../../state/applyCompletion.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { readHost } from '../../state/hosts.ts'
import { computeCompletion, isModuleRetrievableByAudits } from '../../state/market/index.ts'
import { AssetRecord, EXECUTION_STATUS, ExecutionRecord } from '../../state/records.ts'
import { assetKey, executionKey, STATE_PREFIX } from '../../state/stateKeys.ts'
import { StateOverlay, type StateReader } from '../../state/stateView.ts'
import type { ReceiptPool } from '../receiptPool.ts'


/**
 * Completion entries this block can carry: executions whose receipts reach quorum, and
 * executions past their deadline (settled as failed, refunded, no-shows penalized). An entry
 * lists the receipts in the pool's arrival order; validators recompute the settlement from them.
 */
export function buildCompletions(state: StateReader, ctx: ApplyContext, receipts: ReceiptPool, max: number): CompletionEntry[] {
  const out: CompletionEntry[] = []
  // Each completion is computed against the state with the earlier ones of this block applied
  // (they move the same hosts' reputation), exactly as validators will apply them.
  const view = new StateOverlay(state)
  let events = 0
  // The pending index, not every execution ever: work ∝ executions in flight.
  for (const w of state.scan(new Uint8Array([STATE_PREFIX.pendingExecution]))) {
    if (out.length >= max) break
    const executionId = w.key.subarray(1)
    const recBytes = state.get(executionKey(executionId))
    if (recBytes === undefined) continue
    const rec = decodeTrusted(ExecutionRecord, recBytes)
    if (rec.status !== EXECUTION_STATUS.pending) continue
    const held = receipts.heldFor(executionId)
    const deadlinePassed = ctx.slot > rec.deadlineSlot
    if (held.length === 0 && !deadlinePassed) continue
    const receiptList = held.map((h) => h.receipt)
    const result = computeCompletion({ execution: rec, executionId, receipts: receiptList, hosts: (a) => readHost(view, a), params: ctx.genesis.params, proposer: ctx.proposer, deadlinePassed, height: ctx.height, retrievableByAudits: isModuleRetrievableByAudits(view.read(AssetRecord, assetKey(rec.asset)), ctx.height, ctx.genesis.params.auditEpochSlots) })
    if (result === undefined) continue
    // Only an agreed, successful run writes state: the write set of a receipt in the agreeing quorum.
    const agreedWrites = result.status === COMPLETION_STATUS.agreed && result.outcome === OUTCOME.ok
      ? held.find((h) => h.receipt.body.outcome === result.outcome && equalBytes(h.receipt.body.resultHash, result.resultHash) && h.receipt.body.fuelUsed === result.fuelUsed)?.writeSet ?? []
      : []
    const entry: CompletionEntry = {
      type: 'completion',
      executionId,
      status: result.status,
      outcome: result.outcome,
      resultHash: result.resultHash,
      fuelUsed: result.fuelUsed,
      output: result.output,
      writeSet: agreedWrites,
      receipts: receiptList,
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
