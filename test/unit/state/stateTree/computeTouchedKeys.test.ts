import { describe, expect, it } from 'vitest'

import type { BlockEntry } from '../../../../blocks/schema.ts'
import { toHex } from '../../../../src/crypto/bytes.ts'
import { computeTouchedKeys } from '../../../../src/state/stateTree/computeTouchedKeys.ts'
import { TABLES } from '../../../../src/state/tables.ts'
import { signTx, testKey, transfer } from '../../../support/chainFixtures.ts'

describe('computeTouchedKeys', () => {
  it('names the proposer (account and beacon record), the beacon mix, each sender, transfer recipients and the validator record a stake tx changes', () => {
    const [proposer, alice, bob] = [testKey('p'), testKey('a'), testKey('b')]
    const entries: BlockEntry[] = [
      { type: 'tx', tx: transfer(alice, 0, bob.publicKey, 5n) },
      { type: 'tx', tx: signTx(bob, 0, { type: 'stake', amount: 1n }) },
    ]
    expect(computeTouchedKeys(entries, proposer.publicKey).map(toHex)).toEqual([
      TABLES.account.key(proposer.publicKey), TABLES.beaconMix.key(), TABLES.beaconRecord.key(proposer.publicKey), TABLES.account.key(alice.publicKey), TABLES.account.key(bob.publicKey), TABLES.account.key(bob.publicKey), TABLES.validator.key(bob.publicKey),
    ].map(toHex))
  })
})
