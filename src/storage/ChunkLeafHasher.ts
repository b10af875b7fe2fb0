import { EMPTY_ROOT, hashParts, leafHash } from '../crypto/index.ts'

const NODE = new Uint8Array([1])

/**
 * The src/crypto Merkle root (odd node carried up) built leaf by leaf in O(log n) memory: a
 * stack of perfect subtrees like a binary counter, folded right to left at the end. `merkleRoot`
 * of n leaves equals that fold, because the carried-up odd nodes are exactly the stack's smaller
 * subtrees.
 */
export class MerkleAccumulator {
  readonly #stack: { level: number; node: Uint8Array }[] = []
  #count = 0
  /** Called with the root of every completed perfect subtree of `2^pageLevel` leaves. */
  constructor(readonly pageLevel = -1, readonly onPageRoot?: (root: Uint8Array) => void) {}

  get count(): number {
    return this.#count
  }

  push(leaf: Uint8Array): void {
    this.#count++
    let node = leaf
    let level = 0
    if (level === this.pageLevel) this.onPageRoot?.(node)
    for (let top = this.#stack.at(-1); top !== undefined && top.level === level; top = this.#stack.at(-1)) {
      this.#stack.pop()
      node = hashParts(NODE, top.node, node)
      level++
      if (level === this.pageLevel) this.onPageRoot?.(node)
    }
    this.#stack.push({ level, node })
  }

  /** The root of every leaf pushed; with `belowLevel`, only the fold of subtrees under that level (a partial last page). */
  root(belowLevel = Infinity): Uint8Array {
    let acc: Uint8Array | undefined
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const e = this.#stack[i]!
      if (e.level >= belowLevel) break
      acc = acc === undefined ? e.node : hashParts(NODE, e.node, acc)
    }
    return acc ?? EMPTY_ROOT
  }
}

export interface ChunkLeafHasherOpts {
  /** Leaves per page, a power of two: `onPage` receives each page's leaves (32 bytes each) and root. */
  pageLeaves?: number
  onPage?: (leaves: Uint8Array, root: Uint8Array) => void
}

/**
 * Merkle leaves over fixed-size chunks of a byte stream fed in arbitrary pieces; `finish` gives
 * the chunk root (same as computeChunkRoot over the whole stream). Memory stays O(log chunks)
 * plus one page when pages are asked for: the leaves of a 1 GiB shard at 256-byte chunks are
 * 128 MiB, which a streaming writer must not hold.
 */
export class ChunkLeafHasher {
  readonly #pending: Uint8Array
  #fill = 0
  readonly #tree: MerkleAccumulator
  readonly #page: Uint8Array | undefined
  #pageFill = 0
  readonly #pageRoots: Uint8Array[] = []
  readonly #onPage: ChunkLeafHasherOpts['onPage']

  constructor(chunkSize: number, opts: ChunkLeafHasherOpts = {}) {
    this.#pending = new Uint8Array(chunkSize)
    this.#onPage = opts.onPage
    if (opts.pageLeaves !== undefined) {
      const level = Math.log2(opts.pageLeaves)
      if (!Number.isInteger(level)) throw new RangeError('pageLeaves must be a power of two')
      this.#page = new Uint8Array(opts.pageLeaves * 32)
      this.#tree = new MerkleAccumulator(level, (root) => this.#pageRoots.push(root))
    } else {
      this.#tree = new MerkleAccumulator()
    }
  }

  get leafCount(): number {
    return this.#tree.count
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
      this.#leaf(leafHash(this.#pending))
      this.#fill = 0
    }
    for (; at + size <= bytes.length; at += size) this.#leaf(leafHash(bytes.subarray(at, at + size)))
    if (at < bytes.length) {
      this.#pending.set(bytes.subarray(at), 0)
      this.#fill = bytes.length - at
    }
  }

  finish(): Uint8Array {
    if (this.#fill > 0) this.#leaf(leafHash(this.#pending.subarray(0, this.#fill)))
    this.#fill = 0
    if (this.#page !== undefined && this.#pageFill > 0) this.#onPage?.(this.#page.slice(0, this.#pageFill), this.#tree.root(this.#tree.pageLevel))
    this.#pageFill = 0
    return this.#tree.root()
  }

  #leaf(leaf: Uint8Array): void {
    this.#tree.push(leaf)
    const page = this.#page
    if (page === undefined) return
    page.set(leaf, this.#pageFill)
    this.#pageFill += 32
    if (this.#pageFill === page.length) {
      this.#onPage?.(page.slice(), this.#pageRoots.shift()!)
      this.#pageFill = 0
    }
  }
}
