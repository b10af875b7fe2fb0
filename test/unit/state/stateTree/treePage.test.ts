import { describe, expect, it } from 'vitest'

import { toHex, utf8 } from '../../../../src/crypto/bytes.ts'
import {
  computeTreeUpdate, decodeTreeNode, decodeTreePage, EMPTY_TREE_ROOT, encodeTreePage, MemoryTreeNodes, PAGE_LEVELS, StateTreeError,
} from '../../../../src/state/stateTree/index.ts'
import { errorCodeOf } from '../../../support/errorCode.ts'

function tree(count: number): { nodes: MemoryTreeNodes; root: Uint8Array } {
  const nodes = new MemoryTreeNodes()
  const update = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, Array.from({ length: count }, (_, i) => ({ key: utf8(`key-${i}`), value: utf8(`value-${i}`.repeat(i % 4)) })))
  nodes.add(update.nodes)
  return { nodes, root: update.root }
}

describe('tree pages', () => {
  it('a page holds its root\'s subtree 4 levels deep (leaves at the 4th), decodes to the same nodes, and reads as its root node', () => {
    const { nodes, root } = tree(500)
    const page = encodeTreePage(root, (h) => nodes.node(h))
    // 500 keys: the top 4 levels are full (15 internal nodes), the 16 subtrees below are the next pages.
    expect(page.nodes.length).toBe(2 ** PAGE_LEVELS - 1)
    expect(page.children.length).toBe(2 ** PAGE_LEVELS)
    const decoded = decodeTreePage(root, page.bytes)
    expect(decoded.whole).toBe(true)
    expect(decoded.nodes.map((n) => [toHex(n.hash), toHex(n.bytes)])).toEqual(page.nodes.map((n) => [toHex(n.hash), toHex(n.bytes)]))
    expect(decoded.children.map((c) => toHex(c.hash))).toEqual(page.children.map((c) => toHex(c.hash)))
    expect(decodeTreeNode(root, page.bytes)).toEqual(decodeTreeNode(root, nodes.node(root)!))
    // Pages from the root down partition the tree: every node in exactly one page, every leaf included.
    const seen = new Map<string, number>()
    const walk = (pageRoot: Uint8Array): void => {
      const p = encodeTreePage(pageRoot, (h) => nodes.node(h))
      for (const n of p.nodes) seen.set(toHex(n.hash), (seen.get(toHex(n.hash)) ?? 0) + 1)
      for (const c of p.children) walk(c.hash)
    }
    walk(root)
    expect([...seen.values()].every((times) => times === 1)).toBe(true)
    expect(seen.size).toBe(nodes.size)
  })

  it('a single stored node (the earlier layout) decodes as a page of that node alone; cut or padded page bytes are CORRUPT_NODE', () => {
    const { nodes, root } = tree(500)
    const single = decodeTreePage(root, nodes.node(root)!)
    expect(single.whole).toBe(false)
    expect(single.nodes.length).toBe(1)
    const page = encodeTreePage(root, (h) => nodes.node(h)).bytes
    expect(errorCodeOf(StateTreeError, () => decodeTreePage(root, page.subarray(0, page.length - 1)))).toBe('CORRUPT_NODE')
    expect(errorCodeOf(StateTreeError, () => decodeTreePage(root, new Uint8Array([...page, 0])))).toBe('CORRUPT_NODE')
    // A node of the page that is not available cannot be encoded.
    expect(errorCodeOf(StateTreeError, () => encodeTreePage(root, (h) => (toHex(h) === toHex(root) ? nodes.node(h) : undefined)))).toBe('CORRUPT_NODE')
  })
})
