import { describe, expect, it } from 'vitest'

import { runConsensusSims } from '../../../../scripts/sim/consensusSim.ts'

describe('consensus simulator, 7 validators', () => {
  it('150 seeds: no safety violation, no liveness failure, every seen equivocation slashed once', { timeout: 300_000 }, () => {
    const s = runConsensusSims({ first: 1, count: 150, validators: [7], clock: () => performance.now() })
    expect(s.failingSeeds).toEqual([])
    expect(s.seeds).toBe(150)
    expect(s.slashedEquivocations).toBeGreaterThan(60)
  })
})
