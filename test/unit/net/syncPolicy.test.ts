import { describe, expect, it } from 'vitest'
import { PeerPenalties, PeerRateLimit, ProductionPause, SCORE_THRESHOLDS, SYNC_PENALTY } from '../../../src/net/index.ts'

describe('ProductionPause', () => {
  const opts = { advanceWindowMs: 1_000, maxPauseMs: 10_000 }

  it('never pauses production when sync has not moved the head', () => {
    const pause = new ProductionPause(opts)
    for (let t = 0; t < 60_000; t += 500) expect(pause.shouldPause(t)).toBe(false)
  })

  it('pauses while sync moves the head and resumes one window after it stops', () => {
    const pause = new ProductionPause(opts)
    pause.advanced(1_000)
    expect(pause.shouldPause(1_500)).toBe(true)
    expect(pause.isAdvancing(1_999)).toBe(true)
    expect(pause.shouldPause(2_000)).toBe(false)
  })

  it('pauses at most maxPauseMs at a stretch however long sync keeps advancing', () => {
    const pause = new ProductionPause(opts)
    const paused: number[] = []
    for (let t = 0; t <= 30_000; t += 100) {
      pause.advanced(t)
      if (pause.shouldPause(t)) paused.push(t)
    }
    expect(paused[0]).toBe(0)
    expect(paused.at(-1)).toBeLessThan(10_000)
    // A fresh stretch after sync stopped gets a fresh budget.
    expect(pause.shouldPause(32_000)).toBe(false)
    pause.advanced(32_000)
    expect(pause.shouldPause(32_100)).toBe(true)
  })
})

describe('PeerPenalties', () => {
  it('adds penalties, decays them at 0.99 per second and forgets what decayed to nothing', () => {
    let now = 0
    const p = new PeerPenalties({ now: () => now })
    expect(p.score('a')).toBe(0)
    expect(p.add('a', -5_000)).toBe(-5_000)
    now = 69_000 // ~ one half-life
    expect(p.score('a')).toBeCloseTo(-5_000 * 0.99 ** 69, 6)
    expect(p.score('b')).toBe(0)
    now = 69_000 + 1_000_000
    expect(p.score('a')).toBe(0)
  })

  it('drops a peer (below graylist) after four useless sync sessions three seconds apart, or two impossible statuses', () => {
    let now = 0
    const p = new PeerPenalties({ now: () => now })
    const scores = [0, 3_000, 6_000, 9_000].map((t) => {
      now = t
      return p.add('stalls', SYNC_PENALTY.noProgress)
    })
    expect(scores[2]!).toBeGreaterThan(SCORE_THRESHOLDS.graylistThreshold)
    expect(scores[3]!).toBeLessThan(SCORE_THRESHOLDS.graylistThreshold)
    p.add('liar', SYNC_PENALTY.implausibleStatus)
    now += 3_000
    expect(p.add('liar', SYNC_PENALTY.implausibleStatus)).toBeLessThan(SCORE_THRESHOLDS.graylistThreshold)
  })
})

describe('PeerRateLimit', () => {
  it('lets a peer through up to its burst, then at its rate; peers are counted apart; the cap follows a growing set', () => {
    let now = 0
    let validators = 10
    const limit = new PeerRateLimit({ perSecond: () => validators, burst: () => validators, now: () => now })
    let passed = 0
    for (let i = 0; i < 100; i++) if (limit.take('a')) passed++
    expect(passed).toBe(10)
    expect(limit.take('b')).toBe(true)
    now = 500
    passed = 0
    for (let i = 0; i < 100; i++) if (limit.take('a')) passed++
    expect(passed).toBe(5)
    validators = 1_000
    now = 1_500
    passed = 0
    for (let i = 0; i < 2_000; i++) if (limit.take('a')) passed++
    expect(passed).toBe(1_000)
  })
})
