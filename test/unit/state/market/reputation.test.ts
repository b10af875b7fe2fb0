import { describe, expect, it } from 'vitest'

import { REPUTATION_CAUSE } from '../../../../blocks/schema.ts'
import { computeHostStatus, computeReputation, computeReputationUpdate, MARKET_PARAM_DEFAULTS, MarketError, verifyMarketParams } from '../../../../src/state/market/index.ts'
import { HOST_STATUS } from '../../../../src/state/records.ts'
import { makeHost } from '../../router/hostFixtures.ts'

// alpha 1000 bp (10%), suspend below 3000, disqualify below 1000.
const params = MARKET_PARAM_DEFAULTS
const C = REPUTATION_CAUSE

describe('computeReputation', () => {
  it('moves 10% of the gap toward the target, weighted by cause', () => {
    // pass: 5000 + floor(5000 × 1000 / 10000) = 5500
    expect(computeReputation(5_000, C.auditPass, params)).toBe(5_500)
    expect(computeReputation(5_000, C.receiptAgreed, params)).toBe(5_500)
    // no answer / no-show: 5000 − floor(5000 × 1000 / 10000) = 4500
    expect(computeReputation(5_000, C.auditNoAnswer, params)).toBe(4_500)
    expect(computeReputation(5_000, C.noShow, params)).toBe(4_500)
    // failed audit weighs 2: 5000 − floor(5000 × 2000 / 10000) = 4000
    expect(computeReputation(5_000, C.auditFail, params)).toBe(4_000)
    // dissent weighs 3: 5000 − floor(5000 × 3000 / 10000) = 3500
    expect(computeReputation(5_000, C.receiptDissent, params)).toBe(3_500)
  })

  it('always moves by at least 1 and stops at the ends', () => {
    // 9995: floor(5 × 1000 / 10000) = 0 → step 1 → 9996
    expect(computeReputation(9_995, C.auditPass, params)).toBe(9_996)
    expect(computeReputation(10_000, C.auditPass, params)).toBe(10_000)
    expect(computeReputation(3, C.noShow, params)).toBe(2)
    expect(computeReputation(0, C.noShow, params)).toBe(0)
  })

  it('rejects unknown causes and out-of-range scores', () => {
    expect(() => computeReputation(5_000, 99, params)).toThrow(MarketError)
    expect(() => computeReputation(10_001, C.auditPass, params)).toThrow(MarketError)
    expect(() => computeReputation(1.5, C.auditPass, params)).toThrow(MarketError)
  })
})

describe('host status', () => {
  it('suspends below the threshold, lets passing audits bring the host back, and disqualifies for good', () => {
    const subject = new Uint8Array(32)
    const host = new Uint8Array(32).fill(1)
    let rec = makeHost({ reputation: 3_100 })
    // no-show: 3100 − 310 = 2790 < 3000 → suspended
    rec = computeReputationUpdate(host, rec, C.noShow, params, 1, subject).record
    expect([rec.reputation, rec.status]).toEqual([2_790, HOST_STATUS.suspended])
    // audit pass: 2790 + floor(7210 × 0.1) = 3511 ≥ 3000 → active again
    rec = computeReputationUpdate(host, rec, C.auditPass, params, 2, subject).record
    expect([rec.reputation, rec.status]).toEqual([3_511, HOST_STATUS.active])
    // from 1050 a failed audit: 1050 − floor(1050 × 0.2) = 840 < 1000 → disqualified
    rec = computeReputationUpdate(host, { ...rec, reputation: 1_050, status: HOST_STATUS.suspended }, C.auditFail, params, 3, subject).record
    expect([rec.reputation, rec.status]).toEqual([840, HOST_STATUS.disqualified])
    // disqualified is final, however good the next audits
    for (let i = 0; i < 50; i++) rec = computeReputationUpdate(host, rec, C.auditPass, params, 4, subject).record
    expect(rec.reputation).toBeGreaterThan(9_000)
    expect(rec.status).toBe(HOST_STATUS.disqualified)
  })

  it('keeps draining and left hosts in their state unless a draining one falls below disqualification', () => {
    expect(computeHostStatus({ reputation: 2_000, status: HOST_STATUS.draining }, params)).toBe(HOST_STATUS.draining)
    expect(computeHostStatus({ reputation: 500, status: HOST_STATUS.draining }, params)).toBe(HOST_STATUS.disqualified)
    expect(computeHostStatus({ reputation: 500, status: HOST_STATUS.left }, params)).toBe(HOST_STATUS.left)
  })

  it('records the change and the event with its cause', () => {
    const u = computeReputationUpdate(new Uint8Array(32).fill(1), makeHost({ reputation: 5_000 }), C.auditFail, params, 77, new Uint8Array(32).fill(9))
    expect(u.change).toEqual({ host: new Uint8Array(32).fill(1), before: 5_000, after: 4_000, cause: C.auditFail })
    expect(u.event).toEqual({ height: 77, cause: C.auditFail, before: 5_000, after: 4_000, subject: new Uint8Array(32).fill(9) })
  })
})

describe('verifyMarketParams', () => {
  it('accepts the defaults and rejects disordered thresholds or a premium below 1x', () => {
    expect(() => verifyMarketParams(params)).not.toThrow()
    expect(() => verifyMarketParams({ ...params, reputationDisqualifyBp: 4_000 })).toThrow(MarketError)
    expect(() => verifyMarketParams({ ...params, privatePremiumBp: 9_999 })).toThrow(MarketError)
    expect(() => verifyMarketParams({ ...params, reputationAlphaBp: 0 })).toThrow(MarketError)
  })
})
