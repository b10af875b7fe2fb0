import { CodecError } from '../../../blocks/errors.ts'
import { BlockError } from '../../../blocks/validateBlock.ts'
import { ConsensusError, isTransientConsensusError } from '../../../consensus/errors.ts'
import { ForkChoiceError } from '../../chain/forkChoice.ts'
import type { ValidationResult } from '../../net/index.ts'
import { StateError, type StateErrorCode } from '../../state/errors.ts'

/** The topics whose messages this node validates itself (receipts belong to storage coordination). */
export type ValidatedTopic = 'transactions' | 'blocks' | 'attestations'

const TX_IGNORE: ReadonlySet<StateErrorCode> = new Set<StateErrorCode>(['NONCE_TOO_HIGH', 'NONCE_TOO_LOW', 'INSUFFICIENT_FUNDS', 'UNKNOWN_HOST', 'UNKNOWN_ASSET', 'UNKNOWN_EXECUTION', 'UNKNOWN_VALIDATOR', 'HOST_EXISTS', 'STAKE_TOO_LOW'])

/**
 * The gossip verdict for a message whose validation threw: the one mapping from errors to
 * REJECT (the bytes can never be valid: the sender is penalised) or IGNORE (not now, or our own
 * failure). Undecodable bytes are REJECT on every topic.
 * - transactions: reject only what is wrong in the bytes (bad signature, other chain, malformed);
 *   a nonce or balance problem depends on the receiver's state, and an honest peer may be a block
 *   ahead or behind us.
 * - blocks: everything the chain refuses for a reason in the block itself (wrong proposer, bad
 *   proof or signature, bad state root or tx) is REJECT; "not yet" (unknown parent, already
 *   known, from the future) and our own failures (store, workers) are IGNORE.
 * - attestations: an equivocating validator's second vote may be relayed by honest peers that
 *   never saw its first: not their fault, so IGNORE (as Ethereum's gossip rules do); the vote
 *   never counts. A vote for a block we do not know yet is IGNORE too.
 */
export function computeGossipVerdict(topic: ValidatedTopic, error: unknown): ValidationResult {
  if (error instanceof CodecError) return 'reject'
  switch (topic) {
    case 'transactions':
      return error instanceof StateError && !TX_IGNORE.has(error.code) ? 'reject' : 'ignore'
    case 'blocks':
      if (error instanceof BlockError) return error.code === 'ALREADY_KNOWN' || error.code === 'PARENT_UNKNOWN' ? 'ignore' : 'reject'
      if (error instanceof ConsensusError) return isTransientConsensusError(error) ? 'ignore' : 'reject'
      if (error instanceof StateError) return 'reject'
      return error instanceof ForkChoiceError && error.code === 'BRANCH_INVALID' ? 'reject' : 'ignore'
    case 'attestations':
      if (error instanceof ConsensusError) return error.code === 'EQUIVOCATION' || isTransientConsensusError(error) ? 'ignore' : 'reject'
      return 'ignore'
  }
}

export function computeTxVerdict(error: unknown): ValidationResult {
  return computeGossipVerdict('transactions', error)
}

export function computeBlockVerdict(error: unknown): ValidationResult {
  return computeGossipVerdict('blocks', error)
}
