import { describe, expect, it } from 'vitest'

import { replayCommand, runConsensusSim, runConsensusSims } from '../../../../scripts/sim/consensusSim.ts'

/**
 * The deterministic simulator in `npm test`: 150 seeds with 4 validators here and 150 with 7 in
 * simulatorSeven.test.ts (two files so vitest runs them on both cores). Each seed draws stakes,
 * Byzantine validators (twins, withholders, splitters; < 1/3 of the stake), partitions, loss,
 * duplication and delays, then heals; the simulator checks safety after every step and
 * liveness and slashing after GST.
 */
describe('consensus simulator, 4 validators', () => {
  it('150 seeds: no safety violation, no liveness failure, every seen equivocation slashed once', { timeout: 300_000 }, () => {
    const s = runConsensusSims({ first: 1, count: 150, validators: [4], clock: () => performance.now() })
    expect(s.failingSeeds).toEqual([])
    expect(s.seeds).toBe(150)
    // The adversaries do get caught: most seeds have an equivocating validator slashed on chain.
    expect(s.slashedEquivocations).toBeGreaterThan(60)
    expect(s.committedHeights).toBeGreaterThan(150 * 3)
  })

  it('can fail: with the lock rules disabled the same network schedules fork the chain, with them no seed does', () => {
    // Seeds on which the unsafe variant forks (found by `npm run sim:consensus -- --seeds 400
    // --validators 4 --unsafe-ignore-locks`; test/faults/consensusSim.test.ts scans more seeds).
    for (const seed of [169, 211, 250]) {
      const unsafe = runConsensusSim({ seed, validators: 4, unsafeIgnoreLocks: true })
      expect(unsafe.safetyViolations.length, `seed ${seed}`).toBeGreaterThan(0)
      expect(unsafe.safetyViolations[0]).toMatch(/committed 0x[0-9a-f]+, another honest node 0x/)
      const safe = runConsensusSim({ seed, validators: 4 })
      expect(safe.safetyViolations, `seed ${seed}`).toEqual([])
      expect(safe.livenessFailures).toEqual([])
    }
    const s = runConsensusSims({ first: 169, count: 1, validators: [4], unsafeIgnoreLocks: true, clock: () => 0 })
    expect(s.failingSeeds[0]!.replay).toBe('npm run sim:consensus -- --seeds 1 --seed 169 --validators 4 --unsafe-ignore-locks')
  })

  it('is deterministic: a seed replays to the same run', () => {
    const a = runConsensusSim({ seed: 4242, validators: 4 })
    const b = runConsensusSim({ seed: 4242, validators: 4 })
    expect(b).toEqual(a)
    expect(replayCommand(4242, 4)).toBe('npm run sim:consensus -- --seeds 1 --seed 4242 --validators 4')
  })
})
