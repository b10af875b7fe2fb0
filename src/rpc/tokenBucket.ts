import type { TakeTokens } from './dispatch.ts'

/** A token bucket of `burst` tokens refilled at `rate` per second, full at first: one per connection. */
export function createTokenTaker(rate: number, burst: number): TakeTokens {
  const bucket = { tokens: burst, at: performance.now() }
  return (n) => {
    const now = performance.now()
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000)
    bucket.at = now
    if (bucket.tokens < n) return false
    bucket.tokens -= n
    return true
  }
}
