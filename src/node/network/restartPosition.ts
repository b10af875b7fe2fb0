import type { Hash } from '../../../blocks/schema.ts'
import { type ConsensusMessage, type SignedVote, signVote } from '../../../consensus/bft/messages.ts'
import type { KeyPair } from '../../crypto/index.ts'
import { positionOf, SIGN_STEP, type SignedPosition } from '../signGuard.ts'

/**
 * What a restarted validator knows of a height from its sign guard on disk (the machine remembers
 * nothing): the position it signed up to, and the hash of the last message it signed.
 */

/**
 * HeightContext.signedUpTo for `height`: the guard's position when it signed at this height (the
 * whole height when it is past it), else nothing. Without it the machine signs a fresh proposal
 * and prevote there, the guard refuses both, and the machine waits for a quorum that counts votes
 * that never left (a halted chain when the rest cannot commit without us).
 */
export function computeSignedUpTo(last: SignedPosition | undefined, height: number): { signedUpTo?: { round: number; step: number } } {
  if (last === undefined || last.height < height) return {}
  return { signedUpTo: last.height > height ? { round: Number.MAX_SAFE_INTEGER, step: SIGN_STEP.precommit } : { round: last.round, step: last.step } }
}

/** The guard's last position when it is a vote at `height`: a vote that may never have left before the restart. */
export function lostVoteAt(last: SignedPosition | undefined, height: number): SignedPosition | undefined {
  return last !== undefined && last.height === height && last.step !== SIGN_STEP.propose ? last : undefined
}

/**
 * The lost vote if it named `candidate` (undefined = nil): a vote's signature is deterministic, so
 * re-signing the same body gives the same bytes, whose hash the guard kept. The guard lets that
 * very message out again.
 */
export function recoverLostVote(lost: SignedPosition, candidate: Hash | undefined, key: KeyPair, chainId: string): SignedVote | undefined {
  const step = lost.step === SIGN_STEP.prevote ? SIGN_STEP.prevote : SIGN_STEP.precommit
  const vote = signVote({ chainId, step, height: lost.height, round: lost.round, blockId: candidate, validator: key.publicKey }, key.secretKey)
  const message: ConsensusMessage = { type: 'vote', vote }
  return positionOf(message)?.signedHash === lost.signedHash ? vote : undefined
}
