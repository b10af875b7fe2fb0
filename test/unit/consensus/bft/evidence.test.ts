import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import {
  applySlashing,
  beginUnbonding,
  BftError,
  createStakeLedger,
  detectEquivocation,
  Evidence,
  isSlashed,
  signProposal,
  signVote,
  type SlashingParams,
  verifyEvidence,
  VOTE_STEP,
} from '../../../../consensus/bft/index.ts'
import { computeValidatorSet } from '../../../../consensus/validatorSet.ts'
import { hash, keyPairFromSecret, toHex, u32be } from '../../../../src/crypto/index.ts'
import { errorCodeOf } from '../../../support/errorCode.ts'
import { blockId, CHAIN, KEYS } from './harness.ts'

const VALIDATORS = KEYS.map((k, i) => ({ address: k.publicKey, stake: BigInt(1000 * (i + 1)) }))
const SET = computeValidatorSet(VALIDATORS)
const PARAMS: SlashingParams = { slashShareBps: 2_500, unbondingHeights: 100 }
const ctx = (currentHeight = 10) => ({ chainId: CHAIN, validatorsAtHeight: SET, currentHeight, maxAgeHeights: PARAMS.unbondingHeights })

function vote(i: number, id: Uint8Array | undefined, over: { height?: number; round?: number; step?: number } = {}) {
  return signVote({ chainId: CHAIN, step: over.step ?? VOTE_STEP.prevote, height: over.height ?? 5, round: over.round ?? 0, blockId: id, validator: KEYS[i]!.publicKey }, KEYS[i]!.secretKey)
}
function proposal(i: number, id: Uint8Array, validRound = -1) {
  return signProposal({ chainId: CHAIN, height: 5, round: 2, blockId: id, validRound, proposer: KEYS[i]!.publicKey }, KEYS[i]!.secretKey)
}
describe('detectEquivocation / verifyEvidence', () => {
  it('two votes of one validator for different blocks (nil included) at one height/round/step are evidence, in one canonical order', () => {
    const a = vote(1, blockId('A'))
    const b = vote(1, blockId('B'))
    const ev = detectEquivocation(a, b)!
    expect(ev.type).toBe('duplicateVote')
    expect(encode(Evidence, detectEquivocation(b, a)!)).toEqual(encode(Evidence, ev))
    expect(verifyEvidence(ev, ctx())).toMatchObject({ height: 5 })
    expect(toHex(verifyEvidence(ev, ctx()).offender)).toBe(toHex(KEYS[1]!.publicKey))
    expect(detectEquivocation(vote(2, blockId('A')), vote(2, undefined))?.type).toBe('duplicateVote')
    // Round trip through the wire form.
    expect(verifyEvidence(decode(Evidence, encode(Evidence, ev)), ctx()).height).toBe(5)
  })

  it('two different proposals for one height/round by one proposer are evidence', () => {
    const ev = detectEquivocation(proposal(0, blockId('A')), proposal(0, blockId('B')))!
    expect(ev.type).toBe('duplicateProposal')
    expect(verifyEvidence(ev, ctx()).height).toBe(5)
    expect(detectEquivocation(proposal(0, blockId('A'), -1), proposal(0, blockId('A'), 1))?.type).toBe('duplicateProposal')
  })

  it('is not evidence: the same vote twice, different rounds, steps or heights, different validators, the same proposal', () => {
    const a = vote(1, blockId('A'))
    expect(detectEquivocation(a, vote(1, blockId('A')))).toBeUndefined()
    expect(detectEquivocation(a, vote(1, blockId('B'), { round: 1 }))).toBeUndefined()
    expect(detectEquivocation(a, vote(1, blockId('B'), { step: VOTE_STEP.precommit }))).toBeUndefined()
    expect(detectEquivocation(a, vote(1, blockId('B'), { height: 6 }))).toBeUndefined()
    expect(detectEquivocation(a, vote(2, blockId('B')))).toBeUndefined()
    expect(detectEquivocation(proposal(0, blockId('A')), proposal(0, blockId('A')))).toBeUndefined()
  })

  it('refuses forged and invalid evidence with a typed error', () => {
    const a = vote(1, blockId('A'))
    const b = vote(1, blockId('B'))
    const ev = detectEquivocation(a, b)!
    if (ev.type !== 'duplicateVote') throw new Error('unreachable')
    // A vote "by 1" signed by 2: the framing of an honest validator.
    const framed = { ...vote(2, blockId('C')), body: { ...vote(1, blockId('C')).body } }
    const forged = detectEquivocation(a, framed)!
    expect(errorCodeOf(BftError, () => verifyEvidence(forged, ctx()))).toBe('BAD_SIGNATURE')
    expect(errorCodeOf(BftError, () => verifyEvidence({ type: 'duplicateVote', first: ev.second, second: ev.first }, ctx()))).toBe('NOT_EQUIVOCATION')
    expect(errorCodeOf(BftError, () => verifyEvidence({ type: 'duplicateVote', first: a, second: a }, ctx()))).toBe('NOT_EQUIVOCATION')
    const other = vote(1, blockId('B'), { round: 3 })
    expect(errorCodeOf(BftError, () => verifyEvidence({ type: 'duplicateVote', first: a, second: other }, ctx()))).toBe('NOT_EQUIVOCATION')
    expect(errorCodeOf(BftError, () => verifyEvidence(ev, { ...ctx(), chainId: 'xsc-other' }))).toBe('WRONG_CHAIN')
    expect(errorCodeOf(BftError, () => verifyEvidence(ev, ctx(4)))).toBe('EVIDENCE_FROM_FUTURE')
    expect(errorCodeOf(BftError, () => verifyEvidence(ev, ctx(5 + PARAMS.unbondingHeights + 1)))).toBe('EVIDENCE_EXPIRED')
    expect(verifyEvidence(ev, ctx(5 + PARAMS.unbondingHeights)).height).toBe(5)
    const stranger = keyPairFromSecret(hash(u32be(77)))
    const s1 = signVote({ ...a.body, validator: stranger.publicKey }, stranger.secretKey)
    const s2 = signVote({ ...b.body, validator: stranger.publicKey }, stranger.secretKey)
    expect(errorCodeOf(BftError, () => verifyEvidence(detectEquivocation(s1, s2)!, ctx()))).toBe('NOT_VALIDATOR')
  })
})

describe('applySlashing', () => {
  const ledger = createStakeLedger(VALIDATORS)
  const ev = detectEquivocation(vote(1, blockId('A')), vote(1, blockId('B')))!
  const sctx = (currentHeight = 10) => ({ chainId: CHAIN, params: PARAMS, currentHeight, validatorsAtHeight: SET })

  it('burns the share, removes the validator, moves the rest to unbonding, and tombstones it', () => {
    const r = applySlashing(ledger, ev, sctx())
    expect(r.burned).toBe(500n) // 25% of 2000
    expect(r.ledger.validators.some((v) => toHex(v.address) === toHex(KEYS[1]!.publicKey))).toBe(false)
    expect(r.ledger.validators).toHaveLength(3)
    expect(r.ledger.unbonding).toEqual([{ address: KEYS[1]!.publicKey, amount: 1500n, startHeight: 10, releaseHeight: 110 }])
    expect(isSlashed(r.ledger, KEYS[1]!.publicKey)).toBe(true)
    expect(ledger.validators).toHaveLength(4) // the input value is untouched
  })

  it('slashes exactly once: the same evidence again, or evidence of another offence, is refused', () => {
    const once = applySlashing(ledger, ev, sctx()).ledger
    expect(errorCodeOf(BftError, () => applySlashing(once, ev, sctx(11)))).toBe('ALREADY_SLASHED')
    const another = detectEquivocation(proposal(1, blockId('P')), proposal(1, blockId('Q')))!
    expect(errorCodeOf(BftError, () => applySlashing(once, another, sctx(11)))).toBe('ALREADY_SLASHED')
    expect(once.slashed).toHaveLength(1)
  })

  it('still burns stake that started unbonding after the offence, and refuses evidence older than the unbonding period', () => {
    const unbonded = beginUnbonding(ledger, KEYS[1]!.publicKey, 2000n, 6, PARAMS)
    expect(unbonded.validators).toHaveLength(3)
    const r = applySlashing(unbonded, ev, sctx(20))
    expect(r.burned).toBe(500n)
    expect(r.ledger.unbonding).toEqual([{ address: KEYS[1]!.publicKey, amount: 1500n, startHeight: 6, releaseHeight: 106 }])
    expect(errorCodeOf(BftError, () => applySlashing(ledger, ev, sctx(5 + PARAMS.unbondingHeights + 1)))).toBe('EVIDENCE_EXPIRED')
  })

  it('refuses forged evidence and leaves the ledger as it was', () => {
    const framed = { ...vote(2, blockId('C')), body: { ...vote(3, blockId('C')).body } }
    const forged = detectEquivocation(vote(3, blockId('A')), framed)!
    expect(errorCodeOf(BftError, () => applySlashing(ledger, forged, sctx()))).toBe('BAD_SIGNATURE')
    expect(ledger.slashed).toHaveLength(0)
    expect(errorCodeOf(BftError, () => applySlashing(ledger, ev, { ...sctx(), params: { slashShareBps: 10_001, unbondingHeights: 1 } }))).toBe('BAD_PARAMS')
  })
})
