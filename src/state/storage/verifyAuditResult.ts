import { AUDIT_OUTCOME, type AuditResult, type Manifest } from '../../../blocks/schema.ts'
import { equalBytes, leafHash, verifyMerkleProof } from '../../crypto/index.ts'
import { type ChunkProof, computeChunkCount, computeChunkLength } from './computeChunkLeaves.ts'
import type { AuditChallenge } from './deriveAuditChallenges.ts'

/** Largest answer recorded in a block (AuditResult's wire limits); anything bigger is a fail. */
const MAX_CHUNK = 1 << 20
const MAX_PATH = 64

/** True when `proof` is chunk `chunkIndex` of shard `shardIndex` as committed by the manifest. */
export function isValidChunkProof(manifest: Manifest, shardIndex: number, chunkIndex: number, proof: ChunkProof): boolean {
  const root = manifest.chunkRoots[shardIndex]
  if (!root) return false
  const count = computeChunkCount(manifest.shardSize, manifest.chunkSize)
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= count) return false
  if (proof.chunk.length !== computeChunkLength(manifest.shardSize, manifest.chunkSize, chunkIndex)) return false
  return verifyMerkleProof(root, leafHash(proof.chunk), chunkIndex, count, proof.path)
}

/** pass if the answer proves the chunk, fail if it does not, noAnswer if there was none. */
export function computeAuditOutcome(manifest: Manifest, challenge: AuditChallenge, answer: ChunkProof | undefined): number {
  if (!answer) return AUDIT_OUTCOME.noAnswer
  return isValidChunkProof(manifest, challenge.shardIndex, challenge.chunkIndex, answer) ? AUDIT_OUTCOME.pass : AUDIT_OUTCOME.fail
}

/**
 * The result a proposer records. A failed answer is recorded as given when it fits the wire
 * limits (so validators can see it does not verify), otherwise as empty.
 */
export function computeAuditResult(manifest: Manifest, challenge: AuditChallenge, answer: ChunkProof | undefined): AuditResult {
  const outcome = computeAuditOutcome(manifest, challenge, answer)
  const fits = answer !== undefined && answer.chunk.length <= MAX_CHUNK && answer.path.length <= MAX_PATH && answer.path.every((p) => p.length === 32)
  const keep = outcome !== AUDIT_OUTCOME.noAnswer && fits
  return {
    asset: challenge.asset,
    shardIndex: challenge.shardIndex,
    host: challenge.host,
    chunkIndex: challenge.chunkIndex,
    outcome,
    chunk: keep ? answer.chunk : new Uint8Array(0),
    path: keep ? answer.path : [],
  }
}

/**
 * A validator's check of one recorded result against its challenge: same asset, shard, host and
 * chunk; `pass` only with a chunk and path that verify against the manifest's chunk root; `fail`
 * only with an answer that does not verify; `noAnswer` with nothing recorded.
 */
export function verifyAuditResult(manifest: Manifest, challenge: AuditChallenge, result: AuditResult): boolean {
  if (!equalBytes(result.asset, challenge.asset) || result.shardIndex !== challenge.shardIndex || !equalBytes(result.host, challenge.host) || result.chunkIndex !== challenge.chunkIndex) return false
  const valid = isValidChunkProof(manifest, challenge.shardIndex, challenge.chunkIndex, { chunk: result.chunk, path: result.path })
  switch (result.outcome) {
    case AUDIT_OUTCOME.pass: return valid
    case AUDIT_OUTCOME.fail: return !valid
    case AUDIT_OUTCOME.noAnswer: return result.chunk.length === 0 && result.path.length === 0
    default: return false
  }
}
