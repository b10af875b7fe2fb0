import { describe, expect, it } from 'vitest'

import { computeProposer, sealBlock, signHeader, verifyHeaderSignature, verifyProofs } from '../../../consensus/index.ts'
import { equalBytes, toHex, ZERO_HASH } from '../../../src/crypto/index.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { expectConsensusError, flipByte, keyOf, KEYS, makeContext, makeFields, replaceProof, resign, sealValid, VALIDATORS } from './fixtures.ts'

describe('stake: proposer selection', () => {
  it('is the same for any input order of the validator list', () => {
    const reversed = [...VALIDATORS].reverse()
    for (let slot = 0; slot < 50; slot++) {
      expect(toHex(computeProposer(reversed, ZERO_HASH, slot))).toBe(toHex(computeProposer(VALIDATORS, ZERO_HASH, slot)))
    }
  })

  it('never draws a zero-stake validator and fails typed when nobody has stake', () => {
    const vs = VALIDATORS.map((v, i) => ({ ...v, stake: i === 0 ? 5n : 0n }))
    for (let slot = 0; slot < 50; slot++) expect(equalBytes(computeProposer(vs, ZERO_HASH, slot), VALIDATORS[0]!.address)).toBe(true)
    expectConsensusError(() => computeProposer(VALIDATORS.map((v) => ({ ...v, stake: 0n })), ZERO_HASH, 1), 'NO_STAKE', 'stake')
    expectConsensusError(() => computeProposer([], ZERO_HASH, 1), 'NO_STAKE', 'stake')
  })

  it('rejects a validator list with a duplicate address', () => {
    expectConsensusError(() => computeProposer([...VALIDATORS, VALIDATORS[1]!], ZERO_HASH, 1), 'BAD_VALIDATOR_SET', 'stake')
  })

  it('depends on the previous hash and the slot', () => {
    const seen = new Set<string>()
    for (let slot = 0; slot < 40; slot++) seen.add(toHex(computeProposer(VALIDATORS, ZERO_HASH, slot)))
    expect(seen.size).toBeGreaterThan(1)
    const a = Array.from({ length: 40 }, (_, s) => toHex(computeProposer(VALIDATORS, ZERO_HASH, s))).join()
    const b = Array.from({ length: 40 }, (_, s) => toHex(computeProposer(VALIDATORS, new Uint8Array(32).fill(1), s))).join()
    expect(a).not.toBe(b)
  })
})

describe('stake: proofs', () => {
  const ctx = makeContext(['stake'])

  it('accepts a header sealed by the slot proposer (stake-only chain)', () => {
    const header = sealValid(ctx)
    expect(header.proofs).toEqual([{ scheme: 'stake', data: new Uint8Array(0) }])
    expect(() => verifyProofs(ctx, header)).not.toThrow()
  })

  it('rejects a header from a key that is not a staked validator (the proposer order is BFT\'s, not the slot\'s)', () => {
    const slot = 5
    const outsider = testKey('stake-outsider')
    const header = signHeader({ ...makeFields(slot, outsider.publicKey), proofs: [{ scheme: 'stake', data: new Uint8Array(0) }] }, outsider.secretKey)
    const error = expectConsensusError(() => verifyProofs(ctx, header), 'WRONG_PROPOSER', 'stake')
    expect(error.details).toMatchObject({ got: toHex(outsider.publicKey) })
    // Any staked validator may seal: which one proposes at a height/round is checked against its signed proposal.
    for (const key of KEYS) expect(() => verifyProofs(ctx, sealBlock({ ...ctx, secretKey: key.secretKey }, makeFields(slot, key.publicKey)))).not.toThrow()
  })

  it('refuses to seal for a key that is not a staked validator', () => {
    const outsider = testKey('stake-outsider')
    expectConsensusError(() => sealBlock({ ...ctx, secretKey: outsider.secretKey }, makeFields(5, outsider.publicKey)), 'WRONG_PROPOSER', 'stake')
  })

  it('rejects tampered proof data', () => {
    expectConsensusError(() => verifyProofs(ctx, replaceProof(sealValid(ctx), 'stake', new Uint8Array([1]))), 'MALFORMED_PROOF', 'stake')
  })

  it('rejects a header missing the stake proof', () => {
    expectConsensusError(() => verifyProofs(ctx, resign({ ...sealValid(ctx), proofs: [] })), 'MISSING_PROOF', 'stake')
  })

  it('rejects a slot that does not match the timestamp', () => {
    const header = sealValid(ctx, 5)
    // Same timestamp, slot claimed one later: re-signed by the same key.
    expectConsensusError(() => verifyProofs(ctx, resign({ ...header, slot: 6 })), 'WRONG_SLOT', 'stake')
  })

  it('rejects a slot before the parent slot and accepts the parent\'s own slot (blocks proposed on commit)', () => {
    const header = sealValid(ctx, 5)
    expectConsensusError(() => verifyProofs({ ...ctx, parentSlot: 6 }, header), 'SLOT_BEFORE_PARENT', 'stake')
    expect(() => verifyProofs({ ...ctx, parentSlot: 5 }, header)).not.toThrow()
  })

  it('rejects a bad header signature and any change after signing', () => {
    const header = sealValid(ctx)
    expect(() => verifyHeaderSignature(header)).not.toThrow()
    expectConsensusError(() => verifyProofs(ctx, { ...header, signature: flipByte(header.signature) }), 'BAD_SIGNATURE', 'stake')
    expectConsensusError(() => verifyProofs(ctx, { ...header, stateRoot: new Uint8Array(32) }), 'BAD_SIGNATURE', 'stake')
  })

  it('signs only with the proposer key', () => {
    const header = sealValid(ctx)
    const wrong = KEYS.find((k) => !equalBytes(k.publicKey, header.proposer))!
    expectConsensusError(() => signHeader(header, wrong.secretKey), 'PROVE_FAILED', 'stake')
    expect(() => signHeader(header, keyOf(header.proposer).secretKey)).not.toThrow()
  })
})
