/**
 * The statistics every benchmark reports. No values give NaN, which JSON.stringify prints as
 * null: a figure that could not be measured shows as null, not as a made-up number.
 */

const ascending = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b)

/** The middle value; the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  const s = ascending(xs)
  if (s.length === 0) return NaN
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Nearest-rank percentile, `p` in (0, 100]: the smallest value with at least p% of values at or below it. */
export function percentile(xs: readonly number[], p: number): number {
  const s = ascending(xs)
  if (s.length === 0) return NaN
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))]!
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  return xs.reduce((sum, x) => sum + x, 0) / xs.length
}

/** `x` rounded to `digits` decimals (NaN stays NaN). */
export function round(x: number, digits = 0): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
