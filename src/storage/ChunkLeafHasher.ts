import { hash as oneShot } from 'node:crypto'

import { EMPTY_ROOT } from '../crypto/index.ts'
import { hashMerkleNode } from './hashMerkleNode.ts'

/** Deepest stack a tree of up to 2^52 leaves (any byte length JS can count) needs. */
const MAX_LEVELS = 53

/**
 * The src/crypto Merkle root (odd node carried up) built leaf by leaf in O(log n) memory: a
 * stack of perfect subtrees like a binary counter, folded right to left at the end. `merkleRoot`
 * of n leaves equals that fold, because the carried-up odd nodes are exactly the stack's smaller
 * subtrees. The stack is one flat buffer and nodes are hashed in place by hashMerkleNode (no
 * allocation): a shard of 256-byte chunks has one node per chunk, and hashParts' concatenation,
 * native call and copy per node was half of the tree's cost.
 */
export class MerkleAccumulator {
  readonly #nodes = new Uint8Array(MAX_LEVELS * 32)
  readonly #levels = new Int32Array(MAX_LEVELS)
  #depth = 0
  readonly #carry = new Uint8Array(32)
  #count = 0
  /** Called with the root of every completed perfect subtree of `2^pageLevel` leaves. */
  constructor(readonly pageLevel = -1, readonly onPageRoot?: (root: Uint8Array) => void) {}

  get count(): number {
    return this.#count
  }

  /** Adds a leaf (32 bytes; read, not kept). */
  push(leaf: Uint8Array): void {
    this.#count++
    const nodes = this.#nodes
    const carry = this.#carry
    let level = 0
    if (level === this.pageLevel) this.onPageRoot?.(leaf.slice(0, 32))
    carry.set(leaf.subarray(0, 32))
    // Fold while the top subtree has the level of the one being carried: node(top, carried).
    while (this.#depth > 0 && this.#levels[this.#depth - 1] === level) {
      this.#depth--
      hashMerkleNode(nodes, this.#depth * 32, carry, 0, carry, 0)
      level++
      if (level === this.pageLevel) this.onPageRoot?.(carry.slice())
    }
    nodes.set(carry, this.#depth * 32)
    this.#levels[this.#depth++] = level
  }

  /** The root of every leaf pushed; with `belowLevel`, only the fold of subtrees under that level (a partial last page). */
  root(belowLevel = Infinity): Uint8Array {
    let acc: Uint8Array | undefined
    for (let i = this.#depth - 1; i >= 0; i--) {
      if (this.#levels[i]! >= belowLevel) break
      if (acc === undefined) acc = this.#nodes.slice(i * 32, i * 32 + 32)
      else hashMerkleNode(this.#nodes, i * 32, acc, 0, acc, 0)
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
  /** `0x00 ‖ chunk`: every leaf is hashed one-shot from this one buffer (no concatenation per chunk). */
  readonly #leafInput: Uint8Array
  /** The partial chunk waiting for more bytes, inside #leafInput. */
  readonly #pending: Uint8Array
  #fill = 0
  readonly #tree: MerkleAccumulator
  readonly #page: Uint8Array | undefined
  #pageFill = 0
  readonly #pageRoots: Uint8Array[] = []
  readonly #onPage: ChunkLeafHasherOpts['onPage']

  constructor(chunkSize: number, opts: ChunkLeafHasherOpts = {}) {
    this.#leafInput = new Uint8Array(1 + chunkSize)
    this.#pending = this.#leafInput.subarray(1)
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
      this.#leaf(oneShot('sha256', this.#leafInput, 'buffer'))
      this.#fill = 0
    }
    for (; at + size <= bytes.length; at += size) {
      this.#pending.set(bytes.subarray(at, at + size))
      this.#leaf(oneShot('sha256', this.#leafInput, 'buffer'))
    }
    if (at < bytes.length) {
      this.#pending.set(bytes.subarray(at), 0)
      this.#fill = bytes.length - at
    }
  }

  finish(): Uint8Array {
    if (this.#fill > 0) this.#leaf(oneShot('sha256', this.#leafInput.subarray(0, 1 + this.#fill), 'buffer'))
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
