import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import {
  type BoundaryNode, computeStateChunk, computeTreeUpdate, decodeTreeNode, EMPTY_TREE_ROOT, MAX_PATH, MemoryTreeNodes,
  resolveBoundaryNodes, type StateChunk, StateTreeError, type TreeNodeWrite, verifyStateChunk,
} from '../../../../src/state/stateTree/index.ts'
import { isEmptyRef, type TreeRef } from '../../../../src/state/stateTree/treeNode.ts'
import type { StateWrite } from '../../../../src/state/stateView.ts'

const arbKey = fc.uint8Array({ minLength: 1, maxLength: 6 })
const arbValue = fc.uint8Array({ minLength: 0, maxLength: 40 })
const arbBatches = fc.array(fc.array(fc.record({ key: arbKey, value: fc.option(arbValue, { nil: undefined }) }), { maxLength: 30 }), { minLength: 1, maxLength: 4 })

function buildTree(batches: StateWrite[][]): { nodes: MemoryTreeNodes; root: Uint8Array } {
  const nodes = new MemoryTreeNodes()
  let root = EMPTY_TREE_ROOT
  for (const batch of batches) {
    const byKey = new Map<string, StateWrite>()
    for (const w of batch) byKey.set(toHex(w.key), w)
    const update = computeTreeUpdate(nodes, root, [...byKey.values()])
    nodes.add(update.nodes)
    root = update.root
  }
  return { nodes, root }
}

const reader = (nodes: MemoryTreeNodes) => async (h: Uint8Array) => nodes.node(h)

/** Every node reachable from `root`, by hex hash → hex bytes. */
function reachable(nodes: MemoryTreeNodes, root: Uint8Array): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (ref: TreeRef): void => {
    if (isEmptyRef(ref)) return
    const bytes = nodes.node(ref.hash)!
    out.set(toHex(ref.hash), toHex(bytes))
    const node = decodeTreeNode(ref.hash, bytes)
    if (node.kind === 'internal') {
      walk(node.left)
      walk(node.right)
    }
  }
  walk({ hash: root, leaf: false })
  return out
}

/** Syncs the whole tree in `ranges` parallel key ranges of small chunks; returns the stored nodes. */
async function syncAll(nodes: MemoryTreeNodes, root: Uint8Array, ranges: number, maxBytes: number): Promise<Map<string, string>> {
  const stored = new Map<string, string>()
  const boundary = new Map<string, BoundaryNode>()
  const step = (MAX_PATH + 1n) / BigInt(ranges)
  for (let r = 0; r < ranges; r++) {
    let start = step * BigInt(r)
    const limit = r === ranges - 1 ? MAX_PATH : step * BigInt(r + 1) - 1n
    for (;;) {
      const chunk = await computeStateChunk(reader(nodes), root, start, limit, maxBytes)
      const verified = verifyStateChunk(root, chunk, start, limit)
      for (const n of verified.nodes) stored.set(toHex(n.hash), toHex(n.bytes))
      for (const b of verified.boundary) boundary.set(toHex(b.hash), b)
      if (chunk.last) break
      start = BigInt(toHex(chunk.end)) + 1n
    }
  }
  const resolved: TreeNodeWrite[] = resolveBoundaryNodes([...boundary.values()], (h) => {
    const bytes = stored.get(toHex(h))
    return bytes === undefined ? undefined : decodeTreeNode(h, Buffer.from(bytes.slice(2), 'hex')).kind
  })
  for (const n of resolved) stored.set(toHex(n.hash), toHex(n.bytes))
  return stored
}

describe('state chunks with range proofs (property)', () => {
  it('chunks of any size over any split rebuild exactly the nodes of the tree, flags included', async () => {
    await fc.assert(fc.asyncProperty(arbBatches, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 200 }), async (batches, ranges, maxBytes) => {
      const { nodes, root } = buildTree(batches)
      const stored = await syncAll(nodes, root, ranges, maxBytes)
      expect(stored).toEqual(reachable(nodes, root))
    }), { numRuns: 200 })
  })

  it('refuses a chunk with a changed value, a dropped leaf, an extra leaf or a changed proof', async () => {
    await fc.assert(fc.asyncProperty(arbBatches, fc.integer({ min: 20, max: 200 }), fc.nat(), fc.constantFrom('value', 'drop', 'extra', 'proof', 'end'), async (batches, maxBytes, pick, attack) => {
      const { nodes, root } = buildTree(batches)
      const limit = MAX_PATH
      const chunk = await computeStateChunk(reader(nodes), root, 0n, limit, maxBytes)
      const tampered: StateChunk = structuredClone(chunk)
      switch (attack) {
        case 'value': {
          if (tampered.leaves.length === 0) return
          const leaf = tampered.leaves[pick % tampered.leaves.length]!
          leaf.value = new Uint8Array([...leaf.value, 1])
          break
        }
        case 'drop':
          if (tampered.leaves.length === 0) return
          tampered.leaves.splice(pick % tampered.leaves.length, 1)
          break
        case 'extra': {
          // A key whose path lies inside the chunk's range, not in the tree.
          const end = BigInt(toHex(chunk.end))
          let extra: Uint8Array | undefined
          for (let i = 0; i < 2000 && extra === undefined; i++) {
            const key = utf8(`extra-${pick}-${i}`)
            if (BigInt(toHex(hash(key))) <= end && nodes.node(hash(key)) === undefined) extra = key
          }
          if (extra === undefined) return
          tampered.leaves.push({ key: extra, value: new Uint8Array([7]) })
          tampered.leaves.sort((a, b) => (BigInt(toHex(hash(a.key))) < BigInt(toHex(hash(b.key))) ? -1 : 1))
          break
        }
        case 'proof': {
          const item = tampered.proof.find((p) => p.type === 'hash' || p.type === 'leaf')
          if (item === undefined) return
          if (item.type === 'hash') item.hash[pick % 32]! ^= 1
          if (item.type === 'leaf') item.valueHash[pick % 32]! ^= 1
          break
        }
        case 'end': {
          // Claims the range is complete after its first leaves: hides the rest.
          if (chunk.last) return
          tampered.last = true
          tampered.end = new Uint8Array(32).fill(0xff)
          break
        }
      }
      expect(() => verifyStateChunk(root, tampered, 0n, limit)).toThrow(StateTreeError)
    }), { numRuns: 300 })
  })
})
