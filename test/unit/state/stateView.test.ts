import { describe, expect, it } from 'vitest'

import { toHex } from '../../../src/crypto/bytes.ts'
import { computeTreeUpdate, EMPTY_TREE_ROOT, MemoryTreeNodes } from '../../../src/state/stateTree/index.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { readRow, type RowCodec } from '../../../src/state/tables.ts'

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

  it('a row of an in-memory table is decoded once per stored value, through overlays too; a new value, a delete, another codec are read afresh', () => {
    let decodes = 0
    const counted = (name: string): RowCodec<{ n: number }> => ({ name, encode: (r) => v(r.n), decode: (b) => { decodes++; return { n: b[0]! } } })
    const codec = counted('counted')
    const row = { key: k(0x2c, 1), codec }
    const s = new MemoryState()
    s.apply([{ key: row.key, value: v(7) }])
    const first = readRow(s, row)
    expect(first).toEqual({ n: 7 })
    expect(readRow(s, row)).toBe(first)
    expect(new StateOverlay(s).read(row)).toBe(first) // each block's transition reads through its own overlay
    expect(decodes).toBe(1)
    s.apply([{ key: row.key, value: v(8) }])
    expect(readRow(s, row)).toEqual({ n: 8 })
    expect(decodes).toBe(2)
    expect(readRow(s, { key: row.key, codec: counted('other') })).toEqual({ n: 8 })
    expect(decodes).toBe(3)
    s.apply([{ key: row.key, value: undefined }])
    expect(readRow(s, row)).toBeUndefined()
  })

  it('a raw row is handed out as its own copy each read', () => {
    const raw: RowCodec<Uint8Array> = { name: 'raw', encode: (r) => r, decode: (b) => b }
    const s = new MemoryState()
    s.apply([{ key: k(0x2b, 1), value: v(5) }])
    const a = readRow(s, { key: k(0x2b, 1), codec: raw })!
    a[0] = 9
    expect(readRow(s, { key: k(0x2b, 1), codec: raw })).toEqual(v(5))
  })

  it('a row a transition wrote is kept decoded when its write set is applied: its next reader gets that object, no decode', () => {
    let decodes = 0
    const codec: RowCodec<{ n: number }> = { name: 'counted', encode: (r) => v(r.n), decode: (b) => { decodes++; return { n: b[0]! } } }
    const row = { key: k(0x2c, 2), codec }
    const s = new MemoryState()
    const overlay = new StateOverlay(s)
    const written = { n: 4 }
    overlay.write(row, written)
    overlay.set(k(0x2c, 3), v(6)) // bytes only: nothing decoded to keep
    s.apply(overlay.writeSet())
    expect(readRow(s, row)).toBe(written)
    expect(readRow(s, { key: k(0x2c, 3), codec })).toEqual({ n: 6 })
    expect(decodes).toBe(1)
    s.apply([{ key: row.key, value: v(5) }]) // a write without its row (a sync, a test): decoded from the bytes
    expect(readRow(s, row)).toEqual({ n: 5 })
    expect(decodes).toBe(2)
  })
})

