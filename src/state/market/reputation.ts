import { type Address, type Hash, REPUTATION_CAUSE, type ReputationChange } from '../../../blocks/schema.ts'
import { HOST_STATUS, type HostRecord, type ReputationEvent } from '../../state/records.ts'
import { MarketError } from './errors.ts'
import { BP, type MarketParams } from './marketParams.ts'

/**
 * Reputation: integer basis points 0..10000, an exponential moving average over events. Each event
 * pulls the score toward a target (10000 for good behaviour, 0 for bad) by alpha × weight:
 *   step  = floor(|target − before| × min(10000, alphaBp × weight) / 10000), at least 1 unless already at target
 *   after = before ± step
 * Weights make some evidence count more: a dissenting receipt (a wrong result next to an agreed
 * quorum) weighs 3, a failed audit (data lost or corrupted) 2, everything else 1. The minimum step
 * of 1 means a run of good events always reaches the top and a run of bad ones always reaches 0.
 */
export const REPUTATION_RULES: Record<number, { target: number; weight: number }> = {
  [REPUTATION_CAUSE.auditPass]: { target: BP, weight: 1 },
  [REPUTATION_CAUSE.receiptAgreed]: { target: BP, weight: 1 },
  [REPUTATION_CAUSE.auditFail]: { target: 0, weight: 2 },
  [REPUTATION_CAUSE.auditNoAnswer]: { target: 0, weight: 1 },
  [REPUTATION_CAUSE.receiptDissent]: { target: 0, weight: 3 },
  [REPUTATION_CAUSE.noShow]: { target: 0, weight: 1 },
  [REPUTATION_CAUSE.livenessMiss]: { target: 0, weight: 1 },
}

export function computeReputation(before: number, cause: number, params: Pick<MarketParams, 'reputationAlphaBp'>): number {
  if (!Number.isInteger(before) || before < 0 || before > BP) throw new MarketError('BAD_INPUT', `reputation ${before} is not in 0..10000`, { before })
  const rule = REPUTATION_RULES[cause]
  if (rule === undefined) throw new MarketError('BAD_INPUT', `unknown reputation cause ${cause}`, { cause })
  if (before === rule.target) return before
  const alpha = Math.min(BP, params.reputationAlphaBp * rule.weight)
  const gap = Math.abs(rule.target - before)
  const step = Math.max(1, Math.floor((gap * alpha) / BP))
  return rule.target > before ? before + step : before - step
}

/**
 * Status after a reputation change. Suspension comes first and has a way back: a suspended host
 * gets no new work but is still audited on what it holds, and once passing audits lift it to
 * reputationSuspendBp it is active again. Below reputationDisqualifyBp it is disqualified, which
 * is final, as is having left. A draining host stays draining unless disqualified.
 */
export function computeHostStatus(record: Pick<HostRecord, 'reputation' | 'status'>, params: Pick<MarketParams, 'reputationSuspendBp' | 'reputationDisqualifyBp'>): number {
  const { status, reputation } = record
  if (status === HOST_STATUS.disqualified || status === HOST_STATUS.left) return status
  if (reputation < params.reputationDisqualifyBp) return HOST_STATUS.disqualified
  if (status === HOST_STATUS.active && reputation < params.reputationSuspendBp) return HOST_STATUS.suspended
  if (status === HOST_STATUS.suspended && reputation >= params.reputationSuspendBp) return HOST_STATUS.active
  return status
}

export interface ReputationUpdate {
  record: HostRecord
  change: ReputationChange
  event: ReputationEvent
}

/**
 * One reputation event applied to a host: the new record (reputation and status), the
 * `ReputationChange` a block entry carries, and the `ReputationEvent` the state stores per host.
 * `subject` is what the event is about (execution id or asset id).
 */
export function computeReputationUpdate(
  host: Address,
  record: HostRecord,
  cause: number,
  params: Pick<MarketParams, 'reputationAlphaBp' | 'reputationSuspendBp' | 'reputationDisqualifyBp'>,
  height: number,
  subject: Hash,
): ReputationUpdate {
  const before = record.reputation
  const after = computeReputation(before, cause, params)
  const status = computeHostStatus({ reputation: after, status: record.status }, params)
  // Vetting (docs/router.md) counts good events: a passed audit or a receipt that agreed with the quorum.
  const passed = cause === REPUTATION_CAUSE.auditPass || cause === REPUTATION_CAUSE.receiptAgreed
  const passedChecks = passed && record.passedChecks < 0xffff_ffff ? record.passedChecks + 1 : record.passedChecks
  return {
    record: { ...record, reputation: after, status, passedChecks },
    change: { host, before, after, cause },
    event: { height, cause, before, after, subject },
  }
}
