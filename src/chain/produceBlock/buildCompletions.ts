import { COMPLETION_STATUS, type CompletionEntry, type Hash, OUTCOME } from '../../../blocks/schema.ts'
import { equalBytes } from '../../crypto/index.ts'
import { applyCompletion } from '../../state/applyCompletion.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { assetsWithPendingExecutions, computeQueueDeadline, pendingExecutionsOf, readExecutionQueue } from '../../state/executionQueue.ts'
import { readHost } from '../../state/hosts.ts'
import { computeCompletion, isModuleRetrievableByAudits } from '../../state/market/index.ts'
import { EXECUTION_STATUS } from '../../state/records.ts'
import type { StateOverlay } from '../../state/stateView.ts'
import { readRow, TABLES } from '../../state/tables.ts'
import type { ReceiptPool } from '../receiptPool.ts'

/**
 * The completion of an asset's head execution, if it can settle now: from the receipts computed
 * on the state the queue names (older ones are stale), once they reach quorum or the deadline passed.
 */
function buildHeadCompletion(view: StateOverlay, executionId: Hash, ctx: ApplyContext, receipts: ReceiptPool): CompletionEntry | undefined {
  const rec = readRow(view, TABLES.execution.at(executionId))
  if (rec === undefined) return undefined
  if (rec.status !== EXECUTION_STATUS.pending) return undefined
  const queue = readExecutionQueue(view, rec.asset)
  const held = receipts.heldFor(executionId).filter((h) => equalBytes(h.receipt.body.preStateHash, queue.stateHash))
  const deadlinePassed = ctx.slot > computeQueueDeadline(rec, queue)
  if (held.length === 0 && !deadlinePassed) return undefined
  const receiptList = held.map((h) => h.receipt)
  const result = computeCompletion({ execution: rec, executionId, receipts: receiptList, hosts: (a) => readHost(view, a), params: ctx.genesis.params, proposer: ctx.proposer, deadlinePassed, height: ctx.height, retrievableByAudits: isModuleRetrievableByAudits(view.read(TABLES.asset.at(rec.asset)), ctx.height, ctx.genesis.params.auditEpochSlots) })
  if (result === undefined) return undefined
  // Only an agreed, successful run writes state: the write set of a receipt in the agreeing quorum.
  const agreedWrites = result.status === COMPLETION_STATUS.agreed && result.outcome === OUTCOME.ok
    ? held.find((h) => h.receipt.body.outcome === result.outcome && equalBytes(h.receipt.body.resultHash, result.resultHash) && h.receipt.body.fuelUsed === result.fuelUsed)?.writeSet ?? []
    : []
  return {
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
}

/**
 * Completion entries this block can carry: per asset, its queue's executions in order, as long as
 * each reaches quorum on the state the previous one left (or passed its deadline: settled as
 * failed, refunded, no-shows penalized). An entry lists the receipts in the pool's arrival order;
 * validators recompute the settlement from them. Each one chosen is applied to `view` (the
 * block's transition when the proposer builds on it: chooseEntries), so the next is computed
 * against the state with the earlier ones applied (they move the queue and the same hosts'
 * reputation), exactly as validators will apply them.
 */
export function buildCompletions(view: StateOverlay, ctx: ApplyContext, receipts: ReceiptPool, max: number): CompletionEntry[] {
  const out: CompletionEntry[] = []
  for (const asset of assetsWithPendingExecutions(view)) {
    for (const { executionId } of pendingExecutionsOf(view, asset)) {
      if (out.length >= max) return out
      const entry = buildHeadCompletion(view, executionId, ctx, receipts)
      if (entry === undefined) break
      try {
        const attempt = view.child()
        applyCompletion(attempt, entry, ctx)
        attempt.mergeInto(view)
        out.push(entry)
      } catch {
        // not settleable in this block (e.g. a receipt set that no longer verifies): leave the queue here for a later one
        break
      }
    }
  }
  return out
}
