import { toHex } from '../../src/crypto/index.ts'
import type { ConsensusMessage, SignedProposal, SignedVote } from './messages.ts'
import type { RoundState } from './voteTally.ts'

/** What a machine signed this height: its proposal (if it proposed) and its votes. */
export interface OwnSigned { proposal: SignedProposal | undefined; votes: readonly SignedVote[] }

/**
 * What a validator would re-send so that peers that lost messages catch up (the gossip layer
 * calls it periodically): its own proposal and votes of the current round, and with a
 * re-proposed value, the prevotes that form its proof of lock (line 28 needs them).
 */
export function computeGossipSnapshot(own: OwnSigned, rounds: ReadonlyMap<number, RoundState>, round: number): ConsensusMessage[] {
  const out: ConsensusMessage[] = []
  const proposal = own.proposal
  if (proposal !== undefined && proposal.body.round === round) {
    out.push({ type: 'proposal', proposal })
    if (proposal.body.validRound >= 0) {
      const pol = rounds.get(proposal.body.validRound)?.prevotes.byValue.get(toHex(proposal.body.blockId))
      for (const v of pol?.votes.values() ?? []) out.push({ type: 'vote', vote: v })
    }
  }
  for (const v of own.votes) if (v.body.round === round) out.push({ type: 'vote', vote: v })
  return out
}

/**
 * Every validator's vote (its first of each step) of `round`: for a peer that restarted, whose
 * own votes of this round only its peers still hold (without them it may wait forever for a
 * quorum that counts it), and for one that lost messages.
 */
export function computeHeldVotes(rounds: ReadonlyMap<number, RoundState>, round: number): SignedVote[] {
  const rs = rounds.get(round)
  return rs === undefined ? [] : [...rs.prevotes.first.values(), ...rs.precommits.first.values()]
}

/**
 * Our own signed messages of an earlier round of this height, for a peer still in that round:
 * without them a peer whose copies were lost could wait forever for a quorum that the rest of
 * us already left behind (the gossip layer answers a peer's old-round message with this).
 */
export function computeOwnMessagesForRound(own: OwnSigned, round: number): ConsensusMessage[] {
  const out: ConsensusMessage[] = []
  if (own.proposal !== undefined && own.proposal.body.round === round) out.push({ type: 'proposal', proposal: own.proposal })
  for (const v of own.votes) if (v.body.round === round) out.push({ type: 'vote', vote: v })
  return out
}
