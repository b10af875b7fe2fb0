import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

import { OUTCOME } from '../../../blocks/schema.ts'
import { ComputeError } from '../../../src/compute/errors.ts'
import { executeModule, prepareModule } from '../../../src/compute/executeModule.ts'
import { loadFixture } from '../../unit/compute/computeFixtures.ts'

const SEEDS = ['sha256', 'parser', 'counter', 'exits', 'bulk', 'nan', 'tablegrow'].map(loadFixture)

// Random damage to real modules: byte overwrites, insertions, deletions, truncation.
const mutated = fc.tuple(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 4 }))
  .map(([i, edits]) => {
    const bytes = [...SEEDS[i]!]
    for (const [at, value, kind] of edits) {
      const p = at % (bytes.length + 1)
      if (kind === 0 && p < bytes.length) bytes[p] = value
      else if (kind === 1) bytes.splice(p, 0, value)
      else if (kind === 2) bytes.splice(p, 1)
      else bytes.length = Math.max(8, p)
    }
    return new Uint8Array(bytes)
  })

describe('instrumenter robustness', () => {
  test('damaged modules are refused with a ComputeError or run to a typed outcome, never crash', () => {
    fc.assert(fc.property(mutated, (bytes) => {
      let prepared
      try {
        prepared = prepareModule(bytes)
      } catch (e) {
        expect(e).toBeInstanceOf(ComputeError)
        return
      }
      for (const fn of ['run', 'reset']) {
        const r = executeModule(prepared, { fn, input: new Uint8Array([5, 0, 0, 0]), fuelLimit: 50_000n, state: () => undefined })
        expect(Object.values(OUTCOME)).toContain(r.outcome)
        expect(r.fuelUsed <= 50_000n).toBe(true)
      }
    }), { numRuns: 400 })
  })

  test('random bytes after a valid header are refused with a ComputeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
      const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...tail])
      try {
        prepareModule(bytes)
      } catch (e) {
        expect(e).toBeInstanceOf(ComputeError)
      }
    }), { numRuns: 300 })
  })
})
