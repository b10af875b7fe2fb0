import type { Hash } from '../../../blocks/schema.ts'
import type { Commit } from '../../../consensus/bft/messages.ts'
import { verifyCommit } from '../../../consensus/bft/verifyCommit.ts'
import { computeValidatorSet, type ValidatorStake } from '../../../consensus/validatorSet.ts'
import type { Client } from '../createClient.ts'

export interface VerifyBlockCommitParameters {
  height: number
  /**
   * The validator set the client trusts for that height (from genesis and the stake changes it
   * follows). Default: the set the node sends along (the one that committed that height), which
   * proves finality only to a client that trusts the node about the set.
   */
  validators?: readonly ValidatorStake[]
}

export interface VerifiedBlockCommit {
  hash: Hash
  commit: Commit
  /** Stake that precommitted the block (more than 2/3 of the set's). */
  signedStake: bigint
}

/**
 * Checks by itself that the block at a height is final: fetches the block and its commit
 * (xsc_getCommit) and runs `verifyCommit` — chain id, height, block hash, each signature a
 * precommit of a staked validator, signers holding more than 2/3 of the stake. Throws BftError
 * when the commit does not prove finality; null when the node has no commit for that height.
 */
export async function verifyBlockCommit(client: Client, params: VerifyBlockCommitParameters): Promise<VerifiedBlockCommit | null> {
  const [block, proof, chain] = await Promise.all([
    client.request('xsc_getBlockByHeight', [params.height, false]),
    client.request('xsc_getCommit', [params.height]),
    client.request('xsc_getChainParams', []),
  ])
  if (block === undefined || proof === undefined) return null
  const validators = computeValidatorSet(params.validators ?? proof.validators)
  const signedStake = verifyCommit(proof.commit, { chainId: chain.chainId, validators, height: params.height, blockId: block.hash })
  return { hash: block.hash, commit: proof.commit, signedStake }
}
