import { XscError } from '../../blocks/errors.ts'

/**
 * Every failure of the BFT layer (votes, proposals, commits, evidence, slashing, beacon,
 * proposer priority). All codes are facts about the bytes, the same on every honest node
 * (gossip REJECT), except EVIDENCE_EXPIRED and ALREADY_SLASHED, which depend on the chain
 * position of the receiver (gossip IGNORE: an honest peer may be a few heights behind).
 */
export type BftErrorCode =
  | 'WRONG_CHAIN'
  | 'NOT_VALIDATOR'
  | 'BAD_SIGNATURE'
  | 'BAD_STEP'
  | 'BAD_VALID_ROUND'
  | 'WRONG_PROPOSER'
  | 'NO_QUORUM'
  | 'DUPLICATE_SIGNER'
  | 'COMMIT_MISMATCH'
  | 'NOT_EQUIVOCATION'
  | 'EVIDENCE_FROM_FUTURE'
  | 'EVIDENCE_EXPIRED'
  | 'ALREADY_SLASHED'
  | 'BAD_PARAMS'
  | 'BAD_REVEAL'
  | 'UNKNOWN_VALIDATOR'
  | 'NO_STAKE'

export class BftError extends XscError<BftErrorCode> {}

/** True for codes that depend on where the receiver's chain is, not on the bytes (gossip IGNORE). */
export function isTransientBftError(error: unknown): boolean {
  return error instanceof BftError && (error.code === 'EVIDENCE_EXPIRED' || error.code === 'ALREADY_SLASHED' || error.code === 'EVIDENCE_FROM_FUTURE')
}
