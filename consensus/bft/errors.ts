import { type GossipVerdict, type Mismatch, XscError } from '../../blocks/errors.ts'

/**
 * Every failure of the BFT layer (votes, proposals, commits, evidence, slashing, beacon,
 * proposer priority). All codes are facts about the bytes, the same on every honest node
 * (gossip REJECT), except EVIDENCE_FROM_FUTURE, EVIDENCE_EXPIRED and ALREADY_SLASHED, which depend
 * on the chain position of the receiver (gossip IGNORE: an honest peer may be a few heights behind).
 */
export type BftErrorPayloads = {
  WRONG_CHAIN: Mismatch<string>
  NOT_VALIDATOR: { validator: string; height?: number }
  BAD_SIGNATURE: { validator: string } | { proposer: string }
  BAD_STEP: { got: number }
  BAD_VALID_ROUND: { got: number; round: number }
  WRONG_PROPOSER: Mismatch<string> & { round: number }
  /** Stake that signed and the total, as decimal strings. */
  NO_QUORUM: { got: string; total: string }
  DUPLICATE_SIGNER: { validator: string }
  COMMIT_MISMATCH: Mismatch<number> | Mismatch<string>
  NOT_EQUIVOCATION: {}
  EVIDENCE_FROM_FUTURE: { height: number; currentHeight: number }
  EVIDENCE_EXPIRED: { height: number; currentHeight: number; maxAgeHeights: number }
  ALREADY_SLASHED: { validator: string }
  /** `got` is the refused value; the other fields give its context. */
  BAD_PARAMS: { field?: string; got?: unknown; current?: number; stake?: string; index?: number; length?: number }
  BAD_REVEAL: { proposer: string }
  UNKNOWN_VALIDATOR: { validator: string } | { proposer: string }
  NO_STAKE: {}
}
export type BftErrorCode = keyof BftErrorPayloads

export class BftError extends XscError<BftErrorPayloads> {
  // Same shape in every domain's errors.ts by design: each domain declares its own verdicts.
  static override readonly verdicts: Record<BftErrorCode, GossipVerdict> = {
    WRONG_CHAIN: 'REJECT', NOT_VALIDATOR: 'REJECT', BAD_SIGNATURE: 'REJECT', BAD_STEP: 'REJECT',
    BAD_VALID_ROUND: 'REJECT', WRONG_PROPOSER: 'REJECT', NO_QUORUM: 'REJECT', DUPLICATE_SIGNER: 'REJECT',
    COMMIT_MISMATCH: 'REJECT', NOT_EQUIVOCATION: 'REJECT', EVIDENCE_FROM_FUTURE: 'IGNORE', EVIDENCE_EXPIRED: 'IGNORE',
    ALREADY_SLASHED: 'IGNORE', BAD_PARAMS: 'REJECT', BAD_REVEAL: 'REJECT', UNKNOWN_VALIDATOR: 'REJECT', NO_STAKE: 'REJECT',
  }
}

/** True for codes that depend on where the receiver's chain is, not on the bytes (gossip IGNORE). */
export function isTransientBftError(error: unknown): boolean {
  return error instanceof BftError && error.verdict === 'IGNORE'
}
