import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { computeProposer, type ValidatorStake } from '../../../consensus/index.ts'
import { keyPairFromSecret, toHex } from '../../../src/crypto/index.ts'

/** Addresses only need to be distinct 32-byte values for the draw; real keys keep it honest. */
const ADDRESSES = Array.from({ length: 8 }, (_, i) => keyPairFromSecret(new Uint8Array(32).fill(i + 11)).publicKey)

const validatorSet = fc
  .array(fc.bigInt({ min: 0n, max: 1n << 80n }), { minLength: 1, maxLength: 8 })
  .filter((stakes) => stakes.some((s) => s > 0n))
  .map((stakes): ValidatorStake[] => stakes.map((stake, i) => ({ address: ADDRESSES[i]!, stake })))

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const slot = fc.integer({ min: 0, max: 0xffff_ffff })

describe('proposer selection (property)', () => {
  it('is deterministic and independent of the list order, and draws a staked validator', () => {
    fc.assert(
      fc.property(validatorSet, hash32, slot, fc.integer(), (validators, prevHash, s, seed) => {
        const k = Math.abs(seed) % validators.length
        const rotated = [...validators.slice(k), ...validators.slice(0, k)]
        const shuffled = seed % 2 === 0 ? rotated : rotated.reverse()
        const p = toHex(computeProposer(validators, prevHash, s))
        expect(toHex(computeProposer(validators, prevHash, s))).toBe(p)
        expect(toHex(computeProposer(shuffled, prevHash, s))).toBe(p)
        const drawn = validators.find((v) => toHex(v.address) === p)
        expect(drawn).toBeDefined()
        expect(drawn!.stake > 0n).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('over many slots picks every validator with stake, never one without, roughly in proportion', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 5 }).filter((s) => s.some((x) => x > 0)),
        hash32,
        (weights, prevHash) => {
          const validators = weights.map((w, i) => ({ address: ADDRESSES[i]!, stake: BigInt(w) * 1_000_000n }))
          const total = weights.reduce((a, b) => a + b, 0)
          const counts = new Map<string, number>()
          const SLOTS = 3000
          for (let s = 0; s < SLOTS; s++) {
            const p = toHex(computeProposer(validators, prevHash, s))
            counts.set(p, (counts.get(p) ?? 0) + 1)
          }
          weights.forEach((w, i) => {
            const n = counts.get(toHex(ADDRESSES[i]!)) ?? 0
            if (w === 0) {
              expect(n).toBe(0)
            } else {
              // Expected share w/total ≥ 1/20, so ≥ 150 draws: ±35 % is more than 4 standard deviations.
              const expected = (SLOTS * w) / total
              expect(n).toBeGreaterThan(0)
              expect(n).toBeGreaterThan(expected * 0.65)
              expect(n).toBeLessThan(expected * 1.35)
            }
          })
        },
      ),
      { numRuns: 15 },
    )
  })
})
