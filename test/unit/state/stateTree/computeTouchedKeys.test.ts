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

  it('names the accounts a completion pays and an audit pays rent to (values served from disk are loaded before the run)', () => {
    const [proposer, host, other] = [testKey('p'), testKey('h'), testKey('o')]
    const payout = (key: typeof host, amount: bigint) => ({ to: key.publicKey, amount })
    const entries: BlockEntry[] = [
      { type: 'completion', executionId: new Uint8Array(32), status: 0, outcome: 0, resultHash: new Uint8Array(32), fuelUsed: 0n, output: new Uint8Array(0), writeSet: [], receipts: [], payouts: [payout(host, 3n)], refund: 0n, burn: 0n, reputation: [] },
      { type: 'audit', epoch: 1, results: [], repairs: [], rent: [payout(other, 1n)], expired: [], reputation: [] },
    ]
    expect(computeTouchedKeys(entries, proposer.publicKey).map(toHex).slice(3)).toEqual([TABLES.account.key(host.publicKey), TABLES.account.key(other.publicKey)].map(toHex))
  })
})
