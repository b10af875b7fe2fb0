import { hash } from '../../crypto/index.ts'
import { StateTreeError } from './errors.ts'
import { PAGE_LEVELS } from './treePage.ts'

/**
 * The stored form of a tree page since session 9 (classic-level bucket `treePageCompact`): a page
 * (treePage.ts) without what its own bytes determine. Every hash of a node inside the page is
 * recomputed when it is read, so the only hashes stored are those of the children outside it (the
 * next pages' roots); a leaf keeps its key and value, not its path (sha256(key)) or value hash.
 * A bottom page at 1M keys shrinks ~3x, and so do the bytes a block writes and LevelDB compacts;
 * the roots, proofs and chunks do not change (nor does the page form held in memory).
 *
 * Per node, in the page's preorder:
 *   internal: tag ‖ (32-byte hash of each child outside the page, left then right) ‖ the children inside the page
 *             tag = node tag (1 | leftIsLeaf<<1 | rightIsLeaf<<2) | leftEmpty<<3 | rightEmpty<<4 | leftOutside<<5 | rightOutside<<6
 *   leaf:     0x00 ‖ u16 keyLength ‖ u32 valueLength ‖ key ‖ value
 * Reading it back checks the page root's hash against the key it was stored under.
 */
const LEFT_EMPTY = 8
const RIGHT_EMPTY = 16
const LEFT_OUT = 32
const RIGHT_OUT = 64

const corrupt = (root: Uint8Array, why: string): never => {
  throw new StateTreeError('CORRUPT_NODE', `compact tree page: ${why}`, { hash: Buffer.from(root).toString('hex') })
}

const inPageAt = (leaf: boolean, rel: number): boolean => rel < PAGE_LEVELS || (rel === PAGE_LEVELS && leaf)

function isZeroAt(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (bytes[i] !== 0) return false
  return true
}

/**
 * Compact pages are written into shared 64 KiB chunks and returned as views (a block at 1M keys writes ~3.4k pages of
 * ~400 bytes: each its own ArrayBuffer before, an allocation outside the JS heap that the collector tracks and frees;
 * session 11). A chunk is freed with the last view into it (the block's batch ops).
 */
const CHUNK_BYTES = 64 * 1024
let chunk = new Uint8Array(CHUNK_BYTES)
let chunkAt = 0

// The walk's state, module-level: a closure per page cost an allocation (and, under tsx, a __name call) per page.
let src: Uint8Array = chunk
let out: Uint8Array = chunk
let at = 0
let w = 0

/** The compact form of a page given in page bytes (encodeTreePage's, or a cached page's). Pure (the result is a view: do not write to it). */
export function compactTreePage(page: Uint8Array): Uint8Array {
  // A compact page is never longer than its page bytes.
  if (chunkAt + page.length > chunk.length) {
    chunk = new Uint8Array(Math.max(CHUNK_BYTES, page.length))
    chunkAt = 0
  }
  src = page
  out = chunk
  const from = chunkAt
  at = 0
  w = from
  compactNode(0, page.length)
  src = chunk
  chunkAt = w
  return out.subarray(from, w)
}

/** The node at `at` of `src` (its bytes; a leaf below the root comes after its u32 length), ending at `end`, written at `w` of `out`. */
function compactNode(rel: number, end: number): void {
  const page = src
  const tag = page[at]!
  if (tag === 0) {
    const keyLength = (page[at + 65]! << 8) | page[at + 66]!
    const valueLength = end - at - 67 - keyLength
    out[w] = 0
    out[w + 1] = keyLength >>> 8
    out[w + 2] = keyLength & 0xff
    out[w + 3] = valueLength >>> 24
    out[w + 4] = (valueLength >>> 16) & 0xff
    out[w + 5] = (valueLength >>> 8) & 0xff
    out[w + 6] = valueLength & 0xff
    // Byte loops, not set(subarray): a view per leaf and per hash was most of this function's garbage.
    for (let i = at + 67, o = w + 7; i < end; i++, o++) out[o] = page[i]!
    w += 7 + keyLength + valueLength
    at = end
    return
  }
  const start = at
  let ctag = tag
  // Bit `side` set: that child is inside the page.
  let inside = 0
  const tagAt = w++
  for (let side = 0; side < 2; side++) {
    const h = start + 1 + 32 * side
    if (isZeroAt(page, h)) ctag |= side === 0 ? LEFT_EMPTY : RIGHT_EMPTY
    else if (inPageAt((tag & (2 << side)) !== 0, rel + 1)) inside |= 1 << side
    else {
      ctag |= side === 0 ? LEFT_OUT : RIGHT_OUT
      for (let i = 0; i < 32; i++) out[w + i] = page[h + i]!
      w += 32
    }
  }
  out[tagAt] = ctag
  at = start + 65
  for (let side = 0; side < 2; side++) {
    if ((inside & (1 << side)) === 0) continue
    if ((tag & (2 << side)) !== 0) {
      const length = ((page[at]! << 24) >>> 0) + (page[at + 1]! << 16) + (page[at + 2]! << 8) + page[at + 3]!
      at += 4
      compactNode(rel + 1, at + length)
    } else compactNode(rel + 1, at + 65)
  }
}

/**
 * The page bytes (encodeTreePage's form) of a compact page stored under `root`, every hash
 * recomputed; throws StateTreeError CORRUPT_NODE when the bytes do not parse or do not hash to
 * `root`. Pure.
 */
export function expandTreePage(root: Uint8Array, compact: Uint8Array): Uint8Array {
  let size = 0
  let r = 0
  // First pass: the expanded size (and the shape is checked once).
  const measure = (rel: number): void => {
    if (r >= compact.length) corrupt(root, 'it ends inside a node')
    const tag = compact[r]!
    if (tag === 0) {
      if (r + 7 > compact.length) corrupt(root, 'it ends inside a leaf')
      const keyLength = (compact[r + 1]! << 8) | compact[r + 2]!
      const valueLength = ((compact[r + 3]! << 24) >>> 0) + (compact[r + 4]! << 16) + (compact[r + 5]! << 8) + compact[r + 6]!
      r += 7 + keyLength + valueLength
      if (r > compact.length) corrupt(root, 'it ends inside a leaf')
      size += (rel > 0 ? 4 : 0) + 67 + keyLength + valueLength
      return
    }
    if ((tag & 1) !== 1 || tag > 127) corrupt(root, 'a bad node tag')
    r++
    size += 65
    for (let side = 0; side < 2; side++) {
      const empty = (tag & (side === 0 ? LEFT_EMPTY : RIGHT_EMPTY)) !== 0
      const out = (tag & (side === 0 ? LEFT_OUT : RIGHT_OUT)) !== 0
      const leaf = (tag & (2 << side)) !== 0
      if (empty && (out || leaf)) corrupt(root, 'an empty child with flags')
      if (!empty && out === inPageAt(leaf, rel + 1)) corrupt(root, 'a child on the wrong side of the page edge')
      if (out) r += 32
    }
    if (r > compact.length) corrupt(root, 'it ends inside a node')
    for (let side = 0; side < 2; side++) {
      if ((tag & ((side === 0 ? LEFT_EMPTY | LEFT_OUT : RIGHT_EMPTY | RIGHT_OUT))) !== 0) continue
      const leaf = (tag & (2 << side)) !== 0
      if (r >= compact.length || (compact[r] === 0) !== leaf) corrupt(root, 'a child is not what its parent says')
      measure(rel + 1)
    }
  }
  measure(0)
  if (r !== compact.length) corrupt(root, 'bytes left over')
  const page = new Uint8Array(size)
  r = 0
  let w = 0
  // Second pass: writes each node in preorder and returns where its hash is (in `page`, or `hashes` for leaves' paths).
  const hashOf = new Uint8Array(32)
  const build = (rel: number): Uint8Array => {
    const tag = compact[r]!
    if (tag === 0) {
      const keyLength = (compact[r + 1]! << 8) | compact[r + 2]!
      const valueLength = ((compact[r + 3]! << 24) >>> 0) + (compact[r + 4]! << 16) + (compact[r + 5]! << 8) + compact[r + 6]!
      const key = compact.subarray(r + 7, r + 7 + keyLength)
      const value = compact.subarray(r + 7 + keyLength, r + 7 + keyLength + valueLength)
      r += 7 + keyLength + valueLength
      const length = 67 + keyLength + valueLength
      if (rel > 0) {
        page[w] = length >>> 24
        page[w + 1] = (length >>> 16) & 0xff
        page[w + 2] = (length >>> 8) & 0xff
        page[w + 3] = length & 0xff
        w += 4
      }
      const at = w
      page[at] = 0
      page.set(hash(key), at + 1)
      page.set(hash(value), at + 33)
      page[at + 65] = keyLength >>> 8
      page[at + 66] = keyLength & 0xff
      page.set(key, at + 67)
      page.set(value, at + 67 + keyLength)
      w += length
      return hash(page.subarray(at, at + 65))
    }
    const at = w
    w += 65
    r++
    for (let side = 0; side < 2; side++) {
      if ((tag & (side === 0 ? LEFT_OUT : RIGHT_OUT)) === 0) continue
      page.set(compact.subarray(r, r + 32), at + 1 + 32 * side)
      r += 32
    }
    for (let side = 0; side < 2; side++) {
      if ((tag & ((side === 0 ? LEFT_EMPTY | LEFT_OUT : RIGHT_EMPTY | RIGHT_OUT))) !== 0) continue
      page.set(build(rel + 1), at + 1 + 32 * side)
    }
    // Hashed as 0x01 ‖ left ‖ right (treeNode.ts encodeInternal); the stored tag carries the leaf flags.
    page[at] = 1
    const h = hash(page.subarray(at, at + 65))
    page[at] = tag & 7
    return h
  }
  hashOf.set(build(0))
  for (let i = 0; i < 32; i++) if (hashOf[i] !== root[i]) corrupt(root, 'it does not hash to its key')
  return page
}
