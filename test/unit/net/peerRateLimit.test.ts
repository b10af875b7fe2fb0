import { describe, expect, it } from 'vitest'

import { PeerRateLimit } from '../../../src/net/index.ts'

describe('PeerRateLimit', () => {
  it('spend takes tokens past zero (a debt): available and take stay false until the refill has paid it back', () => {
    let now = 0
    const cap = new PeerRateLimit({ perSecond: () => 10, burst: () => 20, now: () => now })
    expect(cap.available('p')).toBe(true)
    cap.spend('p', 25) // 20 there, 5 owed
    expect(cap.available('p')).toBe(false)
    expect(cap.take('p')).toBe(false)
    now += 500 // +5: back to 0
    expect(cap.available('p')).toBe(false)
    now += 100 // +1
    expect(cap.available('p')).toBe(true)
    expect(cap.take('p')).toBe(true)
    expect(cap.available('p')).toBe(false)
    // Other peers have their own buckets; a refill never passes the burst.
    expect(cap.available('q')).toBe(true)
    now += 60_000
    cap.spend('p', 20)
    expect(cap.available('p')).toBe(false)
  })
})
