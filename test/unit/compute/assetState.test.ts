import { describe, expect, test } from 'vitest'

import { type KvWrite, OUTCOME } from '../../../blocks/schema.ts'
import { computeAppliedState, computeResultHash, computeWriteSet, computeWriteSetHash } from '../../../src/compute/computeResultHash.ts'
import { executeModule, prepareModule, type StateReader } from '../../../src/compute/executeModule.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { loadFixture, readU32le, u32le } from './computeFixtures.ts'

const counter = prepareModule(loadFixture('counter'))
const reader = (snapshot: Map<string, Uint8Array>): StateReader => (key) => snapshot.get(toHex(key))
const key = new TextEncoder().encode('count')

describe('asset state', () => {
  test('the counter persists across two executions when the write set is applied', () => {
    let state = new Map<string, Uint8Array>()
    const first = executeModule(counter, { fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: reader(state) })
    expect(first.outcome).toBe(OUTCOME.ok)
    expect(readU32le(first.output)).toBe(1)
    expect(first.writeSet).toEqual([{ key, value: u32le(1) }])
    expect(first.logs).toEqual(['counted'])
    state = computeAppliedState(state, first.writeSet)

    const second = executeModule(counter, { fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: reader(state) })
    expect(readU32le(second.output)).toBe(2)
    state = computeAppliedState(state, second.writeSet)
    expect(state.get(toHex(key))).toEqual(u32le(2))
  })

  test('without applying the write set, the next execution sees the old state', () => {
    const state = new Map<string, Uint8Array>()
    const a = executeModule(counter, { fn: 'run', input: u32le(5), fuelLimit: 100_000n, state: reader(state) })
    const b = executeModule(counter, { fn: 'run', input: u32le(5), fuelLimit: 100_000n, state: reader(state) })
    expect(readU32le(a.output)).toBe(5)
    expect(readU32le(b.output)).toBe(5)
    expect(b.writeSetHash).toEqual(a.writeSetHash)
  })

  test('a delete is a write with no value, and applying it removes the key', () => {
    const state = new Map([[toHex(key), u32le(9)]])
    const r = executeModule(counter, { fn: 'reset', input: new Uint8Array(), fuelLimit: 100_000n, state: reader(state) })
    expect(r.writeSet).toEqual([{ key, value: undefined }])
    expect(computeAppliedState(state, r.writeSet).has(toHex(key))).toBe(false)
  })

  test('a failed execution commits no writes', () => {
    const r = executeModule(counter, { fn: 'run', input: new Uint8Array(), fuelLimit: 60n, state: reader(new Map()) })
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
    expect(r.writeSet).toEqual([])
    expect(r.writeSetHash).toEqual(computeWriteSetHash([]))
  })

  test('a corrupt stored value makes the guest abort (trap), deterministically', () => {
    const state = new Map([[toHex(key), new Uint8Array(3)]])
    const r = executeModule(counter, { fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: reader(state) })
    expect(r.outcome).toBe(OUTCOME.trap)
    expect(r.reason).toBe('abort(2)')
  })
})

describe('result and write-set hashes', () => {
  test('the write set is sorted by key bytes whatever the write order', () => {
    const w = (k: number[], v?: number[]): KvWrite => ({ key: new Uint8Array(k), value: v && new Uint8Array(v) })
    const m1 = new Map([[toHex(new Uint8Array([2])), w([2], [1])], [toHex(new Uint8Array([1, 0])), w([1, 0])], [toHex(new Uint8Array([1])), w([1], [3])]])
    const m2 = new Map([...m1.entries()].reverse())
    const s1 = computeWriteSet(m1)
    expect(s1.map((x) => [...x.key])).toEqual([[1], [1, 0], [2]])
    expect(computeWriteSetHash(s1)).toEqual(computeWriteSetHash(computeWriteSet(m2)))
  })

  test('result hash depends on outcome and output', () => {
    const out = new Uint8Array([1, 2, 3])
    expect(computeResultHash(0, out)).toEqual(computeResultHash(0, new Uint8Array([1, 2, 3])))
    expect(computeResultHash(0, out)).not.toEqual(computeResultHash(1, out))
    expect(computeResultHash(0, out)).not.toEqual(computeResultHash(0, new Uint8Array([1, 2])))
  })

  test('an execution result carries the hashes of its own outcome, output and write set', () => {
    const r = executeModule(counter, { fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: () => undefined })
    expect(r.resultHash).toEqual(computeResultHash(r.outcome, r.output))
    expect(r.writeSetHash).toEqual(computeWriteSetHash(r.writeSet))
  })
})
