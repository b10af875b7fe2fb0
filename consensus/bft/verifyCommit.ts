import type { Hash } from '../../blocks/schema.ts'
import { compareBytes, equalBytes, toHex } from '../../src/crypto/index.ts'
import type { ValidatorSet } from '../validatorSet.ts'
import { BftError } from './errors.ts'
import { type Commit, commitVoteBody, verifyCached, voteSigningHash } from './messages.ts'
import { isQuorum } from './quorum.ts'

export interface CommitContext {
  chainId: string
  /** The validator set of the commit's height. */
  validators: ValidatorSet
  /** When given, the commit must be for this height / block. */
  height?: number
  blockId?: Hash
}

/**
 * Checks that a commit proves finality by itself: right chain (and height/block when asked),
 * signers strictly ascending (no signer twice), each a staked validator of the height's set with a
 * valid precommit signature, and together more than 2/3 of the stake. Anyone holding the
 * validator set can run it: a light client needs nothing else. Returns the signed stake.
 */
export function verifyCommit(commit: Commit, ctx: CommitContext): bigint {
  if (commit.chainId !== ctx.chainId) throw new BftError('WRONG_CHAIN', 'commit is for another chain', { got: commit.chainId, expected: ctx.chainId })
  if (ctx.height !== undefined && commit.height !== ctx.height) {
    throw new BftError('COMMIT_MISMATCH', 'commit is for another height', { got: commit.height, expected: ctx.height })
  }
  if (ctx.blockId !== undefined && !equalBytes(commit.blockId, ctx.blockId)) {
    throw new BftError('COMMIT_MISMATCH', 'commit is for another block', { got: toHex(commit.blockId), expected: toHex(ctx.blockId) })
  }
  let signed = 0n
  for (let i = 0; i < commit.signatures.length; i++) {
    const sig = commit.signatures[i]!
    if (i > 0 && compareBytes(commit.signatures[i - 1]!.validator, sig.validator) >= 0) {
      throw new BftError('DUPLICATE_SIGNER', 'commit signers must be strictly ascending by address', { validator: toHex(sig.validator) })
    }
    const stake = ctx.validators.byAddress.get(toHex(sig.validator))
    if (stake === undefined || stake === 0n) throw new BftError('NOT_VALIDATOR', 'commit signer is not a staked validator', { validator: toHex(sig.validator) })
    if (!verifyCached(sig.validator, voteSigningHash(commitVoteBody(commit, sig.validator)), sig.signature)) {
      throw new BftError('BAD_SIGNATURE', 'commit signature is not a precommit by its validator', { validator: toHex(sig.validator) })
    }
    signed += stake
  }
  if (!isQuorum(signed, ctx.validators.totalStake)) {
    throw new BftError('NO_QUORUM', 'commit signers hold no more than 2/3 of the stake', { got: signed.toString(), total: ctx.validators.totalStake.toString() })
  }
  return signed
}
