import { randomBytes } from 'node:crypto'

/** Where the index finds the 32-byte key of an entry from its value (the keys stay where the caller stores them). */
export interface TreeNodeIndexKeys {
  bytesOf(value: number): Uint8Array
  offsetOf(value: number): number
}

const EMPTY = -1
const MIN_CAPACITY = 16

/**
 * 32-byte hash → non-negative int32 value (with a small per-entry count), as an open-addressing
 * table (linear probing, backward-shift deletion) in typed arrays: no JS object per entry, so
 * the garbage collector traces the same few objects whatever the cache size (a Map of latin1
 * ids cost a third of a 1M-account block's main thread in GC). Keys are not copied: the caller
 * keeps them (a cached page's hashes) and says where through `keys`; the table holds a 32-bit
 * mix of the key's first 8 bytes (the home slot and a fingerprint) and compares full keys only
 * when fingerprints match. The mix is seeded per process: node hashes come from state that
 * users write, so positions must not be predictable (a key ground to one home slot would make
 * a cluster that every lookup there walks).
 *
 * Callers work by table position: `find` → position (or -1), then `valueAt`/`setValueAt`,
 * `countAt`/`setCountAt`, `deleteAt`. `insert` and `deleteAt` move entries: a position is valid
 * only until the next insert or delete.
 */
export class TreeNodeIndex {
  readonly #keys: TreeNodeIndexKeys
  readonly #seedA: number
  readonly #seedB: number
  #mix: Uint32Array
  #values: Int32Array
  #counts: Uint16Array
  #mask: number
  #size = 0

  constructor(keys: TreeNodeIndexKeys, opts: { capacity?: number; seed?: Uint8Array } = {}) {
    this.#keys = keys
    const seed = opts.seed ?? randomBytes(8)
    this.#seedA = ((seed[0]! << 24) | (seed[1]! << 16) | (seed[2]! << 8) | seed[3]!) >>> 0
    this.#seedB = ((seed[4]! << 24) | (seed[5]! << 16) | (seed[6]! << 8) | seed[7]!) >>> 0
    let capacity = MIN_CAPACITY
    while (capacity < (opts.capacity ?? 0) * 2) capacity *= 2
    this.#mix = new Uint32Array(capacity)
    this.#values = new Int32Array(capacity).fill(EMPTY)
    this.#counts = new Uint16Array(capacity)
    this.#mask = capacity - 1
  }

  get size(): number {
    return this.#size
  }

  get capacity(): number {
    return this.#values.length
  }

  /** The seeded 32-bit mix of the key at `bytes[at..at+8)` (murmur3's finaliser over both words). */
  #mixOf(bytes: Uint8Array, at: number): number {
    const a = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) ^ this.#seedA
    const b = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) ^ this.#seedB
    let h = Math.imul(a, 0xcc9e2d51) ^ Math.imul((b << 15) | (b >>> 17), 0x1b873593)
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return h >>> 0
  }

  #sameKey(value: number, bytes: Uint8Array, at: number): boolean {
    const stored = this.#keys.bytesOf(value)
    const from = this.#keys.offsetOf(value)
    for (let i = 0; i < 32; i++) if (stored[from + i] !== bytes[at + i]) return false
    return true
  }

  /** The position of the key at `bytes[at..at+32)`, or -1. */
  find(bytes: Uint8Array, at = 0): number {
    const mix = this.#mixOf(bytes, at)
    const values = this.#values
    const mixes = this.#mix
    const mask = this.#mask
    for (let pos = mix & mask; ; pos = (pos + 1) & mask) {
      const value = values[pos]!
      if (value === EMPTY) return -1
      if (mixes[pos] === mix && this.#sameKey(value, bytes, at)) return pos
    }
  }

  /** The value of the key, or -1. */
  get(bytes: Uint8Array, at = 0): number {
    const pos = this.find(bytes, at)
    return pos < 0 ? EMPTY : this.#values[pos]!
  }

  valueAt(pos: number): number {
    return this.#values[pos]!
  }

  /** A new value for the entry at `pos`; its key must be where `keys` says for the new value. */
  setValueAt(pos: number, value: number): void {
    this.#values[pos] = value
  }

  countAt(pos: number): number {
    return this.#counts[pos]!
  }

  setCountAt(pos: number, count: number): void {
    this.#counts[pos] = count
  }

  /** Adds a key that is not in the table (the caller checked with `find`), count 1; returns its position. */
  insert(bytes: Uint8Array, at: number, value: number): number {
    if (value < 0) throw new RangeError('TreeNodeIndex values are non-negative')
    if ((this.#size + 1) * 4 > this.#values.length * 3) this.#grow()
    const mix = this.#mixOf(bytes, at)
    const values = this.#values
    const mask = this.#mask
    let pos = mix & mask
    while (values[pos] !== EMPTY) pos = (pos + 1) & mask
    values[pos] = value
    this.#mix[pos] = mix
    this.#counts[pos] = 1
    this.#size++
    return pos
  }

  /** Removes the entry at `pos`; later entries of its cluster shift back (no tombstones, so churn does not slow lookups). */
  deleteAt(pos: number): void {
    const values = this.#values
    const mixes = this.#mix
    const counts = this.#counts
    const mask = this.#mask
    let hole = pos
    for (let next = (pos + 1) & mask; values[next] !== EMPTY; next = (next + 1) & mask) {
      const home = mixes[next]! & mask
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const homeAfterHole = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (homeAfterHole) continue
      values[hole] = values[next]!
      mixes[hole] = mixes[next]!
      counts[hole] = counts[next]!
      hole = next
    }
    values[hole] = EMPTY
    this.#size--
  }

  #grow(): void {
    const values = this.#values
    const mixes = this.#mix
    const counts = this.#counts
    const capacity = values.length * 2
    this.#values = new Int32Array(capacity).fill(EMPTY)
    this.#mix = new Uint32Array(capacity)
    this.#counts = new Uint16Array(capacity)
    this.#mask = capacity - 1
    for (let i = 0; i < values.length; i++) {
      if (values[i] === EMPTY) continue
      let pos = mixes[i]! & this.#mask
      while (this.#values[pos] !== EMPTY) pos = (pos + 1) & this.#mask
      this.#values[pos] = values[i]!
      this.#mix[pos] = mixes[i]!
      this.#counts[pos] = counts[i]!
    }
  }

  /** The longest run of occupied positions (for tests: lookups walk at most this far). */
  longestCluster(): number {
    let longest = 0
    let run = 0
    // Twice round, so a cluster that wraps is counted whole.
    for (let i = 0; i < this.#values.length * 2; i++) {
      if (this.#values[i & this.#mask] === EMPTY) run = 0
      else longest = Math.max(longest, ++run)
    }
    return Math.min(longest, this.#size)
  }
}
