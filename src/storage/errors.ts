import { XscError } from '../../blocks/errors.ts'

/**
 * Errors of the client-side blob layer (encryption at rest, read back). Coding and shard-store
 * errors stay StorageError (src/state/storage/errors.ts), shared with the pure rules.
 */
export type BlobErrorPayloads = {
  /** The bytes do not start with an encrypted-blob header (a public blob, or not a blob of ours). */
  NOT_ENCRYPTED: {}
  /** A header of an unknown version or with out-of-range fields. */
  BAD_HEADER: { reason: string }
  /** A segment failed its AES-GCM tag: wrong key, or bytes changed since they were encrypted. */
  AUTH_FAILED: { segment: number }
  /** The ciphertext ends before its last segment (or has bytes after it). */
  TRUNCATED: { segment: number }
  /** Too few hosts answered with good shards to rebuild the asset. */
  UNAVAILABLE: { tried: { host: string; shardIndex: number; reason: string }[] }
  /** The rebuilt bytes do not match the manifest (shard or data hash). */
  VERIFY_FAILED: { what: string }
  /** A stream of plaintext gave another number of bytes than it was said to hold (a file changed while read). */
  SIZE_MISMATCH: { expected: number; got: number }
  /** A range outside the asset. */
  BAD_RANGE: { start: number; end: number; size: number }
}
export type BlobErrorCode = keyof BlobErrorPayloads

export class BlobError extends XscError<BlobErrorPayloads> {}
