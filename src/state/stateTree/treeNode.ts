import { hash, hashInto, hashParts, ZERO_HASH } from '../../crypto/index.ts'
import { StateTreeError } from './errors.ts'

/**
 * Nodes of the state tree, a binary Merkle Patricia tree over sha256(key) (a binary
 * Jellyfish-style tree): a leaf sits at the shallowest depth where it is alone in its subtree,
 * an internal node has two children, an empty subtree hashes to 32 zero bytes. The shape depends
 * only on the set of keys, so the root does too.
 *
 *   leaf hash     = sha256(0x00 ‖ path ‖ sha256(value))        path = sha256(key)
 *   internal hash = sha256(0x01 ‖ left ‖ right)
 *
 * Stored bytes (content-addressed by hash): a leaf keeps its key and value too, so the tree at
 * any committed root answers reads and proofs by itself; an internal node keeps which children
 * are leaves (not hashed: a delete promotes a lone leaf sibling without reading it).
 *   leaf:     0x00 ‖ path ‖ valueHash ‖ u16 keyLength ‖ key ‖ value
 *   internal: 0x01 | leftIsLeaf<<1 | rightIsLeaf<<2 ‖ left ‖ right
 */
export const EMPTY_TREE_ROOT: Uint8Array = ZERO_HASH
const LEAF_TAG = new Uint8Array([0])
const LEAF_SCRATCH = new Uint8Array(65)
const INTERNAL_TAG = new Uint8Array([1])

/** A subtree as its parent sees it: its hash and whether it is a single leaf. */
export interface TreeRef { hash: Uint8Array; leaf: boolean }
export const EMPTY_REF: TreeRef = { hash: EMPTY_TREE_ROOT, leaf: false }

export interface LeafNode { kind: 'leaf'; path: Uint8Array; valueHash: Uint8Array; key: Uint8Array; value: Uint8Array }
export interface InternalNode { kind: 'internal'; left: TreeRef; right: TreeRef }
export type TreeNode = LeafNode | InternalNode

/** A node the tree wrote: its hash and stored bytes. */
export interface TreeNodeWrite { hash: Uint8Array; bytes: Uint8Array }

/** Synchronous access to stored nodes by hash: undefined when not loaded (the caller loads and retries). */
export interface TreeNodeReader {
  node(hash: Uint8Array): Uint8Array | undefined
  /**
   * node() of the hash at `bytes[at..at+32)`, found in place when the reader can (a block's update reads thousands of
   * nodes: no view per lookup): the buffer holding the node, whose bytes are then `[found.start, found.end)` in it.
   */
  nodeIn?(bytes: Uint8Array, at: number): Uint8Array | undefined
  readonly found?: { start: number; end: number }
}

export const isEmptyRef = (ref: TreeRef): boolean => isZero(ref.hash)

export function isZero(h: Uint8Array): boolean {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false
  return true
}

/** Whether the hash at `bytes[at..at+32)` is the empty subtree's. */
export function isZeroAt(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (bytes[i] !== 0) return false
  return true
}

/** Bit `depth` of a 256-bit path, most significant first. */
export function pathBit(path: Uint8Array, depth: number): number {
  return (path[depth >> 3]! >> (7 - (depth & 7))) & 1
}

export const computeKeyPath = (key: Uint8Array): Uint8Array => hash(key)
export const computeLeafHash = (path: Uint8Array, valueHash: Uint8Array): Uint8Array => hashParts(LEAF_TAG, path, valueHash)
export const computeInternalHash = (left: Uint8Array, right: Uint8Array): Uint8Array => hashParts(INTERNAL_TAG, left, right)

/**
 * Node bytes as views into shared chunks: a block adds thousands of nodes, and a typed array of more than 64 bytes of its
 * own lives outside the JS heap, where the collector tracks and frees each one (at 1M keys ~15k nodes a block).
 */
const CHUNK_BYTES = 64 * 1024
let chunk = new Uint8Array(CHUNK_BYTES)
let chunkAt = 0
function nodeBytes(length: number): Uint8Array {
  if (chunkAt + length > chunk.length) {
    chunk = new Uint8Array(Math.max(CHUNK_BYTES, length))
    chunkAt = 0
  }
  const out = chunk.subarray(chunkAt, chunkAt + length)
  chunkAt += length
  return out
}

export function encodeLeaf(path: Uint8Array, valueHash: Uint8Array | undefined, key: Uint8Array, value: Uint8Array): TreeNodeWrite {
  const bytes = nodeBytes(1 + 32 + 32 + 2 + key.length + value.length)
  bytes[0] = 0
  for (let i = 0; i < 32; i++) bytes[1 + i] = path[i]!
  // Undefined: the value's hash is computed here, straight into the bytes.
  if (valueHash === undefined) hashInto(value, bytes, 33)
  else for (let i = 0; i < 32; i++) bytes[33 + i] = valueHash[i]!
  bytes[65] = key.length >> 8
  bytes[66] = key.length & 0xff
  bytes.set(key, 67)
  bytes.set(value, 67 + key.length)
  // The stored bytes start with the hashed ones (0x00 ‖ path ‖ valueHash), hashed from a copy in scratch (no view per leaf).
  for (let i = 0; i < 65; i++) LEAF_SCRATCH[i] = bytes[i]!
  return { hash: hash(LEAF_SCRATCH), bytes }
}

export const encodeInternal = (left: TreeRef, right: TreeRef): TreeNodeWrite => encodeInternalAt(left.hash, 0, left.leaf, right.hash, 0, right.leaf)

/**
 * An internal node over the child hashes at `left[leftAt..+32)` and `right[rightAt..+32)` (views of a stored node's
 * bytes need no array of their own: a block rewrites thousands of nodes, most with one child unchanged).
 */
export function encodeInternalAt(left: Uint8Array, leftAt: number, leftLeaf: boolean, right: Uint8Array, rightAt: number, rightLeaf: boolean): TreeNodeWrite {
  const bytes = nodeBytes(65)
  // Hashed as 0x01 ‖ left ‖ right, then the tag takes the child flags (stored, not hashed).
  bytes[0] = 1
  for (let i = 0; i < 32; i++) bytes[1 + i] = left[leftAt + i]!
  for (let i = 0; i < 32; i++) bytes[33 + i] = right[rightAt + i]!
  const h = hash(bytes)
  bytes[0] = 1 | (leftLeaf ? 2 : 0) | (rightLeaf ? 4 : 0)
  return { hash: h, bytes }
}

export function decodeTreeNode(hashOf: Uint8Array, bytes: Uint8Array): TreeNode {
  const tag = bytes[0]
  if (tag === 0 && bytes.length >= 67) {
    const keyLength = (bytes[65]! << 8) | bytes[66]!
    if (bytes.length >= 67 + keyLength) {
      return { kind: 'leaf', path: bytes.subarray(1, 33), valueHash: bytes.subarray(33, 65), key: bytes.subarray(67, 67 + keyLength), value: bytes.subarray(67 + keyLength) }
    }
  }
  // At least 65: a stored page (treePage.ts) starts with its root's bytes and reads as that node.
  if (tag !== undefined && (tag & 1) === 1 && tag <= 7 && bytes.length >= 65) {
    return { kind: 'internal', left: { hash: bytes.subarray(1, 33), leaf: (tag & 2) !== 0 }, right: { hash: bytes.subarray(33, 65), leaf: (tag & 4) !== 0 } }
  }
  throw new StateTreeError('CORRUPT_NODE', 'stored tree node does not parse', { hash: Buffer.from(hashOf).toString('hex') })
}
