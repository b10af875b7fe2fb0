import { StateTreeError } from './errors.ts'
import { decodeTreeNode, isEmptyRef, isZero, type TreeNodeWrite, type TreeRef } from './treeNode.ts'

/**
 * Tree pages: how the state tree is stored (the roots, proofs and chunks do not depend on it).
 * A page is the subtree under a page root down to PAGE_LEVELS levels further: the root, the
 * nodes 1..PAGE_LEVELS-1 levels below it, and the leaves PAGE_LEVELS levels below it; an
 * internal node PAGE_LEVELS levels below is the root of the next page. Page roots are the tree
 * root and the internal nodes at depths that are multiples of PAGE_LEVELS, so a path of depth d
 * crosses ⌈d / PAGE_LEVELS⌉ pages and a block rewrites one entry per page it touches instead of
 * one per node (Jellyfish's nibble pages over a binary tree).
 *
 * Bytes: the nodes in preorder (left before right), the root first as its node bytes, so a page
 * read as a node decodes as its root. Below the root an internal node is its 65 node bytes and a
 * leaf is u32be length ‖ leaf bytes: the parent's child flags say which comes. Hashes are not
 * stored: the page root's is the key and each node's bytes name its children's.
 */
export const PAGE_LEVELS = 4

/** Whether the child `rel` levels below a page root (rel ≥ 1) is stored in that page. */
export const inPage = (child: TreeRef, rel: number): boolean => !isEmptyRef(child) && (rel < PAGE_LEVELS || (rel === PAGE_LEVELS && child.leaf))

const corrupt = (hash: Uint8Array, why: string): never => {
  throw new StateTreeError('CORRUPT_NODE', `tree page: ${why}`, { hash: Buffer.from(hash).toString('hex') })
}

/** What a page holds: its nodes (root first) and the roots of the pages below it. */
export interface TreePage {
  nodes: TreeNodeWrite[]
  children: TreeRef[]
}

/**
 * The page rooted at `root` (its node bytes read through `nodeBytes`), encoded; `nodes` are views
 * into `bytes`, in the order decodeTreePage gives them. Throws
 * StateTreeError CORRUPT_NODE when a node of the page is not available. Pure.
 */
export function encodeTreePage(root: Uint8Array, nodeBytes: (hash: Uint8Array) => Uint8Array | undefined): TreePage & { bytes: Uint8Array } {
  const nodes: TreeNodeWrite[] = []
  const children: TreeRef[] = []
  let size = 0
  const visit = (hash: Uint8Array, leaf: boolean, rel: number): void => {
    const bytes = nodeBytes(hash) ?? corrupt(hash, 'a node of a rewritten page is not loaded')
    nodes.push({ hash, bytes })
    size += bytes.length + (rel > 0 && leaf ? 4 : 0)
    const tag = bytes[0]!
    if ((tag & 1) === 0) return
    // An internal node's bytes: tag (1 | leftIsLeaf<<1 | rightIsLeaf<<2) ‖ left ‖ right (treeNode.ts).
    child(bytes.subarray(1, 33), (tag & 2) !== 0, rel + 1)
    child(bytes.subarray(33, 65), (tag & 4) !== 0, rel + 1)
  }
  const child = (hash: Uint8Array, leaf: boolean, rel: number): void => {
    if (isZero(hash)) return
    if (rel < PAGE_LEVELS || (rel === PAGE_LEVELS && leaf)) visit(hash, leaf, rel)
    else children.push({ hash, leaf })
  }
  visit(root, false, 0)
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  let at = 0
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!
    const length = n.bytes.length
    if (i > 0 && n.bytes[0] === 0) {
      view.setUint32(at, length)
      at += 4
    }
    bytes.set(n.bytes, at)
    // The page's nodes as views into its bytes (what decodeTreePage would give): a cache keeps one buffer per page.
    nodes[i] = { hash: n.hash, bytes: bytes.subarray(at, at + length) }
    at += length
  }
  return { bytes, nodes, children }
}

/**
 * The nodes of a stored page whose root hash is `root` (views into `bytes`: a caller that keeps
 * some copies them, or keeps the page). A single stored node (the earlier layout, or state-sync chunks) decodes as
 * a page of that node alone with no children listed. Pure.
 */
export function decodeTreePage(root: Uint8Array, bytes: Uint8Array): TreePage & { whole: boolean } {
  if (decodeTreeNode(root, bytes).kind === 'leaf') return { nodes: [{ hash: root, bytes }], children: [], whole: true }
  if (bytes.length === 65) return { nodes: [{ hash: root, bytes }], children: [], whole: false }
  const nodes: TreeNodeWrite[] = []
  const children: TreeRef[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  const take = (hash: Uint8Array, length: number): Uint8Array => {
    if (at + length > bytes.length) corrupt(root, 'it ends inside a node')
    const out = bytes.subarray(at, at + length)
    at += length
    nodes.push({ hash, bytes: out })
    return out
  }
  const visit = (hash: Uint8Array, leaf: boolean, rel: number): void => {
    if (leaf) {
      if (at + 4 > bytes.length) corrupt(root, 'it ends inside a leaf length')
      const length = view.getUint32(at)
      at += 4
      take(hash, length)
      return
    }
    const node = decodeTreeNode(hash, take(hash, 65))
    if (node.kind === 'leaf') return corrupt(root, 'a leaf where an internal node was announced')
    for (const child of [node.left, node.right]) {
      if (inPage(child, rel + 1)) visit(child.hash, child.leaf, rel + 1)
      else if (!isEmptyRef(child)) children.push(child)
    }
  }
  visit(root, false, 0)
  if (at !== bytes.length) corrupt(root, 'bytes left over')
  return { nodes, children, whole: true }
}
