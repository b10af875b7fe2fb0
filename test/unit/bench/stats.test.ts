import { describe, expect, test } from 'vitest'

import { mean, median, percentile, round } from '../../../scripts/bench/support/stats.ts'

describe('bench statistics', () => {
  test('the median of an odd count is the middle value, of an even count the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([7])).toBe(7)
  })

  test('no values give NaN, which JSON prints as null', () => {
    expect(median([])).toBeNaN()
    expect(percentile([], 90)).toBeNaN()
    expect(mean([])).toBeNaN()
    expect(JSON.stringify({ m: round(median([])) })).toBe('{"m":null}')
  })

  test('percentiles are nearest-rank: the smallest value with at least p% at or below it', () => {
    const xs = Array.from({ length: 10 }, (_, i) => 10 - i) // 10..1, unsorted on purpose
    expect(percentile(xs, 90)).toBe(9)
    expect(percentile(xs, 91)).toBe(10)
    expect(percentile(xs, 100)).toBe(10)
    expect(percentile(xs, 10)).toBe(1)
    expect(percentile(xs, 0)).toBe(1)
  })

  test('the input is left as it was', () => {
    const xs = [3, 1, 2]
    median(xs)
    percentile(xs, 50)
    expect(xs).toEqual([3, 1, 2])
  })

  test('mean and rounding', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5)
    expect(round(2.345, 2)).toBe(2.35)
    expect(round(2.5)).toBe(3)
  })
})
