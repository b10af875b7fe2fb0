import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { type BlockNode, ConsensusError, FinalityTracker, isAncestorOrSelf, isSupermajority, signAttestation } from '../../../consensus/index.ts'
import { hash, keyPairFromSecret, toHex, u32be } from '../../../src/crypto/index.ts'

const CHAIN = 'xsc-prop'
const KEYS = Array.from({ length: 4 }, (_, i) => keyPairFromSecret(new Uint8Array(32).fill(i + 21)))

type Action = { type: 'block'; parent: number } | { type: 'attest'; validator: number; block: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant('block' as const), parent: fc.nat() }),
  fc.record({ type: fc.constant('attest' as const), validator: fc.nat({ max: 3 }), block: fc.nat() }),
)

let moves = 0
describe('finality (property)', () => {
  it('never reverts: the finalized block only moves to descendants, the head always descends from it, and each step had > 2/3 support', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 4, maxLength: 4 }), fc.array(action, { minLength: 20, maxLength: 120 }), (stakes, actions) => {
        const validators = KEYS.map((k, i) => ({ address: k.publicKey, stake: BigInt(stakes[i]!) }))
        const total = validators.reduce((a, v) => a + v.stake, 0n)
        const genesis: BlockNode = { hash: hash(u32be(0)), parentHash: new Uint8Array(32), height: 0 }
        const blocks: BlockNode[] = [genesis]
        const tracker = new FinalityTracker({ chainId: CHAIN, validators, finalized: genesis })
        const history = [genesis.hash]
        for (const a of actions) {
          if (a.type === 'block') {
            // Mostly extend recent blocks (forks of depth ≤ 4), like a real tree.
            const parent = blocks[blocks.length - 1 - (a.parent % Math.min(4, blocks.length))]!
            const node = { hash: hash(u32be(blocks.length)), parentHash: parent.hash, height: parent.height + 1 }
            tracker.addBlock(node)
            blocks.push(node)
          } else {
            const target = blocks[blocks.length - 1 - (a.block % Math.min(4, blocks.length))]!
            const key = KEYS[a.validator]!
            const att = signAttestation({ chainId: CHAIN, height: target.height, blockHash: target.hash, validator: key.publicKey }, key.secretKey)
            try {
              tracker.addAttestation(att)
            } catch (error) {
              // Two blocks at one height from one validator: refused, by design.
              if (!(error instanceof ConsensusError) || error.code !== 'EQUIVOCATION') throw error
            }
          }
          const finalized = tracker.finalized
          const previous = history[history.length - 1]!
          expect(isAncestorOrSelf(tracker.tree, previous, finalized)).toBe(true)
          if (toHex(finalized) !== toHex(previous)) {
            // Support for the new finalized block: validators whose vote lies in its subtree.
            let support = 0n
            for (const [validator, vote] of tracker.votes) {
              if (isAncestorOrSelf(tracker.tree, finalized, vote.blockHash)) support += validators.find((v) => toHex(v.address) === validator)!.stake
            }
            expect(isSupermajority(support, total)).toBe(true)
            history.push(finalized)
            moves++
          }
          expect(isAncestorOrSelf(tracker.tree, finalized, tracker.head())).toBe(true)
        }
        // Every block ever finalized is still final.
        for (const h of history) expect(tracker.isFinalized(h)).toBe(true)
      }),
      { numRuns: 200 },
    )
    // The runs must actually finalize blocks, or the property says nothing.
    expect(moves).toBeGreaterThan(100)
  })
})
