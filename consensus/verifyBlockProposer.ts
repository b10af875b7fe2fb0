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
 * for. `currentRound`, when the block is judged as a BFT proposal value, bounds it: a block built
 * for a later round than the one being voted on is refused, so a round's proposer cannot propose a
 * block another validator signed for that validator's own future round (without the bound, every
 * validator is the proposer of some round and the check would mean little). A re-proposed valid
 * value keeps its original, earlier round. Range-synced blocks are checked without the bound:
 * their commit shows that more than 2/3 of the stake, honest validators among them, judged them.
 * The proposer's signature itself is checked with the proofs (verifyHeaderSignature).
 */
export function verifyBlockProposer(priorities: ProposerPriorityState, header: Pick<BlockHeader, 'proposer' | 'round'>, currentRound?: number): void {
  if (header.round > MAX_BLOCK_ROUND) throw new BftError('BAD_PARAMS', `block round ${header.round} is above ${MAX_BLOCK_ROUND}`, { field: 'round', got: header.round })
  if (currentRound !== undefined && header.round > currentRound) {
    throw new BftError('BAD_VALID_ROUND', `block built for round ${header.round} is proposed in round ${currentRound}`, { got: header.round, round: currentRound })
  }
  const expected = computeRoundProposer(priorities, header.round)
  if (!equalBytes(expected, header.proposer)) {
    throw new BftError('WRONG_PROPOSER', `block is signed by ${toHex(header.proposer)}, not by the proposer of round ${header.round}`, { round: header.round, got: toHex(header.proposer), expected: toHex(expected) })
  }
}
