import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import { CodecError, } from '../../../../blocks/errors.ts'
import {
  Commit,
  ConsensusMessage,
  decodeConsensusMessage,
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
import { sign, verify } from '../../../../src/crypto/index.ts'
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

  it('decodeConsensusMessage decodes as decode does and refuses every non-canonical spelling of a vote or proposal', () => {
    const body = { chainId: CHAIN, step: VOTE_STEP.prevote, height: 123_456, round: 0, blockId: blockId('B'), validator: KEYS[2]!.publicKey }
    // Signed directly: signVote remembers its own verdicts, and the check below must run.
    const wide = { body, signature: sign(KEYS[2]!.secretKey, voteSigningHash({ ...body })) }
    const commit = { chainId: CHAIN, height: 9, round: 2, blockId: blockId('A'), signatures: [{ validator: vote.body.validator, signature: vote.signature }] }
    const messages: ConsensusMessage[] = [{ type: 'vote', vote }, { type: 'vote', vote: nilVote }, { type: 'vote', vote: wide }, { type: 'proposal', proposal }, { type: 'commit', commit }]
    for (const m of messages) expect(decodeConsensusMessage(encode(ConsensusMessage, m))).toEqual(decode(ConsensusMessage, encode(ConsensusMessage, m)))
    const decoded = decodeConsensusMessage(encode(ConsensusMessage, { type: 'vote', vote: wide }))
    expect(decoded.type === 'vote' && isVoteSignatureValid(decoded.vote)).toBe(true)
    const forged = decodeConsensusMessage(encode(ConsensusMessage, { type: 'vote', vote: { body: { ...body, round: 1 }, signature: wide.signature } }))
    expect(forged.type === 'vote' && isVoteSignatureValid(forged.vote)).toBe(false)

    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
    const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))
    const canonical = hex(encode(ConsensusMessage, { type: 'vote', vote: wide }))
    const chain = Buffer.from(CHAIN).toString('hex')
    expect(canonical.startsWith('9201929701')).toBe(true)
    const spellings = [
      canonical.replace('ce0001e240', 'd20001e240'), // height as int32: same length, other bytes
      canonical.replace('ce0001e24000', 'ce0001e240cc00'), // round 0 as uint8
      canonical.replace(`${(0xa0 + CHAIN.length).toString(16)}${chain}`, `d9${CHAIN.length.toString(16).padStart(2, '0')}${chain}`), // chain id as str8
      canonical.replace(/c440([0-9a-f]{128})$/, 'c50040$1'), // signature as bin16
      `dc0002${canonical.slice(2)}`, // outer array as array16
    ]
    for (const h of spellings) {
      expect(h).not.toBe(canonical)
      expect(() => decode(ConsensusMessage, bytes(h))).toThrow(CodecError)
      expect(() => decodeConsensusMessage(bytes(h))).toThrow(expect.objectContaining({ code: 'NON_CANONICAL' }))
    }
    expect(() => decodeConsensusMessage(bytes(`${canonical}00`))).toThrow(expect.objectContaining({ code: 'TRAILING_BYTES' }))
    const p = hex(encode(ConsensusMessage, { type: 'proposal', proposal }))
    const validRound = p.replace(/ffc420([0-9a-f]{64})c440[0-9a-f]{128}$/, 'd0ffc420$1') // −1 as int8
    expect(() => decodeConsensusMessage(bytes(validRound + p.slice(-132)))).toThrow(expect.objectContaining({ code: 'NON_CANONICAL' }))
  })
})
