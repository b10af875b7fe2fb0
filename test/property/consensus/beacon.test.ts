import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import {
  applyReveal,
  type BeaconState,
  computeBeaconCommitment,
  computeNextMix,
  computeReveal,
  createBeacon,
  isValidReveal,
  verifyReveal,
} from '../../../consensus/beacon.ts'
import { BftError } from '../../../consensus/bft/errors.ts'
import { equalBytes, hash, keyPairFromSecret, toHex, u32be, ZERO_HASH } from '../../../src/crypto/index.ts'

const KEYS = Array.from({ length: 4 }, (_, i) => keyPairFromSecret(hash(u32be(777 + i))).publicKey)
const LENGTH = 32

function beaconFor(seeds: Uint8Array[]): BeaconState {
  return createBeacon(ZERO_HASH, KEYS.map((address, i) => ({ address, commitment: computeBeaconCommitment(seeds[i]!, LENGTH) })))
}

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })

describe('RANDAO beacon (property)', () => {
  it('each reveal verifies against the last revealed value, in chain order, and the mix folds it in', () => {
    fc.assert(fc.property(fc.array(seedArb, { minLength: 4, maxLength: 4 }), fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 20 }), (seeds, proposers) => {
      let state = beaconFor(seeds)
      const used = [0, 0, 0, 0]
      for (const p of proposers) {
        const reveal = computeReveal(seeds[p]!, LENGTH, used[p]!++)
        const before = state.mix
        state = applyReveal(state, KEYS[p]!, reveal)
        expect(equalBytes(state.mix, computeNextMix(before, reveal))).toBe(true)
        // Replaying the same reveal is refused: each preimage is used once.
        expect(() => verifyReveal(state, KEYS[p]!, reveal)).toThrow(BftError)
      }
    }), { numRuns: 50 })
  })

  it('a proposer cannot choose the mix: every value but its one committed preimage is refused, so its options are exactly {reveal, withhold}', () => {
    fc.assert(fc.property(seedArb, fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 30 }), fc.nat({ max: LENGTH - 1 }), (seed, candidates, position) => {
      const seeds = [seed, seed, seed, seed].map((s, i) => (i === 0 ? s : hash(new Uint8Array([...s, i]))))
      let state = beaconFor(seeds)
      for (let i = 0; i < position; i++) state = applyReveal(state, KEYS[0]!, computeReveal(seeds[0]!, LENGTH, i))
      const honest = computeReveal(seeds[0]!, LENGTH, position)
      const reachable = new Set<string>()
      for (const c of candidates) {
        try {
          reachable.add(toHex(applyReveal(state, KEYS[0]!, c).mix))
        } catch (error) {
          expect(error).toBeInstanceOf(BftError)
          expect((error as BftError).code).toBe('BAD_REVEAL')
        }
      }
      reachable.add(toHex(applyReveal(state, KEYS[0]!, honest).mix)) // revealing
      reachable.add(toHex(state.mix)) // withholding: the mix stays as it is for the next proposer
      expect(reachable.size).toBe(2)
    }), { numRuns: 100 })
  })

  it('reveals of another validator, or of the wrong position, do not verify', () => {
    const seeds = KEYS.map((_, i) => hash(u32be(i)))
    const state = beaconFor(seeds)
    expect(isValidReveal(state.lastRevealed.get(toHex(KEYS[0]!))!, computeReveal(seeds[0]!, LENGTH, 0))).toBe(true)
    expect(() => verifyReveal(state, KEYS[0]!, computeReveal(seeds[1]!, LENGTH, 0))).toThrow(BftError)
    expect(() => verifyReveal(state, KEYS[0]!, computeReveal(seeds[0]!, LENGTH, 1))).toThrow(BftError)
    expect(() => verifyReveal(state, hash(u32be(99)), computeReveal(seeds[0]!, LENGTH, 0))).toThrow(BftError)
    expect(() => computeReveal(seeds[0]!, LENGTH, LENGTH)).toThrow(BftError)
  })
})
