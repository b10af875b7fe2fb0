import { describe, expect, it, vi } from 'vitest'

import { type Commit, signVote, verifyCommit, VOTE_STEP } from '../../../../consensus/bft/index.ts'
import * as crypto from '../../../../src/crypto/index.ts'
import { blockId, CHAIN, heightContext, KEYS } from './harness.ts'

// The one verifier, counted (the real one runs).
vi.mock('../../../../src/crypto/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../../src/crypto/index.ts')>()
  return { ...real, verify: vi.fn(real.verify) }
})

function precommitsFor(signers: { key: crypto.KeyPair; as: Uint8Array }[], height: number, id: Uint8Array): Commit {
  const votes = signers.map(({ key, as }) => signVote({ chainId: CHAIN, step: VOTE_STEP.precommit, height, round: 0, blockId: id, validator: as }, key.secretKey))
  const signatures = votes.map((v) => ({ validator: v.body.validator, signature: v.signature })).sort((a, b) => crypto.compareBytes(a.validator, b.validator))
  return { chainId: CHAIN, height, round: 0, blockId: id, signatures }
}

describe('own signatures: a precommit this process signed is not verified again inside a commit', () => {
  const ctx = heightContext([10n, 10n, 10n, 10n])
  const verify = vi.mocked(crypto.verify)

  it('verifyCommit checks the other validators\' precommits only: our own was signed here', () => {
    const id = blockId('own-signatures')
    const commit = precommitsFor(KEYS.slice(0, 3).map((key) => ({ key, as: key.publicKey })), 7, id)
    verify.mockClear()
    expect(verifyCommit(commit, { chainId: CHAIN, validators: ctx.validators, height: 7, blockId: id })).toBe(30n)
    // All three were signed in this process, so none needs a check.
    expect(verify).not.toHaveBeenCalled()
  })

  it('a vote signed with a key that is not its named validator\'s gets no remembered verdict, and the commit fails', () => {
    const id = blockId('wrong-key')
    // KEYS[3] signs in KEYS[2]'s name.
    const commit = precommitsFor([{ key: KEYS[0]!, as: KEYS[0]!.publicKey }, { key: KEYS[1]!, as: KEYS[1]!.publicKey }, { key: KEYS[3]!, as: KEYS[2]!.publicKey }], 8, id)
    verify.mockClear()
    expect(() => verifyCommit(commit, { chainId: CHAIN, validators: ctx.validators, height: 8, blockId: id })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }))
    expect(verify).toHaveBeenCalledTimes(1)
  })
})
