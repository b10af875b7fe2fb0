import { XscError } from '../blocks/errors.ts'

/**
 * Every consensus failure. `details.scheme` names the proof scheme that rejected a block
 * (`stake`, `time`, `work`, `space`); attestation and fork-choice errors carry `scheme:
 * 'finality'`. Mismatches carry `{ got, expected }`.
 *
 * Gossip mapping: UNKNOWN_BLOCK is the only transient code (the block may still arrive: IGNORE);
 * every other code is a fact about the bytes and is the same on every honest node (REJECT).
 * Clock skew never produces a ConsensusError: `isFromFuture` is a separate shell-side check.
 */
export type ConsensusErrorCode =
  // configuration and registry
  | 'BAD_CONFIG'
  | 'UNKNOWN_SCHEME'
  // proof list of a header
  | 'MISSING_PROOF'
  | 'UNKNOWN_PROOF'
  | 'DUPLICATE_PROOF'
  | 'PROOF_ORDER'
  | 'MALFORMED_PROOF'
  | 'BAD_PROOF'
  // stake
  | 'NO_STAKE'
  | 'BAD_VALIDATOR_SET'
  | 'WRONG_PROPOSER'
  | 'BAD_SIGNATURE'
  // time
  | 'WRONG_SLOT'
  | 'SLOT_NOT_AFTER_PARENT'
  | 'TIMESTAMP_DRIFT'
  // proving (local, never about a foreign block)
  | 'PROVE_FAILED'
  | 'BAD_PLOT'
  // attestations, finality, fork choice
  | 'NOT_VALIDATOR'
  | 'BAD_ATTESTATION_SIGNATURE'
  | 'WRONG_CHAIN'
  | 'UNKNOWN_BLOCK'
  | 'HEIGHT_MISMATCH'
  | 'EQUIVOCATION'

export class ConsensusError extends XscError<ConsensusErrorCode> {}

/** True for codes that say "not yet", not "never": the caller may retry later (gossip IGNORE). */
export function isTransientConsensusError(error: unknown): boolean {
  return error instanceof ConsensusError && error.code === 'UNKNOWN_BLOCK'
}
