import type { Manifest } from '../../blocks/schema.ts'
import { equalBytes, hash, toHex } from '../crypto/index.ts'
import { verifyManifestShape } from '../state/storage/computeChunkLeaves.ts'
import { StorageError } from '../state/storage/errors.ts'
import { ChunkLeafHasher } from './ChunkLeafHasher.ts'
import { LEAF_PAGE_LEAVES } from './shardStoreKeys.ts'

/** A whole shard checked against its manifest, with what the store writes beside its bytes. */
export interface VerifiedShard {
  shardHash: Uint8Array
  chunkRoot: Uint8Array
  /** Chunk leaf hashes, LEAF_PAGE_LEAVES to a page, and each page's root. */
  pages: Uint8Array[]
  pageRoots: Uint8Array[]
}

/** Throws INVALID_PARAMS unless `shardIndex` names one of the manifest's k + m shards. */
export function verifyShardIndex(manifest: Manifest, shardIndex: number): void {
  verifyManifestShape(manifest)
  if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= manifest.k + manifest.m) {
    throw new StorageError('INVALID_PARAMS', `shard index ${shardIndex} out of range`)
  }
}

/** Checks a whole shard's length, hash and chunk root against the manifest (typed StorageError on any mismatch). */
export function verifyShard(manifest: Manifest, shardIndex: number, shard: Uint8Array): VerifiedShard {
  verifyShardIndex(manifest, shardIndex)
  if (BigInt(shard.length) !== manifest.shardSize) {
    throw new StorageError('SHARD_SIZE_MISMATCH', `shard is ${shard.length} bytes, manifest says ${manifest.shardSize}`, { got: shard.length, expected: manifest.shardSize.toString() })
  }
  const shardHash = hash(shard)
  if (!equalBytes(shardHash, manifest.shardHashes[shardIndex]!)) {
    throw new StorageError('SHARD_HASH_MISMATCH', `shard ${shardIndex} does not hash to the manifest`, { got: toHex(shardHash), expected: toHex(manifest.shardHashes[shardIndex]!) })
  }
  const pages: Uint8Array[] = []
  const pageRoots: Uint8Array[] = []
  const leafHasher = new ChunkLeafHasher(manifest.chunkSize, { pageLeaves: LEAF_PAGE_LEAVES, onPage: (leaves, root) => void (pages.push(leaves), pageRoots.push(root)) })
  leafHasher.update(shard)
  const chunkRoot = leafHasher.finish()
  if (!equalBytes(chunkRoot, manifest.chunkRoots[shardIndex]!)) {
    throw new StorageError('SHARD_HASH_MISMATCH', `shard ${shardIndex} chunk root differs from the manifest`, { shardIndex })
  }
  return { shardHash, chunkRoot, pages, pageRoots }
}
