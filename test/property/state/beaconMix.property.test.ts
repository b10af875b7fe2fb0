import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { BeaconChain, computeBeaconSeed, computeNextMix } from '../../../consensus/beacon.ts'
import { equalBytes, toHex } from '../../../src/crypto/index.ts'
import { readBeaconMix } from '../../../src/state/beaconState.ts'
import { StateError } from '../../../src/state/errors.ts'
import { BeaconLedger } from '../../support/beaconLedger.ts'
import { testGenesis, testKey } from '../../support/chainFixtures.ts'

const LENGTH = 16
const keys = [0, 1, 2].map((i) => testKey(`beacon-mix-${i}`))
const genesis = testGenesis({ validators: keys, params: { beaconChainLength: LENGTH } })
const chains = keys.map((k) => new BeaconChain(computeBeaconSeed(k.secretKey, 0), LENGTH))

describe('the beacon mix through the state transition (property)', () => {
  it('a proposer cannot choose the mix: every reveal but its committed preimage is refused, so each block leaves one of 2 mixes (reveal or withhold)', () => {
    // Per step: who proposes, whether it withholds (no block: the next proposer's turn), and a value it would like to reveal instead.
    const step = fc.record({ proposer: fc.nat({ max: 2 }), withhold: fc.boolean(), wanted: fc.uint8Array({ minLength: 32, maxLength: 32 }) })
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
      const ledger = new BeaconLedger(genesis)
      const used = [0, 0, 0]
      for (const s of steps) {
        const key = keys[s.proposer]!
        if (used[s.proposer]! >= LENGTH) continue
        const correct = chains[s.proposer]!.reveal(used[s.proposer]!)
        const before = readBeaconMix(ledger.state)
        if (!equalBytes(s.wanted, correct)) {
          expect(() => ledger.apply(key, s.wanted)).toThrow(StateError)
          expect(toHex(readBeaconMix(ledger.state))).toBe(toHex(before))
        }
        if (s.withhold) continue
        ledger.apply(key, correct)
        used[s.proposer]!++
        const after = readBeaconMix(ledger.state)
        // The only two outcomes this proposer had: `before` (withhold) or this one.
        expect(toHex(after)).toBe(toHex(computeNextMix(before, correct)))
      }
    }), { numRuns: 60 })
  })
})
