import { bytes, bytes32, bytes64, type Codec, decodeCheckedBy, encode, i32, type Infer, list, optional, str, struct, u8, u32, union, versioned } from '../../blocks/codec.ts'
import { PROTOCOL_VERSION } from '../../blocks/protocolVersion.ts'
import type { Address, Hash } from '../../blocks/schema.ts'
import { bytesKey, compareBytes, equalBytes, hashParts, keyPairFromSecret, sign, utf8, verify } from '../../src/crypto/index.ts'

/**
 * Wire types of the BFT protocol (Tendermint family: propose → prevote → precommit), built with
 * the blocks/codec.ts combinators so each value has exactly one byte form. Signatures cover
 * hash(domain || canonical bytes), with a domain per type, so a vote can never pass as a
 * proposal or as anything else the project signs.
 *
 * Union tags and step numbers are protocol constants: never renumber or reuse one.
 */

/** The two vote steps. The propose step has no vote: proposals are their own message. */
export const VOTE_STEP = { prevote: 1, precommit: 2 } as const
export type VoteStep = (typeof VOTE_STEP)[keyof typeof VOTE_STEP]

/** Upper bound on signatures in a commit (and validators in a set the codec can carry). */
export const MAX_COMMIT_SIGNATURES = 16_384

const chainId = str(64, /^[a-z0-9][a-z0-9-]*$/)

/** A signed message's versioned body (`<name>Body`) and its signed form (`Signed<name>`). */
function signedMessage<T extends object>(name: string, fields: { [K in keyof T]: Codec<T[K]> }): { body: Codec<T>; signed: Codec<{ body: T; signature: Uint8Array }> } {
  const body = versioned(`${name}Body`, PROTOCOL_VERSION, struct(`${name}Fields`, fields))
  return { body, signed: struct(`Signed${name}`, { body, signature: bytes64 }) }
}

const vote = signedMessage('Vote', {
  chainId,
  step: u8,
  height: u32,
  round: u32,
  /** undefined is a vote for nil (no block this round). */
  blockId: optional(bytes32),
  validator: bytes32,
})
export const VoteBody = vote.body
export type VoteBody = Infer<typeof VoteBody>
export const SignedVote = vote.signed
export type SignedVote = Infer<typeof SignedVote>

const proposal = signedMessage('Proposal', {
  chainId,
  height: u32,
  round: u32,
  blockId: bytes32,
  /** The round of the proof of lock this value carries, or −1 for a fresh value. */
  validRound: i32,
  proposer: bytes32,
})
export const ProposalBody = proposal.body
export type ProposalBody = Infer<typeof ProposalBody>
export const SignedProposal = proposal.signed
export type SignedProposal = Infer<typeof SignedProposal>

// BFT messages are wire types of their own, shaped like blocks/schema.ts's Attestation but not it:
// the attestation path is deleted when the node is wired to BFT.
/** One precommit inside a commit: the vote body is implied by the commit's fields. */
export const CommitSignature = struct('CommitSignature', { validator: bytes32, signature: bytes64 })
export type CommitSignature = Infer<typeof CommitSignature>

/**
 * Proof that a block is final: precommits for `blockId` at (height, round) from validators with
 * more than 2/3 of the stake, sorted by validator address (one canonical form).
 */
export const Commit = versioned('Commit', PROTOCOL_VERSION, struct('CommitFields', {
  chainId,
  height: u32,
  round: u32,
  blockId: bytes32,
  signatures: list(CommitSignature, MAX_COMMIT_SIGNATURES),
}))
export type Commit = Infer<typeof Commit>

/**
 * Two signed messages of one validator that no honest validator would sign together. The two
 * are ordered by their canonical bytes (`first` < `second`), so one equivocation has one
 * evidence form and cannot be counted twice under two spellings.
 */
export type Evidence =
  | { type: 'duplicateVote'; first: SignedVote; second: SignedVote }
  | { type: 'duplicateProposal'; first: SignedProposal; second: SignedProposal }
export const Evidence: Codec<Evidence> = union('Evidence', {
  duplicateVote: { tag: 0, codec: struct('DuplicateVote', { first: SignedVote, second: SignedVote }) },
  duplicateProposal: { tag: 1, codec: struct('DuplicateProposal', { first: SignedProposal, second: SignedProposal }) },
})

/**
 * Everything the consensus gossip carries. Tag 3 (evidence) is retired: evidence travels on its
 * own topic as an `Offence` (blocks/schema.ts), one path whoever found it.
 */
export type ConsensusMessage =
  | { type: 'proposal'; proposal: SignedProposal }
  | { type: 'vote'; vote: SignedVote }
  | { type: 'commit'; commit: Commit }
export const ConsensusMessage: Codec<ConsensusMessage> = union('ConsensusMessage', {
  proposal: { tag: 0, codec: struct('ProposalMessage', { proposal: SignedProposal }) },
  vote: { tag: 1, codec: struct('VoteMessage', { vote: SignedVote }) },
  commit: { tag: 2, codec: struct('CommitMessage', { commit: Commit }) },
})

const DOMAIN = {
  vote: utf8('XSC/bft-vote/v1'),
  proposal: utf8('XSC/bft-proposal/v1'),
}

// Bodies are values (never mutated once built or decoded): memoize their signing hashes, and
// the verdict of a signature check on a signed object, as blocks/ids.ts does for txs. A vote
// relayed by many peers is then hashed and verified once per process.
const verified = new WeakMap<object, boolean>()

/** The value cached for `key`, computed once. */
function memoized<K extends object, V>(cache: WeakMap<K, V>, key: K, compute: () => V): V {
  let value = cache.get(key)
  if (value === undefined) {
    value = compute()
    cache.set(key, value)
  }
  return value
}

/** Canonical bytes of bodies decodeConsensusMessage proved in place: their signing hash needs no second encode. */
const bodyBytes = new WeakMap<object, Uint8Array>()

/** hash(domain || canonical bytes) of a body, memoized per body object. */
function signingHasher<B extends object>(domain: Uint8Array, codec: Codec<B>): (body: B) => Hash {
  const hashes = new WeakMap<B, Hash>()
  return (body) => memoized(hashes, body, () => hashParts(domain, bodyBytes.get(body) ?? encode(codec, body)))
}

/**
 * `decode(ConsensusMessage, bytes)` with the same refusals, cheaper for proposals and votes (most
 * of what links carry): their layout is fixed around one variable part, `[tag, [body, signature]]`
 * = `92 tag 92 <body> c4 40 <64 bytes>`, so only the body is re-encoded and compared in place (its
 * bytes then serve the signing hash) instead of the whole message. Anything else, or a body that
 * does not match, takes the whole re-encode, which refuses non-canonical bytes (NON_CANONICAL).
 */
export function decodeConsensusMessage(bytes: Uint8Array): ConsensusMessage {
  return decodeCheckedBy(ConsensusMessage, bytes, (m, b) => (m.type === 'vote' ? isBodyInPlace(VoteBody, m.vote.body, 1, b) : m.type === 'proposal' && isBodyInPlace(ProposalBody, m.proposal.body, 0, b)))
}

function isBodyInPlace<B extends object>(codec: Codec<B>, body: B, tag: number, b: Uint8Array): boolean {
  const end = b.length - 66
  if (end <= 3 || b[0] !== 0x92 || b[1] !== tag || b[2] !== 0x92 || b[end] !== 0xc4 || b[end + 1] !== 0x40) return false
  const encoded = encode(codec, body)
  if (encoded.length !== end - 3 || !equalBytes(encoded, b.subarray(3, end))) return false
  bodyBytes.set(body, encoded)
  return true
}

// The same vote reaches a node several times as different objects (gossip, relays, inside a
// commit): remember verdicts by (key, message hash, signature) bytes, which is sound whatever
// object carries them. Bounded: cleared when full.
const MAX_VERDICTS = 65_536
const verdicts = new Map<string, boolean>()

function verdictId(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string {
  return bytesKey(publicKey) + bytesKey(message) + bytesKey(signature)
}

function rememberVerdict(id: string, ok: boolean): void {
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
  verdicts.set(id, ok)
}

/** src/crypto `verify`, memoized on the exact bytes. */
export function verifyCached(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const id = verdictId(publicKey, message, signature)
  let ok = verdicts.get(id)
  if (ok === undefined) {
    ok = verify(publicKey, message, signature)
    rememberVerdict(id, ok)
  }
  return ok
}

export const voteSigningHash: (body: VoteBody) => Hash = signingHasher(DOMAIN.vote, VoteBody)
export const proposalSigningHash: (body: ProposalBody) => Hash = signingHasher(DOMAIN.proposal, ProposalBody)

/**
 * A signature this process just made with the key of `publicKey` is valid: its verdict is
 * remembered, so our own precommit inside a commit (verifyCommit) is not verified again. Only when
 * the key really is the named signer's (a caller naming someone else gets no verdict).
 */
function rememberOwnSignature(secretKey: Uint8Array, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
  if (equalBytes(keyPairFromSecret(secretKey).publicKey, publicKey)) rememberVerdict(verdictId(publicKey, message, signature), true)
}

export function signVote(body: VoteBody, secretKey: Uint8Array): SignedVote {
  const message = voteSigningHash(body)
  const signature = sign(secretKey, message)
  rememberOwnSignature(secretKey, body.validator, message, signature)
  return { body, signature }
}

export function signProposal(body: ProposalBody, secretKey: Uint8Array): SignedProposal {
  return { body, signature: sign(secretKey, proposalSigningHash(body)) }
}

/** The vote's signature is its validator's. Never throws. */
export function isVoteSignatureValid(vote: SignedVote): boolean {
  return memoized(verified, vote, () => verifyCached(vote.body.validator, voteSigningHash(vote.body), vote.signature))
}

/** The proposal's signature is its proposer's. Never throws. */
export function isProposalSignatureValid(proposal: SignedProposal): boolean {
  return memoized(verified, proposal, () => verifyCached(proposal.body.proposer, proposalSigningHash(proposal.body), proposal.signature))
}

/** The precommit body a commit signature signs. */
export function commitVoteBody(commit: Commit, validator: Address): VoteBody {
  return { chainId: commit.chainId, step: VOTE_STEP.precommit, height: commit.height, round: commit.round, blockId: commit.blockId, validator }
}

/** Canonical byte order of two signed votes (or proposals), for evidence. */
export function compareSignedVotes(a: SignedVote, b: SignedVote): number {
  return compareBytes(encode(SignedVote, a), encode(SignedVote, b))
}

export function compareSignedProposals(a: SignedProposal, b: SignedProposal): number {
  return compareBytes(encode(SignedProposal, a), encode(SignedProposal, b))
}

/**
 * A block with the commit that made it final: what range sync serves and a client can check by
 * itself (`verifyCommit` with the validator set of the block's height). The block stays in its
 * own bytes so its hash is computed from exactly what its proposer sealed.
 */
export const CommittedBlock = struct('CommittedBlock', { block: bytes({ max: 16 * 1024 * 1024 }), commit: Commit })
export type CommittedBlock = Infer<typeof CommittedBlock>
