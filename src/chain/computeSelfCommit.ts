import type { Block, Hash } from '../../blocks/schema.ts'
import { type Commit, signVote, VOTE_STEP } from '../../consensus/bft/messages.ts'
import { isQuorum } from '../../consensus/bft/quorum.ts'
import type { ValidatorSet } from '../../consensus/validatorSet.ts'
import { type KeyPair, toHex } from '../crypto/index.ts'

/**
 * Without a network: when this key alone holds more than 2/3 of the stake its own precommit
 * is a commit, so the block is final at once and stored with it (range sync and clients need
 * it). Otherwise undefined: the block is applied without a commit (tests of one process).
 */
export function computeSelfCommit(set: ValidatorSet, chainId: string, block: Block, hash: Hash, key: KeyPair): Commit | undefined {
  const stake = set.byAddress.get(toHex(key.publicKey)) ?? 0n
  if (!isQuorum(stake, set.totalStake)) return undefined
  const body = { chainId, step: VOTE_STEP.precommit, height: block.header.height, round: 0, blockId: hash, validator: key.publicKey }
  return { chainId, height: body.height, round: 0, blockId: hash, signatures: [{ validator: key.publicKey, signature: signVote(body, key.secretKey).signature }] }
}
