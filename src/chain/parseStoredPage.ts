import { PAGE_LEVELS } from '../state/stateTree/treePage.ts'

/** A page holds at most 2^PAGE_LEVELS - 1 = 15 internal nodes and 16 leaves: a node's index in its page fits 5 bits. */
export const PAGE_MAX_NODES = 32

/** Where a parsed page's nodes are: hashes (32 bytes each), [start, end) at 2i, 2i+1, each node's last descendant; PAGE_MAX_NODES each. */
export interface ParsedPage { hashes: Uint8Array; spans: Uint32Array; ends: Uint8Array }

function isZeroAt(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (bytes[i] !== 0) return false
  return true
}

/** Where a page's walk stops: the child `rel` levels below the page root (flags from its parent's tag) is in the page. */
const inPageAt = (leaf: boolean, rel: number): boolean => rel < PAGE_LEVELS || (rel === PAGE_LEVELS && leaf)

/**
 * The nodes of a page read from bucket `treePage` (src/state/stateTree/treePage.ts), written to
 * `out`: the walk of decodeTreePage, with hashes copied from the parents' bytes and no decoded
 * objects (pages read per block at 1M keys: thousands). Returns the node count, or -1 when the
 * bytes do not parse (the caller then goes through decodeTreePage, which names the fault).
 */
export function parseStoredPage(root: Uint8Array, bytes: Uint8Array, out: ParsedPage): number {
  const { hashes, spans, ends } = out
  let count = 0
  let at = 0
  let ok = bytes[0] !== 0 && bytes.length >= 65
  const visit = (src: Uint8Array, from: number, leaf: boolean, rel: number): void => {
    if (count >= PAGE_MAX_NODES) return void (ok = false)
    const index = count
    for (let k = 0; k < 32; k++) hashes[index * 32 + k] = src[from + k]!
    walk(leaf, rel)
    ends[index] = count - 1
  }
  const walk = (leaf: boolean, rel: number): void => {
    const index = count++
    if (leaf) {
      if (at + 4 > bytes.length) return void (ok = false)
      const length = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!
      at += 4
      if (at + length > bytes.length || length < 67 || bytes[at] !== 0) return void (ok = false)
      spans[2 * index] = at
      spans[2 * index + 1] = at += length
      return
    }
    const start = at
    const tag = bytes[start]!
    if (start + 65 > bytes.length || (tag & 1) !== 1 || tag > 7) return void (ok = false)
    at += 65
    spans[2 * index] = start
    spans[2 * index + 1] = at
    for (let side = 0; side < 2 && ok; side++) {
      const h = start + 1 + 32 * side
      const childLeaf = (tag & (2 << side)) !== 0
      if (!isZeroAt(bytes, h) && inPageAt(childLeaf, rel + 1)) visit(bytes, h, childLeaf, rel + 1)
    }
  }
  if (ok) visit(root, 0, false, 0)
  return ok && at === bytes.length ? count : -1
}
