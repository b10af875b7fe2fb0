import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { encode } from '../../../../blocks/codec.ts'
import type { ErrorWithCode } from '../../../../blocks/errors.ts'
import { type Address, BlockEntry, COMPLETION_STATUS, type CompletionEntry, REPUTATION_CAUSE } from '../../../../blocks/schema.ts'
import { compareBytes, toHex } from '../../../../src/crypto/bytes.ts'
import {
  type CompletionInputs,
  type CompletionResult,
  computeCompletion,
  computeEscrow,
  computeReputation,
  MarketError,
  type MarketParams,
  verifyCompletionEntry,
  verifyConservation,
} from '../../../../src/state/market/index.ts'
import type { HostRecord } from '../../../../src/state/records.ts'
import { makeHost } from '../../../unit/router/hostFixtures.ts'
import { EXEC_ID, hostAddr, makeExecution, makeReceipt } from '../../../unit/state/market/marketFixtures.ts'

const arbParams: fc.Arbitrary<MarketParams> = fc
  .record({
    gridSize: fc.constant(1024),
    privatePremiumBp: fc.integer({ min: 10_000, max: 1_000_000 }),
    firstReceiptBonusBp: fc.integer({ min: 0, max: 100_000 }),
    proposerFeeBp: fc.integer({ min: 0, max: 10_000 }),
    storageUtilizationSlopeBp: fc.integer({ min: 0, max: 1_000_000 }),
    reputationAlphaBp: fc.integer({ min: 1, max: 10_000 }),
    reputationDisqualifyBp: fc.integer({ min: 0, max: 10_000 }),
  })
  .chain((p) =>
    fc.integer({ min: p.reputationDisqualifyBp, max: 10_000 }).chain((suspend) =>
      fc.integer({ min: suspend, max: 10_000 }).map((initial) => ({ ...p, reputationSuspendBp: suspend, reputationInitialBp: initial })),
    ),
  )

interface Scenario {
  params: MarketParams
  inputs: CompletionInputs
  hostList: [Address, HostRecord][]
}

const arbAmount = fc.oneof(fc.bigInt(0n, 1000n), fc.bigInt(0n, (1n << 40n) - 1n))
const arbScenario: fc.Arbitrary<Scenario> = fc
  .record({
    params: arbParams,
    replicas: fc.integer({ min: 1, max: 8 }),
    fuelLimit: arbAmount,
    bid: arbAmount,
    private: fc.boolean(),
    deadlinePassed: fc.boolean(),
    proposer: fc.integer({ min: 1, max: 12 }),
  })
  .chain((s) =>
    fc.record({
      s: fc.constant(s),
      quorum: fc.integer({ min: 1, max: s.replicas }),
      asks: fc.array(fc.oneof(fc.bigInt(0n, s.bid), arbAmount), { minLength: s.replicas, maxLength: s.replicas }),
      reps: fc.array(fc.nat(10_000), { minLength: s.replicas, maxLength: s.replicas }),
      // Which assigned hosts answer, in which order, and with what claim.
      order: fc.shuffledSubarray([...Array(s.replicas).keys()]),
      claims: fc.array(fc.record({ result: fc.integer({ min: 1, max: 3 }), fuelPick: fc.nat(4), outcome: fc.nat(1) }), { minLength: s.replicas, maxLength: s.replicas }),
      fuels: fc.array(fc.bigInt(0n, s.fuelLimit + 2n), { minLength: 2, maxLength: 2 }),
      missingRecord: fc.option(fc.nat(s.replicas - 1), { nil: undefined }),
    }),
  )
  .map(({ s, quorum, asks, reps, order, claims, fuels, missingRecord }) => {
    const assignment = Array.from({ length: s.replicas }, (_, i) => hostAddr(i + 1))
    const hostList: [Address, HostRecord][] = assignment.filter((_, i) => i !== missingRecord).map((a, i) => [a, makeHost({ askPerFuel: asks[i]!, reputation: reps[i]! })])
    const execution0 = makeExecution({ fuelLimit: s.fuelLimit, bidPerFuel: s.bid, replicas: s.replicas, quorum, private: s.private, assignment })
    const execution = { ...execution0, escrow: computeEscrow(execution0, s.params) }
    // Claims concentrate on few values (results 1..3, two fuel figures, sometimes limit+1) so quorums form.
    const receipts = order.map((i) => {
      const c = claims[i]!
      const fuel = c.fuelPick === 4 ? s.fuelLimit + 1n : fuels[c.fuelPick % 2]! > s.fuelLimit ? s.fuelLimit : fuels[c.fuelPick % 2]!
      return makeReceipt(assignment[i]!, fuel, c.result, { outcome: c.outcome })
    })
    const map = new Map(hostList.map(([a, r]) => [toHex(a), r]))
    const inputs: CompletionInputs = { execution, executionId: EXEC_ID, receipts, hosts: (a) => map.get(toHex(a)), params: s.params, proposer: hostAddr(s.proposer), deadlinePassed: s.deadlinePassed, height: 9 }
    return { params: s.params, inputs, hostList }
  })

function toEntry(r: CompletionResult, inputs: CompletionInputs): CompletionEntry {
  return { type: 'completion', executionId: inputs.executionId, status: r.status, outcome: r.outcome, resultHash: r.resultHash, fuelUsed: r.fuelUsed, output: r.output, writeSet: [], receipts: [...inputs.receipts], payouts: r.payouts, refund: r.refund, burn: r.burn, reputation: r.reputation }
}

describe('completion properties', () => {
  it('conserves the escrow exactly, with no negative or oversized amount, sorted unique payouts and reputations in range', () => {
    fc.assert(
      fc.property(arbScenario, ({ inputs }) => {
        const r = computeCompletion(inputs)
        if (r === undefined) {
          expect(inputs.deadlinePassed).toBe(false)
          return
        }
        verifyConservation(inputs.execution.escrow, r)
        expect(r.refund >= 0n).toBe(true)
        for (const p of r.payouts) expect(p.amount > 0n).toBe(true)
        for (let i = 1; i < r.payouts.length; i++) expect(compareBytes(r.payouts[i - 1]!.to, r.payouts[i]!.to)).toBeLessThan(0)
        for (let i = 1; i < r.reputation.length; i++) expect(compareBytes(r.reputation[i - 1]!.host, r.reputation[i]!.host)).toBeLessThan(0)
        for (const c of r.reputation) expect(c.after >= 0 && c.after <= 10_000).toBe(true)
        if (r.status === COMPLETION_STATUS.failed) expect(r.refund).toBe(inputs.execution.escrow)
        // u128 fields: encoding the entry through the canonical codec would throw on overflow.
        encode(BlockEntry, toEntry(r, inputs))
      }),
      { numRuns: 400 },
    )
  })

  it('pays every agreeing host at least its own ask (when within the bid) times fuel and premium', () => {
    fc.assert(
      fc.property(arbScenario, ({ inputs, params }) => {
        const r = computeCompletion(inputs)
        if (r === undefined || r.status !== COMPLETION_STATUS.agreed) return
        const premium = BigInt(inputs.execution.private ? params.privatePremiumBp : 10_000)
        const paid = new Map(r.payouts.map((p) => [toHex(p.to), p.amount]))
        for (const c of r.reputation.filter((x) => x.cause === REPUTATION_CAUSE.receiptAgreed)) {
          const ask = inputs.hosts(c.host)!.params.askPerFuel
          if (ask <= inputs.execution.bidPerFuel) expect((paid.get(toHex(c.host)) ?? 0n) >= (r.fuelUsed * ask * premium) / 10_000n).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('gives byte-identical entries for the same inputs, whatever order the host lookup was built in', () => {
    fc.assert(
      fc.property(arbScenario, ({ inputs, hostList }) => {
        const a = computeCompletion(inputs)
        const reversed = new Map([...hostList].reverse().map(([ad, rec]) => [toHex(ad), structuredClone(rec)]))
        const b = computeCompletion({ ...structuredClone({ ...inputs, hosts: undefined }), hosts: (ad: Address) => reversed.get(toHex(ad)) } as CompletionInputs)
        if (a === undefined) {
          expect(b).toBeUndefined()
          return
        }
        expect(Buffer.from(encode(BlockEntry, toEntry(b!, inputs)))).toEqual(Buffer.from(encode(BlockEntry, toEntry(a, inputs))))
      }),
      { numRuns: 200 },
    )
  })

  it('verifyCompletionEntry accepts the computed entry and rejects a tampered amount with field, got and expected', () => {
    fc.assert(
      fc.property(arbScenario, fc.nat(), ({ inputs }, pick) => {
        const r = computeCompletion(inputs)
        if (r === undefined) return
        const entry = toEntry(r, inputs)
        const { receipts: _r, ...rest } = inputs
        verifyCompletionEntry(entry, rest)
        const bad = r.payouts.length > 0 && pick % 2 === 0
          ? { ...entry, payouts: entry.payouts.map((p, i) => (i === pick % entry.payouts.length ? { ...p, amount: p.amount + 1n } : p)) }
          : { ...entry, refund: entry.refund + 1n }
        try {
          verifyCompletionEntry(bad, rest)
          expect.unreachable()
        } catch (e) {
          expect(e).toBeInstanceOf(MarketError)
          expect((e as MarketError).code).toBe('MISMATCH')
          expect(['payouts', 'refund']).toContain((e as ErrorWithCode<MarketError, 'MISMATCH'>).details.field)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('escrow either fits u128 or is refused with OVERFLOW, never wraps', () => {
    fc.assert(
      fc.property(arbParams, fc.bigInt(0n, (1n << 64n) - 1n), fc.bigInt(0n, (1n << 128n) - 1n), fc.integer({ min: 1, max: 255 }), fc.boolean(), (params, fuelLimit, bidPerFuel, replicas, priv) => {
        try {
          const e = computeEscrow({ fuelLimit, bidPerFuel, replicas, private: priv }, params)
          expect(e >= fuelLimit * bidPerFuel * BigInt(replicas)).toBe(true)
          expect(e < 1n << 128n).toBe(true)
        } catch (err) {
          expect((err as MarketError).code).toBe('OVERFLOW')
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('reputation properties', () => {
  it('stays in 0..10000 and moves toward the cause target, never past it', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.constantFrom(...Object.values(REPUTATION_CAUSE)), fc.integer({ min: 1, max: 10_000 }), (before, cause, alpha) => {
        const after = computeReputation(before, cause, { reputationAlphaBp: alpha })
        const good = cause === REPUTATION_CAUSE.auditPass || cause === REPUTATION_CAUSE.receiptAgreed
        expect(after >= 0 && after <= 10_000).toBe(true)
        if (good) expect(after >= before && (after > before || before === 10_000)).toBe(true)
        else expect(after <= before && (after < before || before === 0)).toBe(true)
      }),
    )
  })
})
