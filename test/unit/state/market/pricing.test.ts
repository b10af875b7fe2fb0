import { describe, expect, it } from 'vitest'

import { computeClearingPrice, computeStoragePrice, computeUtilizationBp } from '../../../../src/state/market/index.ts'

describe('storage price', () => {
  it('rises linearly with utilization: ask × (1 + slope × utilization)', () => {
    const p = { storageUtilizationSlopeBp: 10_000 }
    expect(computeStoragePrice(100n, 0, p)).toBe(100n)
    // 100 × (10^8 + 10000 × 5000) / 10^8 = 150
    expect(computeStoragePrice(100n, 5_000, p)).toBe(150n)
    expect(computeStoragePrice(100n, 10_000, p)).toBe(200n)
    // slope 2500 (0.25x at full), utilization 3333: 7 × (10^8 + 8332500) / 10^8 = 7.58 → 7
    expect(computeStoragePrice(7n, 3_333, { storageUtilizationSlopeBp: 2_500 })).toBe(7n)
  })

  it('measures utilization in basis points, clamped', () => {
    expect(computeUtilizationBp(0n, 0n)).toBe(0)
    expect(computeUtilizationBp(1n, 3n)).toBe(3_333)
    expect(computeUtilizationBp(5n, 3n)).toBe(10_000)
  })
})

describe('clearing price', () => {
  it('is the highest agreeing ask, capped at the bid, the bid when no ask is known', () => {
    expect(computeClearingPrice([3n, 8n, 6n], 10n)).toBe(8n)
    expect(computeClearingPrice([3n, 12n], 10n)).toBe(10n)
    expect(computeClearingPrice([], 10n)).toBe(10n)
  })
})
