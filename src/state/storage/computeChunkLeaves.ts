import { LIMITS, type Manifest } from '../../../blocks/schema.ts'
import { leafHash, merkleProof, merkleRoot } from '../../crypto/index.ts'
import { StorageError } from './errors.ts'

/**
 * Chunks are fixed-size pieces of a shard (the last one may be shorter), the unit audits
 * challenge. A shard's chunk root is the Merkle root (src/crypto) over leafHash(chunk) of its
 * chunks in order; an empty shard has no chunks and the empty root.
 */
export function computeChunkCount(shardSize: bigint, chunkSize: number): number {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new StorageError('INVALID_PARAMS', `chunk size ${chunkSize} must be a positive integer`)
  const count = (shardSize + BigInt(chunkSize) - 1n) / BigInt(chunkSize)
  if (count > 0xffff_ffffn) throw new StorageError('INVALID_PARAMS', 'shard has more than 2^32 chunks')
  return Number(count)
}

/** Byte length of chunk `index` of a shard (chunkSize except possibly the last). */
export function computeChunkLength(shardSize: bigint, chunkSize: number, index: number): number {
  const count = computeChunkCount(shardSize, chunkSize)
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new StorageError('CHUNK_OUT_OF_RANGE', `chunk ${index} of ${count}`, { index, count })
  }
  if (index < count - 1) return chunkSize
  return Number(shardSize - BigInt(chunkSize) * BigInt(count - 1))
}

export function computeChunkLeaves(shard: Uint8Array, chunkSize: number): Uint8Array[] {
  const count = computeChunkCount(BigInt(shard.length), chunkSize)
  const leaves: Uint8Array[] = []
  for (let i = 0; i < count; i++) leaves.push(leafHash(shard.subarray(i * chunkSize, (i + 1) * chunkSize)))
  return leaves
}

export function computeChunkRoot(shard: Uint8Array, chunkSize: number): Uint8Array {
  return merkleRoot(computeChunkLeaves(shard, chunkSize))
}

/** What a host answers to an audit: the chunk and its Merkle path to the shard's chunk root. */
export interface ChunkProof { chunk: Uint8Array; path: Uint8Array[] }

export function computeChunkProof(shard: Uint8Array, chunkSize: number, index: number, leaves?: readonly Uint8Array[]): ChunkProof {
  computeChunkLength(BigInt(shard.length), chunkSize, index)
  const all = leaves ?? computeChunkLeaves(shard, chunkSize)
  return { chunk: shard.slice(index * chunkSize, (index + 1) * chunkSize), path: merkleProof(all, index) }
}

/** Structural checks of a manifest every consumer relies on (counts, sizes, list lengths). */
export function verifyManifestShape(manifest: Manifest): void {
  const { k, m, segmentSize, chunkSize, size, shardSize, shardHashes, chunkRoots } = manifest
  const fail = (message: string): never => {
    throw new StorageError('INVALID_PARAMS', `manifest: ${message}`, { k, m })
  }
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > 255) fail(`unsupported k=${k} m=${m}`)
  if (!Number.isInteger(segmentSize) || segmentSize < 1) fail('segment size must be positive')
  if (!Number.isInteger(chunkSize) || chunkSize < 1) fail('chunk size must be positive')
  if (shardHashes.length !== k + m || chunkRoots.length !== k + m) fail(`expected ${k + m} shard hashes and chunk roots`)
  if (size < 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) fail('size out of range')
  if ((size + BigInt(segmentSize) - 1n) / BigInt(segmentSize) > BigInt(LIMITS.manifestSegments)) fail(`more than ${LIMITS.manifestSegments} segments`)
  if (shardSize !== computeShardSize(size, segmentSize, k)) fail('shard size does not follow from size, segment size and k')
  computeChunkCount(shardSize, chunkSize)
}

/**
 * Shard length of an asset: each segment of `segmentSize` bytes (the last may be shorter) is
 * split into k pieces of ceil(segmentLength / k) bytes, zero-padded; shard i concatenates piece
 * i of every segment.
 */
export function computeShardSize(size: bigint, segmentSize: number, k: number): bigint {
  if (size < 0n) throw new StorageError('INVALID_PARAMS', 'negative size')
  const seg = BigInt(segmentSize)
  const kk = BigInt(k)
  const full = size / seg
  const rest = size % seg
  return full * ((seg + kk - 1n) / kk) + (rest + kk - 1n) / kk
}
