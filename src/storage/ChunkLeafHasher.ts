import { leafHash, merkleRoot } from '../crypto/index.ts'

/**
 * Merkle leaves over fixed-size chunks of a byte stream fed in arbitrary pieces; `finish` gives
 * the chunk root (same as computeChunkRoot over the whole stream).
 */
export class ChunkLeafHasher {
  readonly leaves: Uint8Array[] = []
  readonly #pending: Uint8Array
  #fill = 0
  constructor(chunkSize: number) {
    this.#pending = new Uint8Array(chunkSize)
  }
  update(bytes: Uint8Array): void {
    const size = this.#pending.length
    let at = 0
    if (this.#fill > 0) {
      const n = Math.min(size - this.#fill, bytes.length)
      this.#pending.set(bytes.subarray(0, n), this.#fill)
      this.#fill += n
      at = n
      if (this.#fill < size) return
      this.leaves.push(leafHash(this.#pending))
      this.#fill = 0
    }
    for (; at + size <= bytes.length; at += size) this.leaves.push(leafHash(bytes.subarray(at, at + size)))
    if (at < bytes.length) {
      this.#pending.set(bytes.subarray(at), 0)
      this.#fill = bytes.length - at
    }
  }
  finish(): Uint8Array {
    if (this.#fill > 0) this.leaves.push(leafHash(this.#pending.subarray(0, this.#fill)))
    this.#fill = 0
    return merkleRoot(this.leaves)
  }
}
