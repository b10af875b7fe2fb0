import type { Address } from '../blocks/schema.ts'
import { equalBytes, toHex } from '../src/crypto/index.ts'
import { BftError } from './bft/errors.ts'
import {
  compareSignedProposals,
  compareSignedVotes,
  type Evidence,
  isProposalSignatureValid,
  isVoteSignatureValid,
  type SignedProposal,
  type SignedVote,
} from './bft/messages.ts'
import type { ValidatorSet } from './validatorSet.ts'

/**
 * Accountability: two signed messages of one validator that no honest validator signs together
 * (two votes at one height/round/step for different blocks, nil counting as a block as in
 * CometBFT; or two different proposals for one height/round) prove misbehaviour by themselves.
 * Anyone can check the proof with the validator set of the offence's height alone.
 */

function sameVoteSlot(a: SignedVote, b: SignedVote): boolean {
  const x = a.body
  const y = b.body
  return x.chainId === y.chainId && x.height === y.height && x.round === y.round && x.step === y.step && equalBytes(x.validator, y.validator)
}

function sameBlock(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b)
}

function conflictingProposals(a: SignedProposal, b: SignedProposal): boolean {
  const x = a.body
  const y = b.body
  const sameSlot = x.chainId === y.chainId && x.height === y.height && x.round === y.round && equalBytes(x.proposer, y.proposer)
  return sameSlot && (!equalBytes(x.blockId, y.blockId) || x.validRound !== y.validRound)
}

/** Evidence if the two messages equivocate, in its canonical order; undefined otherwise. */
export function detectEquivocation(a: SignedVote, b: SignedVote): Evidence | undefined
export function detectEquivocation(a: SignedProposal, b: SignedProposal): Evidence | undefined
export function detectEquivocation(a: SignedVote | SignedProposal, b: SignedVote | SignedProposal): Evidence | undefined {
  if ('validator' in a.body && 'validator' in b.body) {
    const x = a as SignedVote
    const y = b as SignedVote
    if (!sameVoteSlot(x, y) || sameBlock(x.body.blockId, y.body.blockId)) return undefined
    const [first, second] = compareSignedVotes(x, y) < 0 ? [x, y] : [y, x]
    return { type: 'duplicateVote', first, second }
  }
  if ('proposer' in a.body && 'proposer' in b.body) {
    const x = a as SignedProposal
    const y = b as SignedProposal
    if (!conflictingProposals(x, y)) return undefined
    const [first, second] = compareSignedProposals(x, y) < 0 ? [x, y] : [y, x]
    return { type: 'duplicateProposal', first, second }
  }
  return undefined
}

export interface EvidenceContext {
  chainId: string
  /** The validator set at the evidence's height (the offender must have had stake then). */
  validatorsAtHeight: ValidatorSet
  /** Height of the block that would include the evidence. */
  currentHeight: number
  /** The unbonding period in heights: older evidence is refused (its stake may be gone). */
  maxAgeHeights: number
}

export interface VerifiedEvidence {
  offender: Address
  height: number
}

export function evidenceHeight(evidence: Evidence): number {
  return evidence.first.body.height
}

export function evidenceOffender(evidence: Evidence): Address {
  return evidence.type === 'duplicateVote' ? evidence.first.body.validator : evidence.first.body.proposer
}

/**
 * Checks evidence, cheapest first: shape (same slot, conflicting, canonical order), chain, age,
 * offender staked at that height, then both signatures. Throws BftError: NOT_EQUIVOCATION,
 * WRONG_CHAIN, EVIDENCE_FROM_FUTURE, EVIDENCE_EXPIRED, NOT_VALIDATOR, BAD_SIGNATURE.
 */
export function verifyEvidence(evidence: Evidence, ctx: EvidenceContext): VerifiedEvidence {
  let ordered: boolean
  if (evidence.type === 'duplicateVote') {
    const { first, second } = evidence
    if (!sameVoteSlot(first, second) || sameBlock(first.body.blockId, second.body.blockId)) {
      throw new BftError('NOT_EQUIVOCATION', 'the two votes are not for different blocks at one height/round/step by one validator')
    }
    ordered = compareSignedVotes(first, second) < 0
  } else {
    if (!conflictingProposals(evidence.first, evidence.second)) {
      throw new BftError('NOT_EQUIVOCATION', 'the two proposals are not different proposals for one height/round by one proposer')
    }
    ordered = compareSignedProposals(evidence.first, evidence.second) < 0
  }
  if (!ordered) throw new BftError('NOT_EQUIVOCATION', 'evidence messages are not in canonical order')
  const body = evidence.first.body
  if (body.chainId !== ctx.chainId) throw new BftError('WRONG_CHAIN', 'evidence is for another chain', { got: body.chainId, expected: ctx.chainId })
  const height = body.height
  if (height > ctx.currentHeight) throw new BftError('EVIDENCE_FROM_FUTURE', 'evidence from a height not reached yet', { height, currentHeight: ctx.currentHeight })
  if (ctx.currentHeight - height > ctx.maxAgeHeights) {
    throw new BftError('EVIDENCE_EXPIRED', 'evidence older than the unbonding period', { height, currentHeight: ctx.currentHeight, maxAgeHeights: ctx.maxAgeHeights })
  }
  const offender = evidenceOffender(evidence)
  const stake = ctx.validatorsAtHeight.byAddress.get(toHex(offender))
  if (stake === undefined || stake === 0n) throw new BftError('NOT_VALIDATOR', 'offender had no stake at that height', { validator: toHex(offender), height })
  const signed = evidence.type === 'duplicateVote'
    ? isVoteSignatureValid(evidence.first) && isVoteSignatureValid(evidence.second)
    : isProposalSignatureValid(evidence.first) && isProposalSignatureValid(evidence.second)
  if (!signed) throw new BftError('BAD_SIGNATURE', 'an evidence message is not signed by the offender', { validator: toHex(offender) })
  return { offender, height }
}
