import { createHash, type Hash as NodeHash } from 'node:crypto'

/**
 * Streaming form of src/crypto's `hash` (sha256), for data too large to hold at once.
 * src/crypto exposes only one-shot hashing; a test pins that both give the same digest.
 */
export interface IncrementalHash {
  update(bytes: Uint8Array): void
  digest(): Uint8Array
}

export function createIncrementalHash(): IncrementalHash {
  const h: NodeHash = createHash('sha256')
  return {
    update: (bytes) => void h.update(bytes),
    digest: () => new Uint8Array(h.digest()),
  }
}
