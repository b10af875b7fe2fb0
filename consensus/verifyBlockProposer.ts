import type { BlockHeader } from '../blocks/schema.ts'
import { equalBytes, toHex } from '../src/crypto/index.ts'
import { BftError } from './bft/errors.ts'
import { computeRoundProposer, type ProposerPriorityState } from './proposerPriority.ts'

/**
 * Rounds a block may name. Finding a round's proposer costs O(round · validators), so a header
 * cannot make a node spin; a height that needs more rounds than this has lost liveness anyway.
 */
export const MAX_BLOCK_ROUND = 1024

/**
 * A block is signed by the proposer-priority proposer of its (height, round): the priorities are
 * those of its height (the parent's validator-set history), `header.round` the round it was built
 * for. `committedRound` (the round of the commit it arrives with, when range-synced) bounds it:
 * a block built for a later round than the one that committed it was never proposed there.
 * The proposer's signature itself is checked with the proofs (verifyHeaderSignature).
 */
export function verifyBlockProposer(priorities: ProposerPriorityState, header: Pick<BlockHeader, 'proposer' | 'round'>, committedRound?: number): void {
  if (header.round > MAX_BLOCK_ROUND) throw new BftError('BAD_PARAMS', `block round ${header.round} is above ${MAX_BLOCK_ROUND}`, { field: 'round', got: header.round })
  if (committedRound !== undefined && header.round > committedRound) {
    throw new BftError('BAD_VALID_ROUND', `block built for round ${header.round} cannot be committed in round ${committedRound}`, { got: header.round, round: committedRound })
  }
  const expected = computeRoundProposer(priorities, header.round)
  if (!equalBytes(expected, header.proposer)) {
    throw new BftError('WRONG_PROPOSER', `block is signed by ${toHex(header.proposer)}, not by the proposer of round ${header.round}`, { round: header.round, got: toHex(header.proposer), expected: toHex(expected) })
  }
}
