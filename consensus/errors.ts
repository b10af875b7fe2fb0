import { type GossipVerdict, type Mismatch, XscError } from '../blocks/errors.ts'

/** Every consensus payload names the proof scheme that failed (`stake`, `time`, `work`, `space`), or `finality`. */
type Scheme = { scheme: string }

/** Where in a space proof a check failed. */
type SpaceLookup = { lookup?: number; attempt?: number; index?: number }

export type ConsensusErrorPayloads = {
  // configuration and registry
  BAD_CONFIG: { scheme?: string; field?: string; got?: unknown; min?: number; max?: number }
  UNKNOWN_SCHEME: Scheme & { known: string[] }
  // proof list of a header
  MISSING_PROOF: Scheme
  UNKNOWN_PROOF: Scheme & { required: string[] }
  DUPLICATE_PROOF: Scheme
  PROOF_ORDER: Scheme & Mismatch<number>
  MALFORMED_PROOF: Scheme & SpaceLookup & Partial<Mismatch<number>> & { entries?: number }
  BAD_PROOF: Scheme & SpaceLookup & Partial<Mismatch<number>> & { segment?: number; nonce?: string }
  // stake
  NO_STAKE: Scheme
  BAD_VALIDATOR_SET: Scheme & { address: string }
  WRONG_PROPOSER: Scheme & Mismatch<string> & { slot: number }
  BAD_SIGNATURE: Scheme & { proposer: string }
  // time
  WRONG_SLOT: Scheme & Mismatch<number> & { timestamp: bigint }
  SLOT_BEFORE_PARENT: Scheme & { got: number; parentSlot: number }
  TIMESTAMP_DRIFT: Scheme & { got: bigint; max: number }
  // proving (local, never about a foreign block)
  PROVE_FAILED: Scheme & { lookup?: number; workBits?: number; plotKey?: string; proposer?: string; got?: string | number; expected?: string | number }
  BAD_PLOT: Scheme & { got?: number; reason?: string }
  // attestations, finality, fork choice
  NOT_VALIDATOR: Scheme & { validator: string }
  BAD_ATTESTATION_SIGNATURE: Scheme & { validator: string }
  WRONG_CHAIN: Scheme & Mismatch<string>
  UNKNOWN_BLOCK: Scheme & { blockHash: string }
  HEIGHT_MISMATCH: Scheme & Mismatch<number>
  EQUIVOCATION: Scheme & { validator: string; height: number; first: string; second: string }
}
export type ConsensusErrorCode = keyof ConsensusErrorPayloads

/**
 * Every consensus failure. Mismatches carry `{ got, expected }`. Clock skew never produces a
 * ConsensusError: `isFromFuture` is a separate shell-side check.
 */
export class ConsensusError extends XscError<ConsensusErrorPayloads> {
  /**
   * Every code is a fact about the bytes, the same on every honest node (REJECT), except
   * UNKNOWN_BLOCK (the block may still arrive) and EQUIVOCATION: a validator's second vote may be
   * relayed by honest peers that never saw its first, so it is not their fault (as in Ethereum).
   */
  // Same shape in every domain's errors.ts by design: each domain declares its own verdicts.
  static override readonly verdicts: Record<ConsensusErrorCode, GossipVerdict> = {
    BAD_CONFIG: 'REJECT', UNKNOWN_SCHEME: 'REJECT', MISSING_PROOF: 'REJECT', UNKNOWN_PROOF: 'REJECT',
    DUPLICATE_PROOF: 'REJECT', PROOF_ORDER: 'REJECT', MALFORMED_PROOF: 'REJECT', BAD_PROOF: 'REJECT',
    NO_STAKE: 'REJECT', BAD_VALIDATOR_SET: 'REJECT', WRONG_PROPOSER: 'REJECT', BAD_SIGNATURE: 'REJECT',
    WRONG_SLOT: 'REJECT', SLOT_BEFORE_PARENT: 'REJECT', TIMESTAMP_DRIFT: 'REJECT', PROVE_FAILED: 'REJECT',
    BAD_PLOT: 'REJECT', NOT_VALIDATOR: 'REJECT', BAD_ATTESTATION_SIGNATURE: 'REJECT', WRONG_CHAIN: 'REJECT',
    UNKNOWN_BLOCK: 'IGNORE', HEIGHT_MISMATCH: 'REJECT', EQUIVOCATION: 'IGNORE',
  }
}
