import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import { CodecError, } from '../../../../blocks/errors.ts'
import {
  Commit,
  ConsensusMessage,
  isProposalSignatureValid,
  isVoteSignatureValid,
  proposalSigningHash,
  SignedProposal,
  SignedVote,
  signProposal,
  signVote,
  VOTE_STEP,
  voteSigningHash,
} from '../../../../consensus/bft/index.ts'
import { verify } from '../../../../src/crypto/index.ts'
import { blockId, CHAIN, KEYS } from './harness.ts'

const vote = signVote({ chainId: CHAIN, step: VOTE_STEP.precommit, height: 9, round: 2, blockId: blockId('A'), validator: KEYS[0]!.publicKey }, KEYS[0]!.secretKey)
const nilVote = signVote({ chainId: CHAIN, step: VOTE_STEP.prevote, height: 9, round: 2, blockId: undefined, validator: KEYS[0]!.publicKey }, KEYS[0]!.secretKey)
const proposal = signProposal({ chainId: CHAIN, height: 9, round: 2, blockId: blockId('A'), validRound: -1, proposer: KEYS[1]!.publicKey }, KEYS[1]!.secretKey)

describe('BFT message codecs and signatures', () => {
  it('round-trips votes (nil too), proposals, commits and the gossip union canonically', () => {
    for (const v of [vote, nilVote]) expect(encode(SignedVote, decode(SignedVote, encode(SignedVote, v)))).toEqual(encode(SignedVote, v))
    expect(decode(SignedProposal, encode(SignedProposal, proposal)).body.validRound).toBe(-1)
    const commit = { chainId: CHAIN, height: 9, round: 2, blockId: blockId('A'), signatures: [{ validator: vote.body.validator, signature: vote.signature }] }
    expect(decode(Commit, encode(Commit, commit))).toEqual(commit)
    const msg = { type: 'vote' as const, vote }
    expect(encode(ConsensusMessage, decode(ConsensusMessage, encode(ConsensusMessage, msg)))).toEqual(encode(ConsensusMessage, msg))
  })

  it('rejects trailing bytes and a non-canonical form', () => {
    const bytes = encode(SignedVote, vote)
    expect(() => decode(SignedVote, new Uint8Array([...bytes, 0]))).toThrow(CodecError)
    expect(() => decode(SignedProposal, encode(SignedVote, vote))).toThrow(CodecError)
  })

  it('signatures verify, and a vote signature never passes as a proposal signature (domain separation)', () => {
    expect(isVoteSignatureValid(vote)).toBe(true)
    expect(isProposalSignatureValid(proposal)).toBe(true)
    expect(verify(KEYS[0]!.publicKey, proposalSigningHash({ ...proposal.body, proposer: KEYS[0]!.publicKey }), vote.signature)).toBe(false)
    expect(voteSigningHash(vote.body)).not.toEqual(voteSigningHash(nilVote.body))
    expect(isVoteSignatureValid({ body: { ...vote.body, round: 3 }, signature: vote.signature })).toBe(false)
  })
})
