import { compareBytes, equalBytes, hash } from '../../crypto/index.ts'
import type { StateWrite } from '../stateView.ts'
import { StateTreeError } from './errors.ts'
import {
  computeKeyPath, decodeTreeNode, EMPTY_REF, encodeInternal, encodeLeaf, isEmptyRef,
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
  const rootRef = items.length === 0 ? { hash: root, leaf: false } : update(ctx, { hash: root, leaf: false }, 0, dedupe(items))
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

function update(ctx: UpdateContext, ref: TreeRef, depth: number, items: Item[]): TreeRef {
  if (items.length === 0) return ref
  if (isEmptyRef(ref)) return build(ctx, depth, items)
  const bytes = ctx.reader.node(ref.hash)
  if (bytes === undefined) throw new StateTreeError('NOT_LOADED', 'state tree nodes not loaded', { root: ctx.root, keys: ctx.writes.map((w) => w.key) })
  const node = decodeTreeNode(ref.hash, bytes)
  if (node.kind === 'leaf') return build(ctx, depth, mergeLeaf(node, items))
  const split = splitAt(items, depth)
  const left = update(ctx, node.left, depth + 1, items.slice(0, split))
  const right = update(ctx, node.right, depth + 1, items.slice(split))
  return join(ctx, left, right)
}

/** The existing leaf joins the writes unless one of them rewrites or deletes its key. */
function mergeLeaf(leaf: LeafNode, items: Item[]): Item[] {
  if (items.some((it) => equalBytes(it.path, leaf.path))) return items
  const merged = [...items, { path: leaf.path, key: leaf.key, value: leaf.value }]
  return merged.sort((a, b) => compareBytes(a.path, b.path))
}

/** A subtree from scratch holding the live items (deletes drop out). */
function build(ctx: UpdateContext, depth: number, items: Item[]): TreeRef {
  const live = items.filter((it) => it.value !== undefined)
  return buildLive(ctx, depth, live)
}

function buildLive(ctx: UpdateContext, depth: number, live: Item[]): TreeRef {
  if (live.length === 0) return EMPTY_REF
  if (live.length === 1) {
    const it = live[0]!
    const node = encodeLeaf(it.path, hash(it.value!), it.key, it.value!)
    ctx.nodes.push(node)
    return { hash: node.hash, leaf: true }
  }
  const split = splitAt(live, depth)
  return join(ctx, buildLive(ctx, depth + 1, live.slice(0, split)), buildLive(ctx, depth + 1, live.slice(split)))
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

/** Index of the first item whose path has bit `depth` set (items are sorted by path). */
function splitAt(items: readonly Item[], depth: number): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (pathBit(items[mid]!.path, depth) === 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
