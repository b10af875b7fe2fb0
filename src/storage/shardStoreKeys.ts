import type { Hash } from '../../blocks/schema.ts'
import { StorageError } from '../state/storage/errors.ts'

/** Key layout and record codec of ShardStore (its bucket table is documented there). */
export const BUCKET = { state: 0x00, shard: 0x01, piece: 0x02, leaves: 0x03, pageRoots: 0x04, leafPage: 0x05 } as const
export const PIECE_BYTES = 256 * 1024
/** 8192 leaves = 256 KiB per page: a 1 GiB shard at 256-byte chunks has 512 pages and 16 KiB of page roots. */
export const LEAF_PAGE_LEAVES = 8192
export const STATE_KEY = new Uint8Array([BUCKET.state])

export interface ShardRecord { size: bigint; shardHash: Hash; chunkSize: number; chunkRoot: Hash }

export function shardKey(bucket: number, asset: Hash, shardIndex: number): Uint8Array {
  if (asset.length !== 32) throw new StorageError('INVALID_PARAMS', 'asset id must be 32 bytes')
  if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex > 254) throw new StorageError('INVALID_PARAMS', `shard index ${shardIndex} out of range`)
  const key = new Uint8Array(34)
  key[0] = bucket
  key.set(asset, 1)
  key[33] = shardIndex
  return key
}

export function pieceKey(asset: Hash, shardIndex: number, piece: number, bucket: number = BUCKET.piece): Uint8Array {
  const key = new Uint8Array(38)
  key.set(shardKey(bucket, asset, shardIndex))
  new DataView(key.buffer).setUint32(34, piece)
  return key
}

export function leafPageKey(asset: Hash, shardIndex: number, page: number): Uint8Array {
  return pieceKey(asset, shardIndex, page, BUCKET.leafPage)
}

export function encodeRecord(r: ShardRecord): Uint8Array {
  const out = new Uint8Array(8 + 32 + 4 + 32)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, r.size)
  out.set(r.shardHash, 8)
  view.setUint32(40, r.chunkSize)
  out.set(r.chunkRoot, 44)
  return out
}

export function decodeRecord(b: Uint8Array): ShardRecord {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  // classic-level hands back Buffers: copy into plain Uint8Arrays so callers compare equal.
  return { size: view.getBigUint64(0), shardHash: new Uint8Array(b.subarray(8, 40)), chunkSize: view.getUint32(40), chunkRoot: new Uint8Array(b.subarray(44, 76)) }
}


export function splitHashes(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += 32) out.push(bytes.subarray(i, i + 32))
  return out
}
