import { computeWriteSetHash } from '../../blocks/executionHashes.ts'
import { receiptSigningHash } from '../../blocks/ids.ts'
import { COMPLETION_STATUS, type CompletionEntry, OUTCOME, type Receipt } from '../../blocks/schema.ts'
import { compareBytes, equalBytes, toHex, verify } from '../crypto/index.ts'
import { credit } from './accounts.ts'
import type { ApplyContext } from './applyContext.ts'
import { scheduleExecutionExpiry } from './applyExecution.ts'
import { StateError } from './errors.ts'
import { advanceExecutionQueue, computeQueueDeadline, requireCurrentPreState, requireQueueHead } from './executionQueue.ts'
import { readHost, recordReputationEvent } from './hosts.ts'
import { isModuleRetrievableByAudits, MarketError, verifyCompletionEntry } from './market/index.ts'
import { EXECUTION_STATUS, HOST_STATUS } from './records.ts'
import { settleAgreedResult } from './settleAgreedResult.ts'
import type { StateOverlay } from './stateView.ts'
import { queueRepairsOfHost } from './storage/repairQueue.ts'
import { TABLES } from './tables.ts'


/** The write-set hash the agreeing quorum signed: the one shared by at least `quorum` receipts with the agreed result. */
function agreedWriteSetHash(entry: CompletionEntry, quorum: number): Uint8Array | undefined {
  const counts = new Map<string, { hash: Uint8Array; n: number }>()
  for (const r of entry.receipts) {
    const b = r.body
    if (b.outcome !== entry.outcome || b.fuelUsed !== entry.fuelUsed || !equalBytes(b.resultHash, entry.resultHash)) continue
    const k = toHex(b.writeSetHash)
    const c = counts.get(k) ?? { hash: b.writeSetHash, n: 0 }
    c.n++
    counts.set(k, c)
    if (c.n >= quorum) return c.hash
  }
  return undefined
}

function verifyReceipt(r: Receipt, chainId: string, executionId: Uint8Array, checked: ((r: Receipt) => boolean) | undefined): void {
  if (r.body.chainId !== chainId) throw new StateError('WRONG_CHAIN', 'receipt for another chain', { got: r.body.chainId, expected: chainId })
  if (!equalBytes(r.body.executionId, executionId)) throw new StateError('ENTRY_MISMATCH', 'receipt names another execution', { field: 'receipts' })
  if (checked?.(r) !== true && !verify(r.body.host, receiptSigningHash(r.body), r.signature)) throw new StateError('BAD_SIGNATURE', `receipt from ${toHex(r.body.host)} has a bad signature`, { host: toHex(r.body.host) })
}

/**
 * Settles an execution. Every validator recomputes the entry from the execution record, the
 * host records and the receipts it carries (market/computeCompletion) and rejects any
 * difference; then pays out, refunds, burns, moves reputation, and commits the agreed write set
 * to the asset's key-value state, so later executions see it. Only the head of the asset's
 * execution queue settles, and only from receipts computed on the state the queue names
 * (executionQueue.ts): executions of one asset take effect in chain order.
 */
export function applyCompletion(state: StateOverlay, entry: CompletionEntry, ctx: ApplyContext): void {
  const row = TABLES.execution.at(entry.executionId)
  const rec = state.read(row)
  if (rec === undefined) throw new StateError('UNKNOWN_EXECUTION', `no execution ${toHex(entry.executionId)}`)
  if (rec.status !== EXECUTION_STATUS.pending) throw new StateError('ENTRY_MISMATCH', 'execution already settled', { field: 'executionId' })
  const queue = requireQueueHead(state, rec)
  for (const r of entry.receipts) verifyReceipt(r, ctx.genesis.chainId, entry.executionId, ctx.receiptChecked)
  requireCurrentPreState(queue, entry.receipts.map((r) => r.body.preStateHash))
  let result
  try {
    result = verifyCompletionEntry(entry, {
      execution: rec,
      executionId: entry.executionId,
      hosts: (a) => readHost(state, a),
      params: ctx.genesis.params,
      proposer: ctx.proposer,
      deadlinePassed: ctx.slot > computeQueueDeadline(rec, queue),
      height: ctx.height,
      retrievableByAudits: isModuleRetrievableByAudits(state.read(TABLES.asset.at(rec.asset)), ctx.height, ctx.genesis.params.auditEpochSlots),
    })
  } catch (cause) {
    const details = cause instanceof MarketError ? cause.details : {}
    throw new StateError('ENTRY_MISMATCH', `completion rejected: ${(cause as Error).message}`, details, { cause })
  }
  const s = state.child()
  const commitsState = entry.status === COMPLETION_STATUS.agreed && entry.outcome === OUTCOME.ok
  if (commitsState) {
    for (let i = 1; i < entry.writeSet.length; i++) {
      if (compareBytes(entry.writeSet[i - 1]!.key, entry.writeSet[i]!.key) >= 0) throw new StateError('ENTRY_MISMATCH', 'write set is not sorted by key with one write per key', { field: 'writeSet' })
    }
    const agreed = agreedWriteSetHash(entry, rec.quorum)
    const got = computeWriteSetHash(entry.writeSet)
    if (agreed === undefined || !equalBytes(agreed, got)) throw new StateError('ENTRY_MISMATCH', 'write set does not hash to the agreed writeSetHash', { field: 'writeSet', got: toHex(got), expected: agreed && toHex(agreed) })
    for (const w of entry.writeSet) s.write(TABLES.assetKv.at(rec.asset, w.key), w.value)
  } else if (entry.writeSet.length > 0) {
    throw new StateError('ENTRY_MISMATCH', 'a failed or trapped execution commits no state', { field: 'writeSet' })
  }
  advanceExecutionQueue(s, rec.asset, entry.writeSet, ctx.slot)
  for (const p of entry.payouts) credit(s, p.to, p.amount)
  credit(s, rec.client, entry.refund)
  if (entry.burn > 0n) {
    const supply = s.read(TABLES.supply.at()) ?? { total: 0n, burned: 0n }
    s.write(TABLES.supply.at(), { total: supply.total - entry.burn, burned: supply.burned + entry.burn })
  }
  for (const u of result.hostUpdates) {
    const wasDisqualified = s.read(TABLES.host.at(u.host))?.status === HOST_STATUS.disqualified
    s.write(TABLES.host.at(u.host), u.record)
    if (u.record.status === HOST_STATUS.disqualified && !wasDisqualified) queueRepairsOfHost(s, u.host)
    recordReputationEvent(s, u.host, u.event, ctx.genesis.params.reputationHistoryLimit)
  }
  s.write(row, { ...rec, status: entry.status === COMPLETION_STATUS.agreed ? EXECUTION_STATUS.completed : EXECUTION_STATUS.failed })
  scheduleExecutionExpiry(s, entry.executionId, ctx)
  if (entry.status === COMPLETION_STATUS.agreed) settleAgreedResult(s, entry, ctx)
  s.mergeInto(state)
}
