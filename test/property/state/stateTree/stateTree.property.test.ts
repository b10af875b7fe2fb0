import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { toHex } from '../../../../src/crypto/bytes.ts'
import {
  computeStateProof, computeTreeUpdate, EMPTY_TREE_ROOT, MemoryTreeNodes, StateTreeError, verifyStateProof,
} from '../../../../src/state/stateTree/index.ts'
import type { StateWrite } from '../../../../src/state/stateView.ts'

const arbKey = fc.uint8Array({ minLength: 1, maxLength: 6 })
const arbValue = fc.uint8Array({ minLength: 0, maxLength: 8 })
/** Batches of writes over a small key space, so keys are rewritten and deleted often. */
const arbBatches = fc.array(fc.array(fc.record({ key: arbKey, value: fc.option(arbValue, { nil: undefined }) }), { maxLength: 12 }), { minLength: 1, maxLength: 6 })

/** The last write of each key wins within a batch (a write set names a key once). */
function toWriteSet(batch: StateWrite[]): StateWrite[] {
  const byKey = new Map<string, StateWrite>()
  for (const w of batch) byKey.set(toHex(w.key), w)
  return [...byKey.values()]
}

function applyAll(batches: StateWrite[][]): { nodes: MemoryTreeNodes; root: Uint8Array; state: Map<string, StateWrite> } {
  const nodes = new MemoryTreeNodes()
  const state = new Map<string, StateWrite>()
  let root = EMPTY_TREE_ROOT
  for (const batch of batches) {
    const writes = toWriteSet(batch)
    const update = computeTreeUpdate(nodes, root, writes)
    nodes.add(update.nodes)
    root = update.root
    for (const w of writes) {
      if (w.value === undefined) state.delete(toHex(w.key))
      else state.set(toHex(w.key), w)
    }
  }
  return { nodes, root, state }
}

function rootFromScratch(state: Map<string, StateWrite>): Uint8Array {
  return computeTreeUpdate(new MemoryTreeNodes(), EMPTY_TREE_ROOT, [...state.values()]).root
}

describe('state tree (property)', () => {
  it('the root depends only on the final key set, whatever the history of writes and deletes', () => {
    fc.assert(fc.property(arbBatches, (batches) => {
      const { root, state } = applyAll(batches)
      expect(toHex(root)).toBe(toHex(rootFromScratch(state)))
      if (state.size === 0) expect(toHex(root)).toBe(toHex(EMPTY_TREE_ROOT))
    }), { numRuns: 300 })
  })

  it('names exactly the writes that change nothing: a key set to the value it holds, a deleted key that is absent', () => {
    fc.assert(fc.property(arbBatches, (batches) => {
      const nodes = new MemoryTreeNodes()
      const state = new Map<string, Uint8Array>()
      let root = EMPTY_TREE_ROOT
      for (const batch of batches) {
        const writes = toWriteSet(batch)
        const expected = writes.filter((w) => {
          const held = state.get(toHex(w.key))
          return w.value === undefined ? held === undefined : held !== undefined && toHex(held) === toHex(w.value)
        }).map((w) => toHex(w.key)).sort()
        const update = computeTreeUpdate(nodes, root, writes)
        expect(update.unchanged.map(toHex).sort()).toEqual(expected)
        // Without them the same root: they are exactly the writes a write set can leave out.
        const changing = writes.filter((w) => !expected.includes(toHex(w.key)))
        expect(toHex(computeTreeUpdate(nodes, root, changing).root)).toBe(toHex(update.root))
        nodes.add(update.nodes)
        root = update.root
        for (const w of writes) {
          if (w.value === undefined) state.delete(toHex(w.key))
          else state.set(toHex(w.key), w.value)
        }
      }
    }), { numRuns: 300 })
  })

  it('a reader that finds nodes in place (nodeIn, inside larger buffers) gives the same roots and nodes as node()', () => {
    fc.assert(fc.property(arbBatches, fc.nat(40), (batches, pad) => {
      const byHash = new MemoryTreeNodes()
      // Each node stored `pad` bytes into a buffer with bytes after it too, as a cached page holds its nodes.
      const inPlace = new Map<string, Uint8Array>()
      const found = { start: 0, end: 0 }
      const reader = {
        node: (h: Uint8Array) => byHash.node(h),
        nodeIn: (bytes: Uint8Array, at: number) => {
          const buf = inPlace.get(toHex(bytes.subarray(at, at + 32)))
          if (buf === undefined) return undefined
          found.start = pad
          found.end = buf.length - 7
          return buf
        },
        found,
      }
      let rootA = EMPTY_TREE_ROOT
      let rootB = EMPTY_TREE_ROOT
      for (const batch of batches) {
        const writes = toWriteSet(batch)
        const a = computeTreeUpdate(reader, rootA, writes)
        const b = computeTreeUpdate(byHash, rootB, writes)
        expect(toHex(a.root)).toBe(toHex(b.root))
        expect(a.nodes.map((n) => toHex(n.hash) + toHex(n.bytes))).toEqual(b.nodes.map((n) => toHex(n.hash) + toHex(n.bytes)))
        for (const n of a.nodes) {
          const buf = new Uint8Array(pad + n.bytes.length + 7).fill(0xee)
          buf.set(n.bytes, pad)
          inPlace.set(toHex(n.hash), buf)
        }
        byHash.add(b.nodes)
        rootA = a.root
        rootB = b.root
      }
    }), { numRuns: 200 })
  })

  it('every key, present or absent, has a proof that verifies against the root and gives its value', () => {
    fc.assert(fc.property(arbBatches, fc.array(arbKey, { maxLength: 8 }), (batches, extraKeys) => {
      const { nodes, root, state } = applyAll(batches)
      const keys = [...[...state.values()].map((w) => w.key), ...extraKeys]
      for (const key of keys) {
        const proof = computeStateProof(nodes, root, key)
        verifyStateProof(root, proof)
        const expected = state.get(toHex(key))?.value
        expect(proof.value === undefined ? undefined : toHex(proof.value)).toBe(expected === undefined ? undefined : toHex(expected))
      }
    }), { numRuns: 200 })
  })

  it('a tampered proof (value, sibling, leaf, depth or root) is refused', () => {
    const arbTamper = fc.constantFrom('value', 'drop-value', 'sibling', 'leaf', 'truncate', 'extend', 'root', 'other-key')
    fc.assert(fc.property(arbBatches.filter((b) => b.some((batch) => batch.some((w) => w.value !== undefined))), arbTamper, fc.nat(), (batches, tamper, pick) => {
      const { nodes, root, state } = applyAll(batches)
      const present = [...state.values()]
      fc.pre(present.length > 0)
      const key = present[pick % present.length]!.key
      const proof = computeStateProof(nodes, root, key)
      let checkRoot = root
      const flip = (b: Uint8Array): Uint8Array => { const c = new Uint8Array(b); c[0] = c[0]! ^ 1; return c }
      switch (tamper) {
        case 'value': proof.value = new Uint8Array([...(proof.value ?? []), 7]); break
        case 'drop-value': proof.value = undefined; break
        case 'sibling': fc.pre(proof.siblings.length > 0); proof.siblings[pick % proof.siblings.length] = flip(proof.siblings[pick % proof.siblings.length]!); break
        case 'leaf': proof.leaf = { path: proof.leaf!.path, valueHash: flip(proof.leaf!.valueHash) }; break
        case 'truncate': fc.pre(proof.siblings.length > 0); proof.siblings.pop(); break
        case 'extend': proof.siblings.push(new Uint8Array(32)); break
        case 'root': checkRoot = flip(root); break
        case 'other-key': proof.key = new Uint8Array([...key, 1]); fc.pre(!state.has(toHex(proof.key))); break
      }
      expect(() => verifyStateProof(checkRoot, proof)).toThrow(StateTreeError)
    }), { numRuns: 400 })
  })
})
