import { computeWriteSetHash } from '../../../blocks/executionHashes.ts'
import { type Address, COMPLETION_STATUS, type Hash, OUTCOME, type Payout, type Receipt, REPUTATION_CAUSE, type ReputationChange } from '../../../blocks/schema.ts'
import { compareBytes, equalBytes, toHex } from '../../crypto/bytes.ts'
import { ZERO_HASH } from '../../crypto/hash.ts'
import { ASSET_STATUS, type AssetRecord, EXECUTION_STATUS, type ExecutionRecord, type HostRecord, type ReputationEvent } from '../records.ts'
import { AUDIT_GRACE_BLOCKS } from '../storage/computeAuditEntry.ts'
import { MarketError } from './errors.ts'
import type { MarketParams } from './marketParams.ts'
import { computeClearingPrice, computeFirstReceiptBonus, computeHostPay, computePremiumBp, computeProposerFee, U128_MAX } from './pricing.ts'
import { computeReputationUpdate } from './reputation.ts'

export interface CompletionInputs {
  execution: ExecutionRecord
  /** The execution's id (its execute tx id); every receipt must name it. */
  executionId: Hash
  /** Signature-checked receipts, in arrival order (the order the completion entry lists them). */
  receipts: readonly Receipt[]
  /** Host records of the state before this completion. */
  hosts: (address: Address) => HostRecord | undefined
  params: MarketParams
  proposer: Address
  /** True once the execution's deadline slot has passed: missing receipts are then no-shows. */
  deadlinePassed: boolean
  height: number
  /**
   * Audit evidence that the module could be fetched (isModuleRetrievableByAudits on the executed
   * asset); absent means none. Without it, or a receipt from another host, no-shows are not counted.
   */
  retrievableByAudits?: boolean
}

/**
 * Whether audits show an asset's module could be fetched: the asset is stored (not expired), has
 * been past its audit grace for a whole audit epoch (so at least one audit epoch has challenged its
 * shards; heights never outrun slots), and at least k of its shards passed their latest audit
 * (no consecutive failures) among those their hosts acknowledged (storage acks).
 */
export function isModuleRetrievableByAudits(asset: AssetRecord | undefined, height: number, auditEpochSlots: number): boolean {
  // Only an active (or graced) placement has shards its hosts acknowledged holding.
  if (asset === undefined || (asset.status !== ASSET_STATUS.active && asset.status !== ASSET_STATUS.graced)) return false
  if (height - asset.createdHeight < AUDIT_GRACE_BLOCKS + auditEpochSlots) return false
  return asset.shardFailures.filter((f, i) => f === 0 && (asset.acked.length === 0 || asset.acked[i] === 1)).length >= asset.manifest.k
}

export interface HostReputationUpdate {
  host: Address
  /** The host record with its new reputation and status (computeHostStatus applied). */
  record: HostRecord
  /** The event to store in the host's reputation history. */
  event: ReputationEvent
}

/** Everything a completion entry holds except `receipts` and `writeSet`, plus what the state must apply. */
export interface CompletionResult {
  status: number
  outcome: number
  resultHash: Hash
  fuelUsed: bigint
  output: Uint8Array
  /** Credits, one per address, sorted by address bytes, no zero amounts. */
  payouts: Payout[]
  /** Back to `execution.client`. */
  refund: bigint
  burn: bigint
  /** One change per affected host, sorted by address bytes. */
  reputation: ReputationChange[]
  /** The same changes as new host records and history events, in the same order. */
  hostUpdates: HostReputationUpdate[]
  /** Price per fuel every agreeing host was paid at (0 when failed). */
  clearingPrice: bigint
}

const EMPTY_WRITE_SET_HASH = computeWriteSetHash([])

/**
 * A private execution leaves the asset's state alone (its writes would be public in the completion
 * block, and hosts of later executions could not thread state through an input they cannot read):
 * a receipt reporting writes for one never agrees and, like fuel over the limit, is wrong whatever the others say.
 */
function writesPrivately(ex: Pick<ExecutionRecord, 'private'>, r: Receipt): boolean {
  return ex.private && !equalBytes(r.body.writeSetHash, EMPTY_WRITE_SET_HASH)
}

function receiptKey(r: Receipt): string {
  const b = r.body
  return `${b.outcome}|${toHex(b.resultHash)}|${b.fuelUsed}|${toHex(b.writeSetHash)}`
}

/**
 * Settles an execution from its record and its receipts, deterministically:
 * - Admissibility: every receipt names this execution, comes from an assigned host, at most one per
 *   host (else a typed error: a block carrying such a receipt is invalid).
 * - Quorum: receipts are grouped by (outcome, resultHash, fuelUsed, writeSetHash); the first group,
 *   in arrival order, to reach `quorum` receipts is the agreed result. A receipt claiming more fuel
 *   than the limit, or writes for a private execution, never agrees. No quorum: `undefined` before the deadline (not completable yet),
 *   status failed after it.
 * - Payouts (agreed): clearing = min(bid, highest ask among agreeing hosts); each agreeing host gets
 *   floor(fuelUsed × clearing × premiumBp / 10000); the first agreeing receipt's host also gets
 *   floor(hostPay × firstReceiptBonusBp / 10000); the proposer gets floor(hostTotal × proposerFeeBp /
 *   10000); refund = escrow − all of it (every floor's remainder stays with the client); burn = 0.
 *   Failed: everything is refunded.
 * - Reputation: agreeing → receiptAgreed; other receipts → receiptDissent when a result was agreed
 *   (or when the receipt claims fuel over the limit, which is wrong whatever the others say);
 *   assigned hosts without a receipt → noShow, only once the deadline has passed (a slower honest
 *   host that lost the race to quorum is not punished) and only if the module was retrievable: some
 *   assigned host produced a receipt, or audits show k shards passing (a host is never blamed for
 *   a module nobody could fetch, e.g. a deploy whose blob was never uploaded), and never for a
 *   private execution (its key travels off chain: a silent host may never have received it).
 */
export function computeCompletion(inputs: CompletionInputs): CompletionResult | undefined {
  const { execution: ex, executionId, receipts, params } = inputs
  if (ex.status !== EXECUTION_STATUS.pending) throw new MarketError('BAD_INPUT', `execution is not pending (status ${ex.status})`, { status: ex.status })
  if (!Number.isInteger(ex.quorum) || ex.quorum < 1) throw new MarketError('BAD_INPUT', `quorum ${ex.quorum} must be at least 1`, { quorum: ex.quorum })
  if (ex.escrow < 0n || ex.escrow > U128_MAX) throw new MarketError('OVERFLOW', 'escrow is not a u128', { escrow: ex.escrow })

  const assigned = new Set(ex.assignment.map((a) => toHex(a)))
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  let agreedKey: string | undefined
  for (const [i, r] of receipts.entries()) {
    const host = toHex(r.body.host)
    if (!equalBytes(r.body.executionId, executionId)) throw new MarketError('RECEIPT_WRONG_EXECUTION', `receipt ${i} is for another execution`, { index: i, executionId: toHex(r.body.executionId) })
    if (!assigned.has(host)) throw new MarketError('RECEIPT_NOT_ASSIGNED', `receipt ${i} is from a host not assigned to this execution`, { index: i, host })
    if (seen.has(host)) throw new MarketError('RECEIPT_DUPLICATE', `receipt ${i} repeats host ${host}`, { index: i, host })
    seen.add(host)
    if (r.body.fuelUsed > ex.fuelLimit || writesPrivately(ex, r)) continue
    const key = receiptKey(r)
    const n = (counts.get(key) ?? 0) + 1
    counts.set(key, n)
    if (agreedKey === undefined && n >= ex.quorum) agreedKey = key
  }
  if (agreedKey === undefined && !inputs.deadlinePassed) return undefined

  const causes = new Map<string, { host: Address; cause: number }>()
  let payouts: Payout[] = []
  let refund = ex.escrow
  let clearingPrice = 0n
  let result: Pick<CompletionResult, 'status' | 'outcome' | 'resultHash' | 'fuelUsed' | 'output'>

  if (agreedKey !== undefined) {
    const agreeing = receipts.filter((r) => r.body.fuelUsed <= ex.fuelLimit && receiptKey(r) === agreedKey)
    const first = agreeing[0]!.body
    result = { status: COMPLETION_STATUS.agreed, outcome: first.outcome, resultHash: first.resultHash, fuelUsed: first.fuelUsed, output: first.output }
    const asks: bigint[] = []
    for (const r of agreeing) {
      const rec = inputs.hosts(r.body.host)
      if (rec !== undefined) asks.push(rec.params.askPerFuel)
    }
    clearingPrice = computeClearingPrice(asks, ex.bidPerFuel)
    const hostPay = computeHostPay(first.fuelUsed, clearingPrice, computePremiumBp(ex.private, params))
    const bonus = computeFirstReceiptBonus(hostPay, params)
    const credits: Payout[] = agreeing.map((r) => ({ to: r.body.host, amount: hostPay }))
    credits.push({ to: first.host, amount: bonus })
    const hostTotal = hostPay * BigInt(agreeing.length) + bonus
    const fee = computeProposerFee(hostTotal, params)
    credits.push({ to: inputs.proposer, amount: fee })
    payouts = mergePayouts(credits)
    refund = ex.escrow - hostTotal - fee
    if (refund < 0n) throw new MarketError('BAD_INPUT', 'escrow does not cover the payouts', { escrow: ex.escrow, payouts: hostTotal + fee })
    for (const r of receipts) {
      const agrees = r.body.fuelUsed <= ex.fuelLimit && receiptKey(r) === agreedKey
      causes.set(toHex(r.body.host), { host: r.body.host, cause: agrees ? REPUTATION_CAUSE.receiptAgreed : REPUTATION_CAUSE.receiptDissent })
    }
  } else {
    result = { status: COMPLETION_STATUS.failed, outcome: OUTCOME.ok, resultHash: ZERO_HASH, fuelUsed: 0n, output: new Uint8Array(0) }
    for (const r of receipts) if (r.body.fuelUsed > ex.fuelLimit || writesPrivately(ex, r)) causes.set(toHex(r.body.host), { host: r.body.host, cause: REPUTATION_CAUSE.receiptDissent })
  }
  const retrievable = receipts.length > 0 || inputs.retrievableByAudits === true
  // A private execution's hosts need the key the client delivers off chain: the chain cannot tell a
  // host that ignored it from a client that never sent it, so nobody is blamed for its silence.
  if (inputs.deadlinePassed && retrievable && !ex.private) {
    for (const a of ex.assignment) if (!seen.has(toHex(a))) causes.set(toHex(a), { host: a, cause: REPUTATION_CAUSE.noShow })
  }

  const reputation: ReputationChange[] = []
  const hostUpdates: HostReputationUpdate[] = []
  const affected = [...causes.values()].sort((a, b) => compareBytes(a.host, b.host))
  for (const { host, cause } of affected) {
    const rec = inputs.hosts(host)
    if (rec === undefined) continue // the host record is gone (left and pruned): nothing to update
    const u = computeReputationUpdate(host, rec, cause, params, inputs.height, executionId)
    reputation.push(u.change)
    hostUpdates.push({ host, record: u.record, event: u.event })
  }
  return { ...result, payouts, refund, burn: 0n, reputation, hostUpdates, clearingPrice }
}

/** One credit per address (amounts summed), zero credits dropped, sorted by address bytes. */
export function mergePayouts(credits: readonly Payout[]): Payout[] {
  const by = new Map<string, Payout>()
  for (const c of credits) {
    if (c.amount < 0n) throw new MarketError('BAD_INPUT', 'negative credit', { to: toHex(c.to), amount: c.amount })
    const k = toHex(c.to)
    const prev = by.get(k)
    by.set(k, { to: c.to, amount: (prev?.amount ?? 0n) + c.amount })
  }
  return [...by.values()].filter((p) => p.amount > 0n).sort((a, b) => compareBytes(a.to, b.to))
}
