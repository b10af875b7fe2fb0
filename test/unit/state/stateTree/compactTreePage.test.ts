import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { toHex, utf8 } from '../../../../src/crypto/bytes.ts'
import { compactTreePage, expandTreePage } from '../../../../src/state/stateTree/compactTreePage.ts'
import { computeTreeUpdate, EMPTY_TREE_ROOT, encodeTreePage, MemoryTreeNodes, StateTreeError } from '../../../../src/state/stateTree/index.ts'
import { errorCodeOf } from '../../../support/errorCode.ts'

/** Every page of the tree at `root`, from the root down. */
function pagesOf(nodes: MemoryTreeNodes, root: Uint8Array): { root: Uint8Array; bytes: Uint8Array }[] {
  const out: { root: Uint8Array; bytes: Uint8Array }[] = []
  const walk = (pageRoot: Uint8Array): void => {
    const page = encodeTreePage(pageRoot, (h) => nodes.node(h))
    out.push({ root: pageRoot, bytes: page.bytes })
    for (const c of page.children) walk(c.hash)
  }
  walk(root)
  return out
}

describe('compact tree pages', () => {
  it('every page of random trees (one key, deletes, values of any length) expands back to its page bytes, and is smaller', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.integer({ min: 0, max: 3000 }), value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }) }), { minLength: 1, maxLength: 400 }), (writes) => {
        const nodes = new MemoryTreeNodes()
        const update = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, writes.map((w) => ({ key: utf8(`k${w.key}`), value: w.value })))
        nodes.add(update.nodes)
        if (toHex(update.root) === toHex(EMPTY_TREE_ROOT)) return
        for (const page of pagesOf(nodes, update.root)) {
          const compact = compactTreePage(page.bytes)
          expect(compact.length).toBeLessThan(page.bytes.length)
          expect(toHex(expandTreePage(page.root, compact))).toBe(toHex(page.bytes))
        }
      }),
      { numRuns: 60 },
    )
  })

  it('a 1M-key-like bottom page shrinks about 3x', () => {
    const nodes = new MemoryTreeNodes()
    // Account-sized leaves: a 33-byte key, a ~12-byte value.
    const update = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, Array.from({ length: 4_000 }, (_, i) => ({ key: new Uint8Array(33).fill(i % 251).map((b, j) => (j < 4 ? (i >> (8 * j)) & 0xff : b)), value: new Uint8Array(12).fill(1) })))
    nodes.add(update.nodes)
    let page = 0
    let compact = 0
    for (const p of pagesOf(nodes, update.root)) {
      page += p.bytes.length
      compact += compactTreePage(p.bytes).length
    }
    expect(compact * 2.5).toBeLessThan(page)
  })

  it('cut, padded, retagged or rehashed compact bytes are CORRUPT_NODE, never a wrong page', () => {
    const nodes = new MemoryTreeNodes()
    const update = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, Array.from({ length: 500 }, (_, i) => ({ key: utf8(`key-${i}`), value: utf8(`value-${i}`) })))
    nodes.add(update.nodes)
    const [top, next] = pagesOf(nodes, update.root)
    const compact = compactTreePage(top!.bytes)
    const bad = [compact.subarray(0, compact.length - 1), new Uint8Array([...compact, 0]), new Uint8Array([0x7f, ...compact.subarray(1)])]
    for (let i = 0; i < compact.length; i += 7) {
      const flipped = compact.slice()
      flipped[i]! ^= 1
      bad.push(flipped)
    }
    for (const bytes of bad) expect(errorCodeOf(StateTreeError, () => expandTreePage(top!.root, bytes))).toBe('CORRUPT_NODE')
    // A good page under another page's key.
    expect(errorCodeOf(StateTreeError, () => expandTreePage(next!.root, compact))).toBe('CORRUPT_NODE')
  })
})
