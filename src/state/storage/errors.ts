import { XscError } from '../../../blocks/errors.ts'

/** The storage domain's payloads (pure part and I/O part share the class). */
export type StorageErrorPayloads = {
  /** k/m/segment/chunk sizes outside what the format allows. */
  INVALID_PARAMS: { k?: number; m?: number; segmentSize?: number; chunkSize?: number }
  /** Fewer than k verified shards: the data cannot be rebuilt. */
  TOO_FEW_SHARDS:
    | {}
    | { chosen: number[] }
    | { present: number; needed: number }
    | { good: number; needed: number; bad?: { host: string; shardIndex: number; reason: string }[] }
  /** A shard is not the one the manifest names. */
  SHARD_SIZE_MISMATCH: {} | { got: number; expected: string } | { length: number }
  SHARD_HASH_MISMATCH: {} | { got: string; expected?: string } | { shardIndex: number }
  /** Rebuilt bytes do not hash to the manifest's data hash. */
  DATA_HASH_MISMATCH: {}
  /** The shard would exceed the store's capacity (nothing was written); sizes as decimal strings. */
  STORE_FULL: { usedBytes: string; capacityBytes: string; neededBytes: string }
  /** The store refuses new shards while it drains. */
  STORE_DRAINING: {}
  NOT_FOUND: { shardIndex?: number }
  /** An audit named a chunk the shard does not have. */
  CHUNK_OUT_OF_RANGE: { index: number; count: number }
  /** The erasure coder's return code. */
  CODER_FAILED: { rc: number }
  /** The database is closed or held by another process. */
  STORE_CLOSED: { location?: string }
  STORE_LOCKED: { location: string }
}
export type StorageErrorCode = keyof StorageErrorPayloads

export class StorageError extends XscError<StorageErrorPayloads> {}
