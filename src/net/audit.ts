import { decode, encode } from '../../blocks/codec.ts'
import { leafHash, verifyMerkleProof } from '../crypto/merkle.ts'
import type { NetNode } from './createNetNode.ts'
import { NetError } from './errors.ts'
import { AuditChallenge, AuditResponse, decodePeerAnswer, PROTOCOL_LIMITS, protocolId, PROTOCOLS } from './messages.ts'

const LIMITS = PROTOCOL_LIMITS.audit

/** The host's side of an audit: the chunk and its Merkle path, or undefined if it does not hold the shard. */
export type AnswerAudit = (challenge: AuditChallenge, peer: string) => Promise<AuditResponse | undefined>

export async function serveAudits(net: NetNode, answer: AnswerAudit): Promise<void> {
  await net.handle(protocolId(net.chainId, PROTOCOLS.audit), async (request, peer) => {
    const challenge = decode(AuditChallenge, request)
    const res = await answer(challenge, peer)
    if (res === undefined) throw new NetError('NOT_FOUND', `no chunk ${challenge.chunkIndex} of shard ${challenge.shardIndex}`)
    return encode(AuditResponse, res)
  }, { maxRequestBytes: LIMITS.maxRequestBytes, maxBodyBytes: 0, timeoutMs: LIMITS.timeoutMs })
}

/** Sends a challenge; returns the decoded answer (check it with verifyAuditResponse). */
export async function requestAudit(net: NetNode, peer: string, challenge: AuditChallenge, opts: { timeoutMs?: number } = {}): Promise<AuditResponse> {
  const bytes = await net.request(peer, protocolId(net.chainId, PROTOCOLS.audit), encode(AuditChallenge, challenge), {
    timeoutMs: opts.timeoutMs ?? LIMITS.timeoutMs,
    maxResponseBytes: LIMITS.maxResponseBytes,
  })
  return decodePeerAnswer(AuditResponse, bytes, peer, 'audit response')
}

/** Pure check of an answer against the shard's chunk root from the manifest. */
export function verifyAuditResponse(res: AuditResponse, expected: { chunkRoot: Uint8Array; chunkIndex: number; chunkCount: number }): boolean {
  return verifyMerkleProof(expected.chunkRoot, leafHash(res.chunk), expected.chunkIndex, expected.chunkCount, res.path)
}
