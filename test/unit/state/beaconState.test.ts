import { describe, expect, it } from 'vitest'

import type { BlockEntry } from '../../../blocks/schema.ts'
import { BeaconChain, computeBeaconSeed, computeGenesisMix, computeNextMix, computeValidatorBeaconCommitment, NO_REVEAL } from '../../../consensus/beacon.ts'
import { ProposerBeacon } from '../../../src/chain/produceBlock/ProposerBeacon.ts'
import { equalBytes, hash, type KeyPair, toHex, utf8 } from '../../../src/crypto/index.ts'
import { readBeaconMix, readBeaconRecord } from '../../../src/state/beaconState.ts'
import { StateError } from '../../../src/state/errors.ts'
import { BeaconLedger } from '../../support/beaconLedger.ts'
import { signTx, testGenesis, testKey } from '../../support/chainFixtures.ts'

const LENGTH = 3
const alice = testKey('beacon-alice')
const bob = testKey('beacon-bob')

function revealError(f: () => void): StateError['details'] | undefined {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(StateError)
    expect((e as StateError).code).toBe('BAD_REVEAL')
    return (e as StateError).details
  }
  return undefined
}

const chainOf = (key: KeyPair, generation = 0): BeaconChain => new BeaconChain(computeBeaconSeed(key.secretKey, generation), LENGTH)

describe('the beacon in state', () => {
  it('genesis registers each validator\'s commitment and the chain id\'s mix; a zero commitment registers none', () => {
    const genesis = testGenesis({ validators: [alice, bob], params: { beaconChainLength: LENGTH } })
    genesis.validators[1]!.beaconCommitment = new Uint8Array(32)
    const ledger = new BeaconLedger(genesis)
    expect(toHex(readBeaconMix(ledger.state))).toBe(toHex(computeGenesisMix(genesis.chainId)))
    expect(readBeaconRecord(ledger.state, alice.publicKey)).toEqual({ lastRevealed: computeValidatorBeaconCommitment(alice.secretKey, 0, LENGTH), revealed: 0, generation: 0 })
    expect(readBeaconRecord(ledger.state, bob.publicKey)).toBeUndefined()
  })

  it('a block with the next preimage folds it into the mix; any other reveal is BAD_REVEAL and changes nothing', () => {
    const genesis = testGenesis({ validators: [alice], params: { beaconChainLength: LENGTH } })
    const ledger = new BeaconLedger(genesis)
    const chain = chainOf(alice)
    const mix0 = readBeaconMix(ledger.state)
    // The commitment itself, a later link (skipping one), an arbitrary value, and no reveal at all.
    expect(revealError(() => ledger.apply(alice, chain.commitment))).toMatchObject({ reason: 'not-preimage' })
    expect(revealError(() => ledger.apply(alice, chain.reveal(1)))).toMatchObject({ reason: 'not-preimage' })
    expect(revealError(() => ledger.apply(alice, hash(utf8('chosen by the proposer'))))).toMatchObject({ reason: 'not-preimage' })
    expect(revealError(() => ledger.apply(alice, NO_REVEAL))).toMatchObject({ reason: 'missing' })
    expect(ledger.height).toBe(0)
    ledger.apply(alice, chain.reveal(0))
    expect(toHex(readBeaconMix(ledger.state))).toBe(toHex(computeNextMix(mix0, chain.reveal(0))))
    expect(readBeaconRecord(ledger.state, alice.publicKey)).toMatchObject({ lastRevealed: chain.reveal(0), revealed: 1 })
    // Reveals cannot be replayed: the same link again is no preimage of itself.
    expect(revealError(() => ledger.apply(alice, chain.reveal(0)))).toMatchObject({ reason: 'not-preimage' })
  })

  it('a proposer without a commitment must reveal zero and leaves the mix unchanged', () => {
    const genesis = testGenesis({ validators: [alice], params: { beaconChainLength: LENGTH } })
    const ledger = new BeaconLedger(genesis)
    const mix0 = readBeaconMix(ledger.state)
    expect(revealError(() => ledger.apply(bob, hash(utf8('anything'))))).toMatchObject({ reason: 'unexpected' })
    ledger.apply(bob, NO_REVEAL)
    expect(equalBytes(readBeaconMix(ledger.state), mix0)).toBe(true)
  })

  it('an exhausted chain reveals zero until a validator.beacon tx commits a new one (next generation)', () => {
    const genesis = testGenesis({ validators: [alice], funded: [{ key: alice, amount: 1_000_000n }], params: { beaconChainLength: LENGTH } })
    const ledger = new BeaconLedger(genesis)
    const proposer = new ProposerBeacon(alice)
    for (let i = 0; i < LENGTH; i++) ledger.apply(alice, proposer.nextReveal(ledger.state, LENGTH))
    expect(readBeaconRecord(ledger.state, alice.publicKey)).toMatchObject({ revealed: LENGTH })
    expect(toHex(proposer.nextReveal(ledger.state, LENGTH))).toBe(toHex(NO_REVEAL))
    const mixExhausted = readBeaconMix(ledger.state)
    expect(revealError(() => ledger.apply(alice, chainOf(alice).commitment))).toMatchObject({ reason: 'unexpected' })
    // Re-commit: the tx rides in a block this exhausted proposer makes (revealing zero).
    const next = chainOf(alice, 1)
    ledger.apply(alice, NO_REVEAL, [{ type: 'tx', tx: signTx(alice, 0, { type: 'validator.beacon', commitment: next.commitment }) }])
    expect(equalBytes(readBeaconMix(ledger.state), mixExhausted)).toBe(true)
    expect(readBeaconRecord(ledger.state, alice.publicKey)).toEqual({ lastRevealed: next.commitment, revealed: 0, generation: 1 })
    const reveal = proposer.nextReveal(ledger.state, LENGTH)
    expect(toHex(reveal)).toBe(toHex(next.reveal(0)))
    ledger.apply(alice, reveal)
    expect(toHex(readBeaconMix(ledger.state))).toBe(toHex(computeNextMix(mixExhausted, reveal)))
  })

  it('only a validator may commit, and never to zero', () => {
    const genesis = testGenesis({ validators: [alice], funded: [{ key: alice, amount: 1_000_000n }, { key: bob, amount: 1_000_000n }], params: { beaconChainLength: LENGTH } })
    const ledger = new BeaconLedger(genesis)
    const tx = (key: KeyPair, commitment: Uint8Array): BlockEntry[] => [{ type: 'tx', tx: signTx(key, 0, { type: 'validator.beacon', commitment }) }]
    expect(() => ledger.apply(bob, NO_REVEAL, tx(bob, hash(utf8('c'))))).toThrow(expect.objectContaining({ code: 'UNKNOWN_VALIDATOR' }))
    expect(() => ledger.apply(bob, NO_REVEAL, tx(alice, NO_REVEAL))).toThrow(expect.objectContaining({ code: 'INVALID_TX' }))
  })

  it('a restarted proposer recomputes its reveals from its key and the state alone', () => {
    const genesis = testGenesis({ validators: [alice], params: { beaconChainLength: LENGTH } })
    const ledger = new BeaconLedger(genesis)
    ledger.apply(alice, new ProposerBeacon(alice).nextReveal(ledger.state, LENGTH))
    ledger.apply(alice, new ProposerBeacon(alice).nextReveal(ledger.state, LENGTH))
    expect(readBeaconRecord(ledger.state, alice.publicKey)).toMatchObject({ revealed: 2 })
  })
})
