import { describe, expect, it } from 'vitest'

import { PeerPenalties, PeerRateLimit, ProductionPause, SCORE_THRESHOLDS, SYNC_PENALTY } from '../../../src/net/index.ts'

describe('ProductionPause', () => {
  it('never pauses production while no sync is advancing the head', () => {
    const pause = new ProductionPause({ maxPauseMs: 10_000 })
    for (let t = 0; t < 60_000; t += 500) expect(pause.shouldPause(t, false)).toBe(false)
  })

  it('pauses while sync advances the head and resumes as soon as it stops', () => {
    const pause = new ProductionPause({ maxPauseMs: 10_000 })
    expect(pause.shouldPause(1_000, true)).toBe(true)
    expect(pause.shouldPause(1_500, true)).toBe(true)
    expect(pause.shouldPause(2_000, false)).toBe(false)
  })

  it('pauses at most maxPauseMs at a stretch however long sync keeps advancing; a new stretch gets a new budget', () => {
    const pause = new ProductionPause({ maxPauseMs: 10_000 })
    const paused: number[] = []
    for (let t = 0; t <= 30_000; t += 100) if (pause.shouldPause(t, true)) paused.push(t)
    expect(paused[0]).toBe(0)
    expect(paused.at(-1)).toBeLessThan(10_000)
    expect(pause.shouldPause(32_000, false)).toBe(false)
    expect(pause.shouldPause(32_100, true)).toBe(true)
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
