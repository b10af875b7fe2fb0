import { compareBytes, equalBytes } from '../../crypto/index.ts'
import type { StateWrite } from '../stateView.ts'
import { StateTreeError } from './errors.ts'
import {
  computeKeyPath, decodeTreeNode, EMPTY_REF, encodeInternal, encodeInternalAt, encodeLeaf, isEmptyRef, isZeroAt,
  type LeafNode, pathBit, type TreeNodeReader, type TreeNodeWrite, type TreeRef,
} from './treeNode.ts'

/** One write, placed by path; `value` undefined deletes. */
interface Item { path: Uint8Array; key: Uint8Array; value: Uint8Array | undefined }

export interface TreeUpdate {
  root: Uint8Array
  /** The nodes the new root needs that the old one did not have (content-addressed: storing one twice is harmless). */
  nodes: TreeNodeWrite[]
  /**
   * Keys of writes that change nothing: a key set to the value it holds, or a deleted key that is
   * absent. A block's write set drops them (applyBlock's finishBlock), so one offered by a peer
   * that holds any is padding (BlockVerifier.verifiedByWrites).
   */
  unchanged: Uint8Array[]
}

/**
 * The tree after `writes`, from the tree at `root`: touches only the paths of the written keys
 * (work ∝ writes × depth, depth ≈ log2 of the key count). Pure; reads nodes through `reader`
 * and throws StateTreeError NOT_LOADED (naming every written key) when a node on those paths
 * is not loaded.
 */
export function computeTreeUpdate(reader: TreeNodeReader, root: Uint8Array, writes: readonly StateWrite[]): TreeUpdate {
  const items: Item[] = writes.map((w) => ({ path: computeKeyPath(w.key), key: w.key, value: w.value }))
  items.sort((a, b) => compareBytes(a.path, b.path))
  const nodes: TreeNodeWrite[] = []
  const ctx: UpdateContext = { reader, nodes, writes, root, unchanged: [] }
  const live = dedupe(items)
  const rootRef = live.length === 0 ? { hash: root, leaf: false } : update(ctx, root, 0, 0, live, 0, live.length)
  return { root: rootRef.hash, nodes, unchanged: ctx.unchanged }
}

interface UpdateContext { reader: TreeNodeReader; nodes: TreeNodeWrite[]; writes: readonly StateWrite[]; root: Uint8Array; unchanged: Uint8Array[] }

// The last write of a key wins (a write set has one per key; this keeps the function total).
function dedupe(items: Item[]): Item[] {
  const out: Item[] = []
  for (const it of items) {
    if (out.length > 0 && equalBytes(out[out.length - 1]!.path, it.path)) out[out.length - 1] = it
    else out.push(it)
  }
  return out
}

/*
 * The walk works on ranges [lo, hi) of one sorted item array (no slices) and reads a stored
 * node's fields in place (no decoded objects): it runs once per new node per block.
 */

/**
 * The subtree whose hash is at `at` in `from` (the root, or a stored node's bytes: no view per child) after the items in
 * [lo, hi).
 */
function update(ctx: UpdateContext, from: Uint8Array, at: number, depth: number, items: Item[], lo: number, hi: number): TreeRef {
  if (isZeroAt(from, at)) return build(ctx, depth, items, lo, hi, -1)
  const reader = ctx.reader
  let buf: Uint8Array | undefined
  let start = 0
  let end = 0
  if (reader.nodeIn !== undefined) {
    buf = reader.nodeIn(from, at)
    start = reader.found!.start
    end = reader.found!.end
  } else {
    buf = reader.node(from.subarray(at, at + 32))
    end = buf?.length ?? 0
  }
  if (buf === undefined) throw new StateTreeError('NOT_LOADED', 'state tree nodes not loaded', { root: ctx.root, keys: ctx.writes.map((w) => w.key) })
  const tag = buf[start]
  if (tag === 0) {
    // A rewrite of the leaf's own key (the usual case) needs none of its fields: alone, it changes
    // nothing exactly when the leaf it makes is the stored one.
    for (let i = lo; i < hi; i++) {
      if (!equalAt(items[i]!.path, buf, start + 1)) continue
      const it = items[i]!
      if (hi - lo > 1 && it.value !== undefined && equalBytes((decodeTreeNode(from.subarray(at, at + 32), buf.subarray(start, end)) as LeafNode).value, it.value)) ctx.unchanged.push(it.key)
      const ref = build(ctx, depth, items, lo, hi, i)
      if (hi - lo === 1 && ref.leaf && equalAt(ref.hash, from, at)) ctx.unchanged.push(it.key)
      return ref
    }
    const leaf = decodeTreeNode(from.subarray(at, at + 32), buf.subarray(start, end)) as LeafNode
    return build(ctx, depth, ...mergeLeaf(leaf, items, lo, hi), -1)
  }
  if (tag === undefined || (tag & 1) !== 1 || tag > 7 || end - start < 65) decodeTreeNode(from.subarray(at, at + 32), buf.subarray(start, end))
  const split = splitAt(items, depth, lo, hi)
  const left = split === lo ? undefined : update(ctx, buf, start + 1, depth + 1, items, lo, split)
  const right = split === hi ? undefined : update(ctx, buf, start + 33, depth + 1, items, split, hi)
  return joinStored(ctx, buf, start, tag!, left, right)
}

/** Whether `path` equals the 32 bytes at `bytes[at..)`. */
function equalAt(path: Uint8Array, bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (path[i] !== bytes[at + i]) return false
  return true
}

/**
 * join() of the new subtrees `left` and `right` where given, else the unchanged children of the stored node at
 * `buf[start..)` (tag `tag`). Two non-empty children (the usual case) are encoded from the stored bytes in place.
 */
function joinStored(ctx: UpdateContext, buf: Uint8Array, start: number, tag: number, left: TreeRef | undefined, right: TreeRef | undefined): TreeRef {
  const leftEmpty = left === undefined ? isZeroAt(buf, start + 1) : isEmptyRef(left)
  const rightEmpty = right === undefined ? isZeroAt(buf, start + 33) : isEmptyRef(right)
  if (leftEmpty || rightEmpty) {
    const l = left ?? { hash: buf.subarray(start + 1, start + 33), leaf: (tag & 2) !== 0 }
    const r = right ?? { hash: buf.subarray(start + 33, start + 65), leaf: (tag & 4) !== 0 }
    return join(ctx, l, r)
  }
  const node = encodeInternalAt(
    left?.hash ?? buf, left === undefined ? start + 1 : 0, left === undefined ? (tag & 2) !== 0 : left.leaf,
    right?.hash ?? buf, right === undefined ? start + 33 : 0, right === undefined ? (tag & 4) !== 0 : right.leaf,
  )
  ctx.nodes.push(node)
  return { hash: node.hash, leaf: false }
}

/** The existing leaf (none of the writes in [lo, hi) rewrites or deletes its key) joins them. */
function mergeLeaf(leaf: LeafNode, items: Item[], lo: number, hi: number): [Item[], number, number] {
  const merged = items.slice(lo, hi)
  let at = 0
  while (at < merged.length && compareBytes(merged[at]!.path, leaf.path) < 0) at++
  merged.splice(at, 0, { path: leaf.path, key: leaf.key, value: leaf.value })
  return [merged, 0, merged.length]
}

/**
 * A subtree from scratch holding the live items of [lo, hi) (deletes drop out). Every delete but
 * the one of index `deletesStored` (the key of the leaf this subtree replaces) deletes an absent key.
 */
function build(ctx: UpdateContext, depth: number, items: Item[], lo: number, hi: number, deletesStored: number): TreeRef {
  for (let i = lo; i < hi; i++) {
    if (items[i]!.value !== undefined) continue
    for (let j = i; j < hi; j++) if (items[j]!.value === undefined && j !== deletesStored) ctx.unchanged.push(items[j]!.key)
    const live = items.slice(lo, hi).filter((it) => it.value !== undefined)
    return buildLive(ctx, depth, live, 0, live.length)
  }
  return buildLive(ctx, depth, items, lo, hi)
}

function buildLive(ctx: UpdateContext, depth: number, live: Item[], lo: number, hi: number): TreeRef {
  if (hi === lo) return EMPTY_REF
  if (hi - lo === 1) {
    const it = live[lo]!
    const node = encodeLeaf(it.path, undefined, it.key, it.value!)
    ctx.nodes.push(node)
    return { hash: node.hash, leaf: true }
  }
  const split = splitAt(live, depth, lo, hi)
  return join(ctx, buildLive(ctx, depth + 1, live, lo, split), buildLive(ctx, depth + 1, live, split, hi))
}

/** An internal node over two subtrees, except that a lone leaf (or nothing) moves up. */
function join(ctx: UpdateContext, left: TreeRef, right: TreeRef): TreeRef {
  const leftEmpty = isEmptyRef(left)
  const rightEmpty = isEmptyRef(right)
  if (leftEmpty && rightEmpty) return EMPTY_REF
  if (leftEmpty && right.leaf) return right
  if (rightEmpty && left.leaf) return left
  const node = encodeInternal(left, right)
  ctx.nodes.push(node)
  return { hash: node.hash, leaf: false }
}

/** Index in [lo, hi) of the first item whose path has bit `depth` set (items are sorted by path). */
function splitAt(items: readonly Item[], depth: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (pathBit(items[mid]!.path, depth) === 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
