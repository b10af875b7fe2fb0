import { StorageError } from '../state/storage/errors.ts'

/**
 * The contract both coders (ours and the reference) implement, on one contiguous buffer of
 * k+m equal shards (the reference library's layout). Both throw StorageError on bad input.
 */
export interface ErasureCoder {
  readonly name: string
  /** Fills the m parity shards of `shards` ((k+m)·L bytes, data in the first k·L) in place. */
  encode(shards: Uint8Array, k: number, m: number): void
  /** Rebuilds every shard whose flag is false, in place, from at least k present ones. */
  reconstruct(shards: Uint8Array, k: number, m: number, present: readonly boolean[]): void
}

/** Shape checks shared by the coders: k+m ≤ 256 is the Vandermonde limit of GF(256). */
export function checkCoderShape(shards: Uint8Array, k: number, m: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > 255) {
    throw new StorageError('INVALID_PARAMS', `unsupported shard counts k=${k} m=${m}`, { k, m })
  }
  if (shards.length === 0 || shards.length % (k + m) !== 0) {
    throw new StorageError('SHARD_SIZE_MISMATCH', `buffer of ${shards.length} bytes is not ${k + m} equal non-empty shards`, { length: shards.length })
  }
  return shards.length / (k + m)
}

export function checkPresent(present: readonly boolean[], k: number, m: number): void {
  if (present.length !== k + m) throw new StorageError('INVALID_PARAMS', `expected ${k + m} presence flags, got ${present.length}`)
  const count = present.filter(Boolean).length
  if (count < k) throw new StorageError('TOO_FEW_SHARDS', `${count} shards present, ${k} needed`, { present: count, needed: k })
}
