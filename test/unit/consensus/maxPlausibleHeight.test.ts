import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { computeMaxPlausibleHeight, computeSlot } from '../../../consensus/slot.ts'

const GENESIS = 1_700_000_000_000n
const SLOT_MS = 500

describe('the highest head an honest chain can have (range sync refuses a status above it)', () => {
  it('no chain of strictly increasing timestamps outgrows it, though heights outgrow slots when blocks share them', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 300 }), (gaps) => {
      let t = GENESIS
      gaps.forEach((gap, i) => {
        t += BigInt(gap)
        expect(i + 1).toBeLessThanOrEqual(computeMaxPlausibleHeight(GENESIS, t))
      })
    }))
    // Blocks on commit, 20 ms apart: by 1 s after genesis the chain is at height 50 in slot 2. The
    // old bound (one block per slot) refused every honest peer's status and banned it.
    const t = GENESIS + 1_000n
    expect(computeSlot(GENESIS, SLOT_MS, t)).toBe(2)
    expect(50).toBeLessThanOrEqual(computeMaxPlausibleHeight(GENESIS, t))
  })

  it('a young chain still exposes a huge claimed head as a lie, and nothing is plausible before genesis', () => {
    expect(computeMaxPlausibleHeight(GENESIS, GENESIS + 60_000n)).toBeLessThan(2 ** 32 - 1)
    expect(computeMaxPlausibleHeight(GENESIS, GENESIS - 5n)).toBe(0)
  })
})
