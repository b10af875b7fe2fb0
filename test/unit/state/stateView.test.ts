import { describe, expect, it } from 'vitest'

import { toHex } from '../../../src/crypto/bytes.ts'
import { computeTreeUpdate, EMPTY_TREE_ROOT, MemoryTreeNodes } from '../../../src/state/stateTree/index.ts'
import { MemoryState } from '../../../src/state/stateView.ts'

const k = (...bytes: number[]) => new Uint8Array(bytes)
const v = (n: number) => new Uint8Array([n])

describe('MemoryState', () => {
  it('scans one table by prefix, in key order, and all tables for an empty prefix; deletes leave the table', () => {
    const s = new MemoryState()
    s.apply([{ key: k(2, 9), value: v(1) }, { key: k(1, 5), value: v(2) }, { key: k(2, 1, 7), value: v(3) }, { key: k(2, 1), value: v(4) }, { key: k(3), value: v(5) }])
    expect(s.scan(k(2)).map((w) => toHex(w.key))).toEqual(['0x0201', '0x020107', '0x0209'])
    expect(s.scan(k(2, 1)).map((w) => toHex(w.key))).toEqual(['0x0201', '0x020107'])
    expect(s.scan(k(4))).toEqual([])
    expect(s.scan(k()).map((w) => toHex(w.key))).toEqual(['0x0105', '0x0201', '0x020107', '0x0209', '0x03'])
    s.apply([{ key: k(2, 1), value: undefined }])
    expect(s.size).toBe(4)
    expect(s.get(k(2, 1))).toBeUndefined()
  })

  it('with its own tree, its root is the tree root of the values it holds', () => {
    const s = new MemoryState()
    s.apply([{ key: k(1, 1), value: v(1) }, { key: k(1, 2), value: v(2) }])
    s.apply([{ key: k(1, 1), value: undefined }])
    expect(toHex(s.root)).toBe(toHex(computeTreeUpdate(new MemoryTreeNodes(), EMPTY_TREE_ROOT, [{ key: k(1, 2), value: v(2) }]).root))
  })
})
