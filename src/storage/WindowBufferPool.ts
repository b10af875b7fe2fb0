/**
 * Reused buffers of one size for a read's shard windows. Every 2 MiB window of a read used to
 * be a fresh ArrayBuffer, and V8 answers that much external memory churn with full collections
 * (about a fifth of a read's time, profiled in session 4). Buffers come back with `release`
 * once nothing refers to them; at most `maxFree` are kept, so the pool is bounded by the read's
 * own window budget. Lengths above the pool's size get a fresh buffer (never pooled).
 */
export class WindowBufferPool {
  readonly #free: Uint8Array[] = []
  readonly #owned = new WeakSet<ArrayBufferLike>()
  constructor(readonly bufferBytes: number, readonly maxFree: number) {}

  /** A buffer of exactly `length` bytes (a view of a pooled one when it fits); its contents are garbage. */
  acquire(length: number): Uint8Array {
    if (length > this.bufferBytes) return new Uint8Array(length)
    let buf = this.#free.pop()
    if (buf === undefined) {
      buf = new Uint8Array(this.bufferBytes)
      this.#owned.add(buf.buffer)
    }
    return buf.subarray(0, length)
  }

  /** Gives a buffer from `acquire` back; others (and a second release of one) are ignored. */
  release(view: Uint8Array): void {
    if (!this.#owned.has(view.buffer) || this.#free.length >= this.maxFree) return
    if (this.#free.some((b) => b.buffer === view.buffer)) return
    this.#free.push(new Uint8Array(view.buffer, 0, this.bufferBytes))
  }

  get freeCount(): number {
    return this.#free.length
  }
}
