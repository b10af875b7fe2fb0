import { leafHash, verifyMerkleProof } from '../crypto/merkle.ts'
import type { NetNode } from './createNetNode.ts'
import { AuditChallenge, AuditResponse, PROTOCOL_LIMITS, PROTOCOLS } from './messages.ts'
import { requestTyped, serveTyped, type TypedProtocol } from './typedProtocol.ts'

const AUDIT: TypedProtocol<AuditChallenge, AuditResponse> = { protocol: PROTOCOLS.audit, request: AuditChallenge, response: AuditResponse, limits: PROTOCOL_LIMITS.audit, what: 'audit response' }

/** The host's side of an audit: the chunk and its Merkle path, or undefined if it does not hold the shard. */
export type AnswerAudit = (challenge: AuditChallenge, peer: string) => Promise<AuditResponse | undefined>

export function serveAudits(net: NetNode, answer: AnswerAudit): Promise<void> {
  return serveTyped(net, AUDIT, answer, (c) => `no chunk ${c.chunkIndex} of shard ${c.shardIndex}`)
}

/** Sends a challenge; returns the decoded answer (check it with verifyAuditResponse). */
export function requestAudit(net: NetNode, peer: string, challenge: AuditChallenge, opts: { timeoutMs?: number } = {}): Promise<AuditResponse> {
  return requestTyped(net, peer, AUDIT, challenge, opts)
}

/** Pure check of an answer against the shard's chunk root from the manifest. */
export function verifyAuditResponse(res: AuditResponse, expected: { chunkRoot: Uint8Array; chunkIndex: number; chunkCount: number }): boolean {
  return verifyMerkleProof(expected.chunkRoot, leafHash(res.chunk), expected.chunkIndex, expected.chunkCount, res.path)
}
