import { describe, expect, it } from 'vitest'

import { runConsensusSims } from '../../scripts/sim/consensusSim.ts'

/**
 * The long simulator run (`npm run test:faults`): 10,000 seeds, 4 and 7 validators alternating,
 * in chunks so each stays inside the per-test timeout; seeds 1..300 are also in `npm test`.
 * Then the proof that the simulator can fail: with the lock rules disabled it must find forks.
 */
const CHUNK = 2_000
const TOTAL = 10_000

describe('consensus simulator, 10,000 seeds', () => {
  for (let first = 1; first <= TOTAL; first += CHUNK) {
    it(`seeds ${first}..${first + CHUNK - 1}: safe, live after GST, every seen equivocation slashed once`, { timeout: 1_800_000 }, () => {
      const s = runConsensusSims({ first, count: CHUNK, validators: [4, 7], clock: () => performance.now() })
      expect(s.failingSeeds).toEqual([])
      expect(s.seeds).toBe(CHUNK)
      expect(s.slashedEquivocations).toBeGreaterThan(CHUNK / 3)
    })
  }

  it('with the lock rules disabled, 1,000 seeds find safety violations (the simulator can fail)', { timeout: 1_800_000 }, () => {
    const s = runConsensusSims({ first: 100_001, count: 1_000, validators: [4], unsafeIgnoreLocks: true, clock: () => performance.now() })
    expect(s.safetyViolations).toBeGreaterThan(0)
    for (const f of s.failingSeeds) expect(f.replay).toContain('--unsafe-ignore-locks')
  })
})
