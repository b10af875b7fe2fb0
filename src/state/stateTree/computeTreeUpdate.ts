import { compareBytes, equalBytes, hash } from '../../crypto/index.ts'
import type { StateWrite } from '../stateView.ts'
import { StateTreeError } from './errors.ts'
import {
  computeKeyPath, decodeTreeNode, EMPTY_REF, encodeInternal, encodeLeaf, isEmptyRef, isZero,
  type LeafNode, pathBit, type TreeNodeReader, type TreeNodeWrite, type TreeRef,
} from './treeNode.ts'

/** One write, placed by path; `value` undefined deletes. */
interface Item { path: Uint8Array; key: Uint8Array; value: Uint8Array | undefined }

export interface TreeUpdate {
  root: Uint8Array
  /** The nodes the new root needs that the old one did not have (content-addressed: storing one twice is harmless). */
  nodes: TreeNodeWrite[]
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
  const ctx: UpdateContext = { reader, nodes, writes, root }
  const live = dedupe(items)
  const rootRef = live.length === 0 ? { hash: root, leaf: false } : update(ctx, root, 0, live, 0, live.length)
  return { root: rootRef.hash, nodes }
}

interface UpdateContext { reader: TreeNodeReader; nodes: TreeNodeWrite[]; writes: readonly StateWrite[]; root: Uint8Array }

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

/** The subtree at `hash` (not a leaf, or a leaf: read from its bytes) after the items in [lo, hi). */
function update(ctx: UpdateContext, hash: Uint8Array, depth: number, items: Item[], lo: number, hi: number): TreeRef {
  if (isZero(hash)) return build(ctx, depth, items, lo, hi)
  const bytes = ctx.reader.node(hash)
  if (bytes === undefined) throw new StateTreeError('NOT_LOADED', 'state tree nodes not loaded', { root: ctx.root, keys: ctx.writes.map((w) => w.key) })
  const tag = bytes[0]
  if (tag === 0) {
    const leaf = decodeTreeNode(hash, bytes) as LeafNode
    return build(ctx, depth, ...mergeLeaf(leaf, items, lo, hi))
  }
  if (tag === undefined || (tag & 1) !== 1 || tag > 7 || bytes.length < 65) decodeTreeNode(hash, bytes)
  const split = splitAt(items, depth, lo, hi)
  const left = split === lo ? { hash: bytes.subarray(1, 33), leaf: (tag! & 2) !== 0 } : update(ctx, bytes.subarray(1, 33), depth + 1, items, lo, split)
  const right = split === hi ? { hash: bytes.subarray(33, 65), leaf: (tag! & 4) !== 0 } : update(ctx, bytes.subarray(33, 65), depth + 1, items, split, hi)
  return join(ctx, left, right)
}

/** The existing leaf joins the writes in [lo, hi) unless one of them rewrites or deletes its key. */
function mergeLeaf(leaf: LeafNode, items: Item[], lo: number, hi: number): [Item[], number, number] {
  for (let i = lo; i < hi; i++) if (equalBytes(items[i]!.path, leaf.path)) return [items, lo, hi]
  const merged = items.slice(lo, hi)
  let at = 0
  while (at < merged.length && compareBytes(merged[at]!.path, leaf.path) < 0) at++
  merged.splice(at, 0, { path: leaf.path, key: leaf.key, value: leaf.value })
  return [merged, 0, merged.length]
}

/** A subtree from scratch holding the live items of [lo, hi) (deletes drop out). */
function build(ctx: UpdateContext, depth: number, items: Item[], lo: number, hi: number): TreeRef {
  for (let i = lo; i < hi; i++) {
    if (items[i]!.value !== undefined) continue
    const live = items.slice(lo, hi).filter((it) => it.value !== undefined)
    return buildLive(ctx, depth, live, 0, live.length)
  }
  return buildLive(ctx, depth, items, lo, hi)
}

function buildLive(ctx: UpdateContext, depth: number, live: Item[], lo: number, hi: number): TreeRef {
  if (hi === lo) return EMPTY_REF
  if (hi - lo === 1) {
    const it = live[lo]!
    const node = encodeLeaf(it.path, hash(it.value!), it.key, it.value!)
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
