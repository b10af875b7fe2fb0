import type { TreePageSlots } from './TreePageSlots.ts'

// How StateTreeStore.stage writes a rewritten page from its pieces (split from StateTreeStore.ts in session 12).

/** A run of an unchanged subtree to copy from a cached page while encoding a rewritten one: nodes first..last of `slot`. */
export interface CopiedRange { slot: number; first: number; last: number }

/** The nodes of a page encoded from `pieces` that are at the same index in the page in `slot` (copied from it there), as a mask of indexes. */
export function keptOf(pieces: readonly (Uint8Array | CopiedRange)[], slot: number): number {
  let kept = 0
  let n = 0
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) {
      n++
      continue
    }
    const length = piece.last - piece.first + 1
    if (piece.slot === slot && piece.first === n) for (let k = n; k < n + length; k++) kept |= 1 << k
    n += length
  }
  return kept
}

/** Writes a page's pieces (new nodes, copied ranges) into `bytes` from 0 and, for `slot` ≥ 0, each node's span into that slot; returns the page bytes. */
export function encodePagePieces(slots: TreePageSlots, pieces: readonly (Uint8Array | CopiedRange)[], bytes: Uint8Array, slot: number): Uint8Array {
  let at = 0
  let n = 0
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) {
      const length = piece.length
      if (n > 0 && piece[0] === 0) {
        bytes[at] = length >>> 24
        bytes[at + 1] = (length >>> 16) & 0xff
        bytes[at + 2] = (length >>> 8) & 0xff
        bytes[at + 3] = length & 0xff
        at += 4
      }
      bytes.set(piece, at)
      if (slot >= 0) slots.setSpan(slot, n, at, at + length)
      at += length
      n++
      continue
    }
    // A range starts at its first node, or at that leaf's length prefix.
    const { slot: from, first, last } = piece
    const fromBytes = slots.buf(from)
    const first0 = slots.start(from, first)
    const start = first0 - (fromBytes[first0] === 0 ? 4 : 0)
    const end = slots.end(from, last)
    bytes.set(fromBytes.subarray(start, end), at)
    if (slot >= 0) for (let k = first; k <= last; k++) slots.setSpan(slot, n + k - first, slots.start(from, k) - start + at, slots.end(from, k) - start + at)
    n += last - first + 1
    at += end - start
  }
  return bytes.subarray(0, at)
}
