import { XscError } from '../../../blocks/errors.ts'

/**
 * The storage domain's one error class (pure part and I/O part share it). Codes:
 * - INVALID_PARAMS: k/m/segment/chunk sizes outside what the format allows
 * - TOO_FEW_SHARDS: fewer than k verified shards: the data cannot be rebuilt
 * - SHARD_SIZE_MISMATCH / SHARD_HASH_MISMATCH: a shard is not the one the manifest names
 * - DATA_HASH_MISMATCH: rebuilt bytes do not hash to the manifest's data hash
 * - STORE_FULL: the shard would exceed the store's capacity (nothing was written)
 * - STORE_DRAINING: the store refuses new shards while it drains
 * - NOT_FOUND: the store has no such shard
 * - CHUNK_OUT_OF_RANGE: an audit named a chunk the shard does not have
 * - CODER_FAILED: the erasure coder reported an error
 * - STORE_CLOSED / STORE_LOCKED: the database is closed or held by another process
 */
export type StorageErrorCode =
  | 'INVALID_PARAMS'
  | 'TOO_FEW_SHARDS'
  | 'SHARD_SIZE_MISMATCH'
  | 'SHARD_HASH_MISMATCH'
  | 'DATA_HASH_MISMATCH'
  | 'STORE_FULL'
  | 'STORE_DRAINING'
  | 'NOT_FOUND'
  | 'CHUNK_OUT_OF_RANGE'
  | 'CODER_FAILED'
  | 'STORE_CLOSED'
  | 'STORE_LOCKED'

export class StorageError extends XscError<StorageErrorCode> {}
