import type { Manifest } from '../../blocks/schema.ts'
import { equalBytes, hash } from '../crypto/index.ts'
import { verifyManifestShape } from '../state/storage/computeChunkLeaves.ts'
import { StorageError } from '../state/storage/errors.ts'
import { type FastCoder, getFastCoder } from './fastCoder.ts'
import { createIncrementalHash } from './incrementalHash.ts'

/** Where each segment of an asset lies inside every shard. */
export interface SegmentLayout { index: number; dataOffset: number; dataLength: number; shardOffset: number; shardLength: number }

export function computeSegmentLayout(manifest: Manifest): SegmentLayout[] {
  const { k, segmentSize } = manifest
  const size = Number(manifest.size)
  const full = Math.ceil(segmentSize / k)
  const out: SegmentLayout[] = []
  for (let s = 0, at = 0; at < size; s++, at += segmentSize) {
    const dataLength = Math.min(segmentSize, size - at)
    out.push({ index: s, dataOffset: at, dataLength, shardOffset: s * full, shardLength: Math.ceil(dataLength / k) })
  }
  return out
}

/** Indices whose shard is given, has the right length and (unless trusted) the right hash. */
export function computeUsableShards(manifest: Manifest, shards: readonly (Uint8Array | undefined)[], trusted = false, limit = Infinity): number[] {
  const usable: number[] = []
  for (let i = 0; i < manifest.k + manifest.m && usable.length < limit; i++) {
    const s = shards[i]
    if (!s || BigInt(s.length) !== manifest.shardSize) continue
    if (!trusted && !equalBytes(hash(s), manifest.shardHashes[i]!)) continue
    usable.push(i)
  }
  return usable
}

/**
 * Rebuilds the original bytes from any k good shards (missing ones `undefined`). Shards that
 * fail their hash are ignored; fewer than k good ones is TOO_FEW_SHARDS; the result is checked
 * against the manifest's data hash, so wrong bytes are never returned.
 */
export function decodeAsset(manifest: Manifest, shards: readonly (Uint8Array | undefined)[], opts: { trusted?: boolean; coder?: FastCoder } = {}): Uint8Array {
  verifyManifestShape(manifest)
  const { k, m } = manifest
  if (manifest.size === 0n) {
    // Empty data has empty shards: nothing to fetch, only the hash to check.
    if (!equalBytes(hash(new Uint8Array(0)), manifest.dataHash)) throw new StorageError('DATA_HASH_MISMATCH', 'empty data does not match the manifest data hash')
    return new Uint8Array(0)
  }
  // Hash only until k good shards are found: the rest are not needed.
  const usable = computeUsableShards(manifest, shards, opts.trusted, k)
  if (usable.length < k) throw new StorageError('TOO_FEW_SHARDS', `${usable.length} good shards, ${k} needed`, { good: usable.length, needed: k })
  const chosen = usable.slice(0, k)
  const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !chosen.includes(i))
  const out = new Uint8Array(Number(manifest.size))
  const coder = opts.coder ?? getFastCoder()
  const layout = computeSegmentLayout(manifest)
  const maxLen = layout[0]?.shardLength ?? 0
  const rebuilt = missing.map(() => new Uint8Array(maxLen))
  for (const seg of layout) {
    const piece = (s: Uint8Array): Uint8Array => s.subarray(seg.shardOffset, seg.shardOffset + seg.shardLength)
    const outs = rebuilt.map((b) => b.subarray(0, seg.shardLength))
    if (missing.length > 0) coder.rebuild(k, m, chosen, missing, chosen.map((i) => piece(shards[i]!)), outs)
    for (let d = 0; d < k; d++) {
      const start = d * seg.shardLength
      if (start >= seg.dataLength) break
      const mi = missing.indexOf(d)
      const src = mi >= 0 ? outs[mi]! : piece(shards[d]!)
      out.set(src.subarray(0, Math.min(seg.shardLength, seg.dataLength - start)), seg.dataOffset + start)
    }
  }
  if (!equalBytes(hash(out), manifest.dataHash)) throw new StorageError('DATA_HASH_MISMATCH', 'rebuilt data does not match the manifest data hash')
  return out
}

/** Reads `length` bytes at `offset` of shard `index` (a store, a file, a peer). */
export type ShardRangeReader = (index: number, offset: number, length: number) => Promise<Uint8Array>

/**
 * Streaming decode with bounded memory (one segment): reads the k shards `chosen` segment by
 * segment, rebuilds missing data pieces, and hands data to `sink` in order. Shard and data
 * hashes are checked as bytes go by; on a mismatch it throws at the end, and the caller must
 * discard what the sink received (the bytes cannot be unsent).
 */
export async function decodeAssetStream(manifest: Manifest, chosen: readonly number[], read: ShardRangeReader, sink: (data: Uint8Array) => void | Promise<void>, coder: FastCoder = getFastCoder()): Promise<void> {
  verifyManifestShape(manifest)
  const { k, m } = manifest
  const sorted = [...new Set(chosen)].sort((a, b) => a - b)
  if (sorted.length !== k || sorted.some((i) => !Number.isInteger(i) || i < 0 || i >= k + m)) {
    throw new StorageError('TOO_FEW_SHARDS', `need exactly ${k} distinct shard indices`, { chosen: sorted })
  }
  const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !sorted.includes(i))
  const shardHashes = sorted.map(() => createIncrementalHash())
  const dataHash = createIncrementalHash()
  const layout = computeSegmentLayout(manifest)
  const maxLen = layout[0]?.shardLength ?? 0
  const rebuilt = missing.map(() => new Uint8Array(maxLen))
  const segment = new Uint8Array(manifest.segmentSize)
  for (const seg of layout) {
    const pieces = await Promise.all(sorted.map((i) => read(i, seg.shardOffset, seg.shardLength)))
    pieces.forEach((p, j) => {
      if (p.length !== seg.shardLength) throw new StorageError('SHARD_SIZE_MISMATCH', `shard ${sorted[j]} returned ${p.length} bytes, expected ${seg.shardLength}`)
      shardHashes[j]!.update(p)
    })
    const outs = rebuilt.map((b) => b.subarray(0, seg.shardLength))
    if (missing.length > 0) coder.rebuild(k, m, sorted, missing, pieces, outs)
    for (let d = 0; d < k; d++) {
      const start = d * seg.shardLength
      if (start >= seg.dataLength) break
      const mi = missing.indexOf(d)
      const src = mi >= 0 ? outs[mi]! : pieces[sorted.indexOf(d)]!
      segment.set(src.subarray(0, Math.min(seg.shardLength, seg.dataLength - start)), start)
    }
    const data = segment.subarray(0, seg.dataLength)
    dataHash.update(data)
    await sink(data)
  }
  sorted.forEach((i, j) => {
    if (!equalBytes(shardHashes[j]!.digest(), manifest.shardHashes[i]!)) throw new StorageError('SHARD_HASH_MISMATCH', `shard ${i} does not match the manifest`, { shardIndex: i })
  })
  if (!equalBytes(dataHash.digest(), manifest.dataHash)) throw new StorageError('DATA_HASH_MISMATCH', 'rebuilt data does not match the manifest data hash')
}

/** Rebuilds shard `target` (data or parity) in full from k good shards: what repair needs. */
export function rebuildShard(manifest: Manifest, shards: readonly (Uint8Array | undefined)[], target: number, opts: { trusted?: boolean; coder?: FastCoder } = {}): Uint8Array {
  verifyManifestShape(manifest)
  const { k, m } = manifest
  if (!Number.isInteger(target) || target < 0 || target >= k + m) throw new StorageError('INVALID_PARAMS', `no shard ${target}`)
  const usable = computeUsableShards(manifest, shards.map((s, i) => (i === target ? undefined : s)), opts.trusted, k)
  if (usable.length < k) throw new StorageError('TOO_FEW_SHARDS', `${usable.length} good shards, ${k} needed`, { good: usable.length, needed: k })
  const chosen = usable.slice(0, k)
  const out = new Uint8Array(Number(manifest.shardSize))
  const coder = opts.coder ?? getFastCoder()
  for (const seg of computeSegmentLayout(manifest)) {
    const piece = (s: Uint8Array): Uint8Array => s.subarray(seg.shardOffset, seg.shardOffset + seg.shardLength)
    coder.rebuild(k, m, chosen, [target], chosen.map((i) => piece(shards[i]!)), [piece(out)])
  }
  if (!equalBytes(hash(out), manifest.shardHashes[target]!)) throw new StorageError('SHARD_HASH_MISMATCH', `rebuilt shard ${target} does not match the manifest`, { shardIndex: target })
  return out
}
