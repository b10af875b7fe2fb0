import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { TreeNodeIndex } from '../../../src/chain/TreeNodeIndex.ts'
import { hash, toHex, u32be } from '../../../src/crypto/index.ts'

/** Keys stored as the caller of the index stores them: value v's key is the v-th 32 bytes of an arena. */
function arenaIndex(keys: Uint8Array[], opts: { capacity?: number; seed?: Uint8Array } = {}): { index: TreeNodeIndex; arena: Uint8Array } {
  const arena = new Uint8Array(keys.length * 32)
  keys.forEach((k, i) => arena.set(k, i * 32))
  return { index: new TreeNodeIndex({ bytesOf: () => arena, offsetOf: (v) => v * 32 }, opts), arena }
}

const SEED = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])

describe('TreeNodeIndex: a typed-array hash table from 32-byte hashes to ints', () => {
  it('random inserts, overwrites, count changes and deletes agree with a Map (property)', () => {
    // Few distinct keys, some sharing their first 8 bytes (same home slot and fingerprint: only the full compare tells them apart).
    const keys = Array.from({ length: 64 }, (_, i) => {
      const k = hash(u32be(i))
      if (i % 4 !== 0) k.set(hash(u32be(i - (i % 4))).subarray(0, 8))
      return k
    })
    const op = fc.record({ kind: fc.constantFrom('set', 'count', 'delete', 'get'), key: fc.integer({ min: 0, max: keys.length - 1 }), n: fc.integer({ min: 1, max: 999 }) })
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (ops, seed) => {
      // The arena holds each key once; an entry's value is (its key's number) + 64 * n, so the key is found from any value.
      const arena = new Uint8Array(keys.length * 32)
      keys.forEach((k, i) => arena.set(k, i * 32))
      const index = new TreeNodeIndex({ bytesOf: () => arena, offsetOf: (v) => (v % 64) * 32 }, { seed })
      const model = new Map<number, { value: number; count: number }>()
      for (const { kind, key, n } of ops) {
        const pos = index.find(keys[key]!)
        expect(pos >= 0).toBe(model.has(key))
        if (kind === 'set') {
          const value = key + 64 * n
          if (pos < 0) {
            index.insert(keys[key]!, 0, value)
            model.set(key, { value, count: 1 })
          } else {
            index.setValueAt(pos, value)
            model.get(key)!.value = value
          }
        } else if (kind === 'count' && pos >= 0) {
          index.setCountAt(pos, n)
          model.get(key)!.count = n
        } else if (kind === 'delete' && pos >= 0) {
          index.deleteAt(pos)
          model.delete(key)
        }
        expect(index.size).toBe(model.size)
      }
      for (let k = 0; k < keys.length; k++) {
        const pos = index.find(keys[k]!)
        const want = model.get(k)
        expect(pos < 0 ? undefined : { value: index.valueAt(pos), count: index.countAt(pos) }).toEqual(want)
      }
    }), { numRuns: 150 })
  })

  it('grows past its capacity and keeps every entry; deletes after growth leave no entry unreachable', () => {
    const keys = Array.from({ length: 5_000 }, (_, i) => hash(u32be(i)))
    const { index } = arenaIndex(keys, { seed: SEED })
    keys.forEach((k, i) => index.insert(k, 0, i))
    expect(index.size).toBe(keys.length)
    expect(index.capacity).toBeGreaterThanOrEqual(keys.length)
    for (let i = 0; i < keys.length; i += 2) index.deleteAt(index.find(keys[i]!))
    keys.forEach((k, i) => expect(index.get(k)).toBe(i % 2 === 0 ? -1 : i))
    expect(index.size).toBe(keys.length / 2)
  })

  it('keys read at an offset of a larger buffer (a child hash inside its parent\'s bytes)', () => {
    const keys = [hash(u32be(1)), hash(u32be(2))]
    const { index } = arenaIndex(keys, { seed: SEED })
    index.insert(keys[1]!, 0, 1)
    const parent = new Uint8Array(65)
    parent.set(keys[0]!, 1)
    parent.set(keys[1]!, 33)
    expect(index.get(parent, 1)).toBe(-1)
    expect(index.get(parent, 33)).toBe(1)
  })

  it('attack: hashes ground to share their first 4 bytes do not pile into one cluster (the home slot mixes 8 bytes with a seed)', () => {
    // An attacker grinding keys can make node hashes agree on a few bytes, and with an unseeded table of 2^k slots on k
    // bits: cheap. A table homing on those bytes alone would put all of these in one run that every lookup walks.
    const keys = Array.from({ length: 2_000 }, (_, i) => {
      const k = hash(u32be(i))
      k.set([0xde, 0xad, 0xbe, 0xef], 0)
      return k
    })
    const { index } = arenaIndex(keys)
    keys.forEach((k, i) => index.insert(k, 0, i))
    expect(index.longestCluster()).toBeLessThan(64)
    expect(keys.map((k) => index.get(k))).toEqual(keys.map((_, i) => i))
  })

  it('two indexes with different seeds place the same keys differently (positions are not predictable)', () => {
    const keys = Array.from({ length: 64 }, (_, i) => hash(u32be(i)))
    const a = arenaIndex(keys, { seed: SEED }).index
    const b = arenaIndex(keys, { seed: new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]) }).index
    const positions = (index: TreeNodeIndex): string => toHex(Uint8Array.from(keys.map((k, i) => (index.insert(k, 0, i), index.find(k)))))
    expect(positions(a)).not.toBe(positions(b))
  })
})
