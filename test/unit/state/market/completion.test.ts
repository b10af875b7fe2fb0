import { describe, expect, it } from 'vitest'

import type { ErrorWithCode } from '../../../../blocks/errors.ts'
import { computeWriteSetHash } from '../../../../blocks/executionHashes.ts'
import { type Address, COMPLETION_STATUS, REPUTATION_CAUSE } from '../../../../blocks/schema.ts'
import { toHex } from '../../../../src/crypto/bytes.ts'
import {
  type CompletionInputs,
  computeCompletion,
  computeEscrow,
  computeEscrowBreakdown,
  isModuleRetrievableByAudits,
  MARKET_PARAM_DEFAULTS,
  MarketError,
  verifyCompletionEntry,
  verifyConservation,
} from '../../../../src/state/market/index.ts'
import { ASSET_STATUS, type AssetRecord, type HostRecord } from '../../../../src/state/records.ts'
import { AUDIT_GRACE_BLOCKS } from '../../../../src/state/storage/computeAuditEntry.ts'
import { makeHost } from '../../router/hostFixtures.ts'
import { CLIENT, EXEC_ID, hostAddr, makeExecution, makeReceipt, PROPOSER } from './marketFixtures.ts'

// premium 2x, first-receipt bonus 10%, proposer fee 5%, alpha 10%, suspend 3000, disqualify 1000.
const params = MARKET_PARAM_DEFAULTS
/** What an honest host reports for a private execution: no writes. */
const noWrites = { writeSetHash: computeWriteSetHash([]) }

const hosts = new Map<string, HostRecord>([
  [toHex(hostAddr(1)), makeHost({ askPerFuel: 6n, reputation: 5_000 })],
  [toHex(hostAddr(2)), makeHost({ askPerFuel: 8n, reputation: 5_000 })],
  [toHex(hostAddr(3)), makeHost({ askPerFuel: 3n, reputation: 5_000 })],
])
const lookup = (a: Address): HostRecord | undefined => hosts.get(toHex(a))

function inputs(over: Partial<CompletionInputs> = {}): CompletionInputs {
  const execution = over.execution ?? makeExecution()
  // The execution record carries the escrow its execute tx locked.
  return { executionId: EXEC_ID, receipts: [], hosts: lookup, params, proposer: PROPOSER, deadlinePassed: false, height: 42, ...over, execution: { ...execution, escrow: computeEscrow(execution, params) } }
}

const payoutMap = (ps: { to: Uint8Array; amount: bigint }[]): Record<string, bigint> => Object.fromEntries(ps.map((p) => [toHex(p.to).slice(0, 4), p.amount]))

describe('escrow', () => {
  it('locks fuelLimit × bid × replicas plus bonus and fee headroom', () => {
    // per host 1000 × 10 = 10000; hosts 3 × 10000 = 30000; bonus 10% of 10000 = 1000;
    // fee 5% of 31000 = 1550; total 32550.
    expect(computeEscrowBreakdown(makeExecution(), params)).toEqual({ hosts: 30_000n, bonus: 1_000n, fee: 1_550n, total: 32_550n })
    // private doubles the host part: 60000 + 2000 + 5% of 62000 = 3100 → 65100.
    expect(computeEscrow(makeExecution({ private: true }), params)).toBe(65_100n)
  })

  it('rejects amounts that do not fit u128 and nonsense inputs', () => {
    expect(() => computeEscrow(makeExecution({ fuelLimit: 1n << 64n, bidPerFuel: 1n << 64n }), params)).toThrow(MarketError)
    expect(() => computeEscrow(makeExecution({ replicas: 0 }), params)).toThrow(MarketError)
    expect(() => computeEscrow(makeExecution({ bidPerFuel: -1n }), params)).toThrow(MarketError)
  })
})

describe('computeCompletion payouts', () => {
  it('pays agreeing hosts at the highest agreeing ask, the first receipt a bonus, the proposer its fee, refunds the rest', () => {
    const r = computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(3), 650n, 9), makeReceipt(hostAddr(2), 700n)] }))!
    expect(r.status).toBe(COMPLETION_STATUS.agreed)
    expect(r.fuelUsed).toBe(700n)
    // clearing = max(ask 6, ask 8) = 8 (≤ bid 10); host pay = 700 × 8 = 5600;
    // bonus to host 1 (first agreeing) = 10% × 5600 = 560; host total = 2 × 5600 + 560 = 11760;
    // proposer fee = 5% × 11760 = 588; refund = 32550 − 11760 − 588 = 20202.
    expect(r.clearingPrice).toBe(8n)
    expect(payoutMap(r.payouts)).toEqual({ '0x01': 6_160n, '0x02': 5_600n, '0xdd': 588n })
    expect(r.refund).toBe(20_202n)
    expect(r.burn).toBe(0n)
    expect(r.payouts.map((p) => toHex(p.to).slice(0, 4))).toEqual(['0x01', '0x02', '0xdd'])
    verifyConservation(32_550n, r)
  })

  it('doubles host pay for a private execution', () => {
    const r = computeCompletion(inputs({ execution: makeExecution({ private: true }), receipts: [makeReceipt(hostAddr(2), 700n, 1, noWrites), makeReceipt(hostAddr(1), 700n, 1, noWrites)] }))!
    // host pay = 700 × 8 × 2 = 11200; bonus to host 2 (first) = 1120; total 23520; fee 1176;
    // refund = 65100 − 23520 − 1176 = 40404.
    expect(payoutMap(r.payouts)).toEqual({ '0x01': 11_200n, '0x02': 12_320n, '0xdd': 1_176n })
    expect(r.refund).toBe(40_404n)
  })

  it('rounds every share down and leaves the remainder with the client', () => {
    const ex = makeExecution({ bidPerFuel: 7n })
    // escrow: per host 7000, hosts 21000, bonus 700, fee floor(5% × 21700) = 1085 → 22785.
    // clearing = min(bid 7, max ask 8) = 7; host pay = 333 × 7 = 2331; bonus floor(233.1) = 233;
    // host total 4662 + 233 = 4895; fee floor(244.75) = 244; refund 22785 − 4895 − 244 = 17646.
    const r = computeCompletion(inputs({ execution: ex, receipts: [makeReceipt(hostAddr(1), 333n), makeReceipt(hostAddr(2), 333n)] }))!
    expect(r.clearingPrice).toBe(7n)
    expect(payoutMap(r.payouts)).toEqual({ '0x01': 2_564n, '0x02': 2_331n, '0xdd': 244n })
    expect(r.refund).toBe(17_646n)
  })

  it('merges the proposer fee into a host payout when the proposer is an agreeing host', () => {
    const r = computeCompletion(inputs({ proposer: hostAddr(2), receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 700n)] }))!
    expect(payoutMap(r.payouts)).toEqual({ '0x01': 6_160n, '0x02': 6_188n })
  })
})

describe('computeCompletion quorum and reputation', () => {
  it('updates reputation: +10% of the gap for agreeing, 3 × 10% for a dissent, nothing for a host still running', () => {
    const r = computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(3), 700n, 9), makeReceipt(hostAddr(2), 700n)] }))!
    // agreed: 5000 + floor(5000 × 1000 / 10000) = 5500; dissent: 5000 − floor(5000 × 3000 / 10000) = 3500.
    expect(r.reputation.map((c) => [toHex(c.host).slice(0, 4), c.before, c.after, c.cause])).toEqual([
      ['0x01', 5_000, 5_500, REPUTATION_CAUSE.receiptAgreed],
      ['0x02', 5_000, 5_500, REPUTATION_CAUSE.receiptAgreed],
      ['0x03', 5_000, 3_500, REPUTATION_CAUSE.receiptDissent],
    ])
    expect(r.hostUpdates[2]!.event).toEqual({ height: 42, cause: REPUTATION_CAUSE.receiptDissent, before: 5_000, after: 3_500, subject: EXEC_ID })
    const early = computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 700n)] }))!
    expect(early.reputation.map((c) => toHex(c.host).slice(0, 4))).toEqual(['0x01', '0x02'])
  })

  it('is not completable before quorum and the deadline, fails with a full refund after it, and marks no-shows', () => {
    expect(computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 701n)] }))).toBeUndefined()
    const r = computeCompletion(inputs({ deadlinePassed: true, receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 701n)] }))!
    expect(r.status).toBe(COMPLETION_STATUS.failed)
    expect(r.payouts).toEqual([])
    expect(r.refund).toBe(32_550n)
    // no-show: 5000 − floor(5000 × 1000 / 10000) = 4500; the two disagreeing hosts are not judged.
    expect(r.reputation.map((c) => [toHex(c.host).slice(0, 4), c.after, c.cause])).toEqual([['0x03', 4_500, REPUTATION_CAUSE.noShow]])
  })

  it('never agrees on writes for a private execution: such receipts dissent, and a quorum of them fails', () => {
    const execution = makeExecution({ private: true })
    const writing = computeCompletion(inputs({ execution, deadlinePassed: true, receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 700n)] }))!
    expect(writing.status).toBe(COMPLETION_STATUS.failed)
    expect(writing.reputation.map((c) => [toHex(c.host).slice(0, 4), c.cause])).toEqual([['0x01', REPUTATION_CAUSE.receiptDissent], ['0x02', REPUTATION_CAUSE.receiptDissent]])
    const mixed = computeCompletion(inputs({ execution, receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 700n, 1, noWrites), makeReceipt(hostAddr(3), 700n, 1, noWrites)] }))!
    expect(mixed.status).toBe(COMPLETION_STATUS.agreed)
    expect(mixed.reputation.map((c) => [toHex(c.host).slice(0, 4), c.cause])).toEqual([['0x01', REPUTATION_CAUSE.receiptDissent], ['0x02', REPUTATION_CAUSE.receiptAgreed], ['0x03', REPUTATION_CAUSE.receiptAgreed]])
  })

  it('blames no silent host of a private execution: its key travels off chain, maybe never sent', () => {
    const execution = makeExecution({ private: true })
    const r = computeCompletion(inputs({ execution, deadlinePassed: true, retrievableByAudits: true, receipts: [makeReceipt(hostAddr(1), 700n, 1, noWrites)] }))!
    expect(r.status).toBe(COMPLETION_STATUS.failed)
    expect(r.refund).toBe(computeEscrow(execution, params))
    expect(r.reputation).toEqual([])
  })

  it('counts no-shows only when the module was retrievable: another host answered, or audits show k shards passing', () => {
    // The framing attack: a module nobody can fetch (a deploy whose blob was never uploaded).
    const nobody = computeCompletion(inputs({ deadlinePassed: true }))!
    expect(nobody.status).toBe(COMPLETION_STATUS.failed)
    expect(nobody.refund).toBe(32_550n)
    expect(nobody.reputation).toEqual([])
    const audited = computeCompletion(inputs({ deadlinePassed: true, retrievableByAudits: true }))!
    expect(audited.reputation.map((c) => [toHex(c.host).slice(0, 4), c.cause])).toEqual([['0x01', REPUTATION_CAUSE.noShow], ['0x02', REPUTATION_CAUSE.noShow], ['0x03', REPUTATION_CAUSE.noShow]])
  })

  it('takes audit evidence only from a stored asset past its grace and one audit epoch, with k shards passing', () => {
    const asset = (over: Partial<AssetRecord> = {}): AssetRecord => ({
      owner: CLIENT, kind: 1, manifest: { size: 10n, dataHash: new Uint8Array(32), k: 4, m: 2, segmentSize: 1024, shardSize: 3n, chunkSize: 256, shardHashes: [], chunkRoots: [] },
      placement: [], shardFailures: [0, 0, 0, 0, 1, 2], deposit: 1n, bidPerByteEpoch: 1n, createdHeight: 100, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined, ...over,
    })
    const ready = 100 + AUDIT_GRACE_BLOCKS + 20
    expect(isModuleRetrievableByAudits(asset(), ready, 20)).toBe(true)
    expect(isModuleRetrievableByAudits(asset(), ready - 1, 20)).toBe(false)
    expect(isModuleRetrievableByAudits(asset({ shardFailures: [0, 0, 0, 1, 1, 2] }), ready, 20)).toBe(false)
    expect(isModuleRetrievableByAudits(asset({ status: ASSET_STATUS.expired }), ready, 20)).toBe(false)
    expect(isModuleRetrievableByAudits(undefined, ready, 20)).toBe(false)
    // Two-phase placement: a placement still waiting for acks (or refunded) is not evidence; only acknowledged shards count.
    expect(isModuleRetrievableByAudits(asset({ status: ASSET_STATUS.placing, acked: [0, 0, 0, 0, 0, 0] }), ready, 20)).toBe(false)
    expect(isModuleRetrievableByAudits(asset({ status: ASSET_STATUS.refunded }), ready, 20)).toBe(false)
    expect(isModuleRetrievableByAudits(asset({ acked: [1, 1, 1, 0, 0, 0] }), ready, 20)).toBe(false)
    expect(isModuleRetrievableByAudits(asset({ acked: [1, 1, 1, 1, 0, 0] }), ready, 20)).toBe(true)
  })

  it('needs agreement on outcome, result, fuel and write set; takes the first group to reach quorum; ignores over-limit fuel claims', () => {
    const ex = makeExecution({ replicas: 4, quorum: 2, assignment: [hostAddr(1), hostAddr(2), hostAddr(3), hostAddr(4)] })
    const differingWriteSet = computeCompletion(inputs({ execution: ex, receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 700n, 1, { writeSet: 8 })] }))
    expect(differingWriteSet).toBeUndefined()
    const r = computeCompletion(inputs({ execution: ex, receipts: [makeReceipt(hostAddr(1), 5000n), makeReceipt(hostAddr(2), 5000n), makeReceipt(hostAddr(3), 600n, 2), makeReceipt(hostAddr(4), 600n, 2)] }))!
    expect(r.resultHash).toEqual(new Uint8Array(32).fill(2))
    expect(r.reputation.filter((c) => c.cause === REPUTATION_CAUSE.receiptDissent).map((c) => toHex(c.host).slice(0, 4))).toEqual(['0x01', '0x02'])
  })

  it('rejects receipts for another execution, from unassigned hosts, or repeated', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f()
      } catch (e) {
        return e instanceof MarketError ? e.code : 'other'
      }
      return undefined
    }
    expect(code(() => computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(1), 1n, 1, { executionId: new Uint8Array(32) })] })))).toBe('RECEIPT_WRONG_EXECUTION')
    expect(code(() => computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(9), 1n)] })))).toBe('RECEIPT_NOT_ASSIGNED')
    expect(code(() => computeCompletion(inputs({ receipts: [makeReceipt(hostAddr(1), 1n), makeReceipt(hostAddr(1), 1n)] })))).toBe('RECEIPT_DUPLICATE')
  })
})

describe('verifyCompletionEntry and verifyConservation', () => {
  const base = inputs({ receipts: [makeReceipt(hostAddr(1), 700n), makeReceipt(hostAddr(2), 700n)] })
  const r = computeCompletion(base)!
  const entry = { type: 'completion' as const, executionId: EXEC_ID, status: r.status, outcome: r.outcome, resultHash: r.resultHash, fuelUsed: r.fuelUsed, output: r.output, writeSet: [], receipts: [...base.receipts], payouts: r.payouts, refund: r.refund, burn: r.burn, reputation: r.reputation }
  const { receipts: _omit, ...rest } = base

  it('accepts the recomputed entry', () => {
    expect(verifyCompletionEntry(entry, rest).refund).toBe(r.refund)
  })

  it('names the field, got and expected of a tampered entry', () => {
    const tampered = { ...entry, payouts: entry.payouts.map((p, i) => (i === 0 ? { ...p, amount: p.amount + 1n } : p)) }
    try {
      verifyCompletionEntry(tampered, rest)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(MarketError)
      expect((e as MarketError).code).toBe('MISMATCH')
      expect((e as ErrorWithCode<MarketError, 'MISMATCH'>).details.field).toBe('payouts')
    }
    expect(() => verifyCompletionEntry({ ...entry, refund: entry.refund - 1n }, rest)).toThrow(/refund/)
    expect(() => verifyCompletionEntry({ ...entry, reputation: [] }, rest)).toThrow(/reputation/)
    // Each field of each payout and reputation change counts (compared field by field, not encoded).
    expect(() => verifyCompletionEntry({ ...entry, payouts: entry.payouts.map((p, i) => (i === 0 ? { ...p, to: hostAddr(9) } : p)) }, rest)).toThrow(/payouts/)
    expect(() => verifyCompletionEntry({ ...entry, payouts: [...entry.payouts, { to: hostAddr(9), amount: 0n }] }, rest)).toThrow(/payouts/)
    for (const change of [{ host: hostAddr(9) }, { before: entry.reputation[0]!.before + 1 }, { after: entry.reputation[0]!.after + 1 }, { cause: entry.reputation[0]!.cause + 1 }]) {
      expect(() => verifyCompletionEntry({ ...entry, reputation: entry.reputation.map((c, i) => (i === 0 ? { ...c, ...change } : c)) }, rest)).toThrow(/reputation/)
    }
    expect(() => verifyCompletionEntry({ ...entry, receipts: entry.receipts.slice(0, 1) }, rest)).toThrow(MarketError)
  })

  it('reports conservation failures with got and expected', () => {
    try {
      verifyConservation(100n, { payouts: [{ to: hostAddr(1), amount: 60n }], refund: 30n, burn: 0n })
      expect.unreachable()
    } catch (e) {
      expect((e as MarketError).code).toBe('CONSERVATION')
      expect((e as MarketError).details).toMatchObject({ got: 90n, expected: 100n })
    }
    expect(() => verifyConservation(100n, { payouts: [{ to: hostAddr(1), amount: -10n }], refund: 110n, burn: 0n })).toThrow(MarketError)
  })
})
