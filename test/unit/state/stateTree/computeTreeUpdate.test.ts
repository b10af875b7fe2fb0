import { describe, expect, it } from 'vitest'

import { toHex, utf8 } from '../../../../src/crypto/bytes.ts'
import { computeStateProof, computeTreeUpdate, EMPTY_TREE_ROOT, MemoryTreeNodes, StateTreeError, verifyStateProof } from '../../../../src/state/stateTree/index.ts'

const write = (key: string, value?: string) => ({ key: utf8(key), value: value === undefined ? undefined : utf8(value) })

describe('computeTreeUpdate', () => {
  it('an empty write set keeps the root; deleting every key gives the empty root', () => {
    const nodes = new MemoryTreeNodes()
    const a = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, [write('a', '1'), write('b', '2'), write('c', '3')])
    nodes.add(a.nodes)
    expect(computeTreeUpdate(nodes, a.root, []).root).toEqual(a.root)
    const gone = computeTreeUpdate(nodes, a.root, [write('a'), write('b'), write('c')])
    expect(toHex(gone.root)).toBe(toHex(EMPTY_TREE_ROOT))
  })

  it('a value change changes the root, and changing it back restores it', () => {
    const nodes = new MemoryTreeNodes()
    const a = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, [write('a', '1'), write('b', '2')])
    nodes.add(a.nodes)
    const b = computeTreeUpdate(nodes, a.root, [write('a', '9')])
    nodes.add(b.nodes)
    expect(toHex(b.root)).not.toBe(toHex(a.root))
    expect(toHex(computeTreeUpdate(nodes, b.root, [write('a', '1')]).root)).toBe(toHex(a.root))
  })

  it('names the written keys and the root when a node on their paths is not loaded', () => {
    const full = new MemoryTreeNodes()
    const a = computeTreeUpdate(full, EMPTY_TREE_ROOT, [write('a', '1'), write('b', '2')])
    const empty = new MemoryTreeNodes()
    try {
      computeTreeUpdate(empty, a.root, [write('c', '3')])
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(StateTreeError)
      if (!(e instanceof StateTreeError) || e.code !== 'NOT_LOADED') throw e
      expect(e.details.keys.map(toHex)).toEqual([toHex(utf8('c'))])
      expect(toHex(e.details.root!)).toBe(toHex(a.root))
    }
  })

  it('a proof of an absent key verifies with no value, and claiming a value for it fails', () => {
    const nodes = new MemoryTreeNodes()
    const a = computeTreeUpdate(nodes, EMPTY_TREE_ROOT, Array.from({ length: 50 }, (_, i) => write(`k${i}`, `v${i}`)))
    nodes.add(a.nodes)
    const proof = computeStateProof(nodes, a.root, utf8('missing'))
    expect(proof.value).toBeUndefined()
    verifyStateProof(a.root, proof)
    expect(() => verifyStateProof(a.root, { ...proof, value: utf8('v1') })).toThrow(StateTreeError)
  })
})
