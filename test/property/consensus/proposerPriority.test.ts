import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import {
  computeIncrementedPriorities,
  computeInitialPriorities,
  computeNextHeightPriorities,
  computeProposerSequence,
  computeRoundProposer,
} from '../../../consensus/proposerPriority.ts'
import { hash, keyPairFromSecret, toHex, u32be } from '../../../src/crypto/index.ts'

const KEYS = Array.from({ length: 12 }, (_, i) => keyPairFromSecret(hash(u32be(4242 + i))).publicKey)
const stakesArb = fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 12 })

function validators(stakes: number[]) {
  return stakes.map((s, i) => ({ address: KEYS[i]!, stake: BigInt(s) }))
}

describe('proposer priority (CometBFT stake-weighted round robin, property)', () => {
  it('over k·total rounds each validator proposes k·stake times, within a small constant', () => {
    fc.assert(fc.property(stakesArb, fc.integer({ min: 1, max: 5 }), (stakes, k) => {
      const total = stakes.reduce((a, b) => a + b, 0)
      const seq = computeProposerSequence(validators(stakes), k * total)
      const counts = new Map<string, number>()
      for (const p of seq) counts.set(toHex(p), (counts.get(toHex(p)) ?? 0) + 1)
      stakes.forEach((s, i) => {
        const got = counts.get(toHex(KEYS[i]!)) ?? 0
        expect(Math.abs(got - k * s)).toBeLessThanOrEqual(2)
      })
    }), { numRuns: 60 })
  })

  it('frequencies match stake shares over many rounds of one height (round increments)', () => {
    fc.assert(fc.property(stakesArb, (stakes) => {
      const total = stakes.reduce((a, b) => a + b, 0)
      const state = computeInitialPriorities(validators(stakes))
      const counts = new Map<string, number>()
      let s = state
      const rounds = 3 * total
      for (let r = 0; r < rounds; r++) {
        counts.set(toHex(s.proposer), (counts.get(toHex(s.proposer)) ?? 0) + 1)
        s = computeIncrementedPriorities(s, 1)
      }
      stakes.forEach((st, i) => expect(Math.abs((counts.get(toHex(KEYS[i]!)) ?? 0) - 3 * st)).toBeLessThanOrEqual(2))
      // computeRoundProposer(r) agrees with stepping r times.
      let step = state
      for (let r = 0; r < 5; r++) {
        expect(toHex(computeRoundProposer(state, r))).toBe(toHex(step.proposer))
        step = computeIncrementedPriorities(step, 1)
      }
    }), { numRuns: 40 })
  })

  it('is deterministic and independent of input order: it depends on the validator set alone', () => {
    fc.assert(fc.property(stakesArb, fc.integer({ min: 0, max: 1000 }), (stakes, rot) => {
      const list = validators(stakes)
      const rotated = list.map((_, i) => list[(i + rot) % list.length]!)
      const a = computeProposerSequence(list, 40).map(toHex)
      const b = computeProposerSequence(rotated, 40).map(toHex)
      expect(b).toEqual(a)
      expect(computeProposerSequence(list, 40).map(toHex)).toEqual(a)
    }), { numRuns: 50 })
  })

  it('matches the hand-computed CometBFT sequence for stakes 1 and 3 (ties to the lower address): B A B B, repeating', () => {
    const [a, b] = [KEYS[0]!, KEYS[1]!].sort((x, y) => (toHex(x) < toHex(y) ? -1 : 1))
    const seq = computeProposerSequence([{ address: b!, stake: 3n }, { address: a!, stake: 1n }], 8).map((p) => (toHex(p) === toHex(a!) ? 'A' : 'B'))
    expect(seq.join('')).toBe('BABBBABB')
  })

  it('never picks a zero-stake validator; a newcomer starts behind (−1.125·total) and cannot jump the queue', () => {
    const list = validators([5, 5, 5])
    const withZero = [...list, { address: KEYS[5]!, stake: 0n }]
    expect(computeProposerSequence(withZero, 60).some((p) => toHex(p) === toHex(KEYS[5]!))).toBe(false)
    let state = computeInitialPriorities(list)
    for (let i = 0; i < 7; i++) state = computeIncrementedPriorities(state, 1)
    const joined = computeNextHeightPriorities(state, [...list, { address: KEYS[6]!, stake: 5n }])
    expect(toHex(joined.proposer)).not.toBe(toHex(KEYS[6]!))
    // A removed validator never proposes again.
    const removed = computeNextHeightPriorities(state, list.slice(1))
    let s = removed
    for (let i = 0; i < 30; i++) {
      expect(toHex(s.proposer)).not.toBe(toHex(list[0]!.address))
      s = computeIncrementedPriorities(s, 1)
    }
  })
})
