import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import { OUTCOME } from '../../../blocks/schema.ts'
import { type ComputePool, createComputePool } from '../../../src/compute/computePool.ts'
import { computeAppliedState } from '../../../src/compute/computeResultHash.ts'
import { ComputeError } from '../../../src/compute/errors.ts'
import { executeModule, prepareModule } from '../../../src/compute/executeModule.ts'
import { WasmWriter } from '../../../src/compute/instrument/wasmBytes.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { loadFixture, noState, readU32le, u32le } from './computeFixtures.ts'

let pool: ComputePool
beforeAll(() => { pool = createComputePool({ workers: 2, timeoutMs: 20_000 }) })
afterAll(async () => { await pool.close() })

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('compute pool', () => {
  test('fuel is identical across the workers of the pool and equal to an in-process run', async () => {
    const code = loadFixture('parser')
    const input = text('(1+2)*3-4/5+6%7*(8-9)')
    const local = executeModule(prepareModule(code), { fn: 'run', input, fuelLimit: 1_000_000n, state: noState })
    const runs = await Promise.all(Array.from({ length: 6 }, () => pool.execute({ assetId: 'parser', code, kind: 'module', fn: 'run', input, fuelLimit: 1_000_000n, state: noState })))
    for (const r of runs) {
      expect(r.outcome).toBe(OUTCOME.ok)
      expect(r.fuelUsed).toBe(local.fuelUsed)
      expect(r.resultHash).toEqual(local.resultHash)
    }
  })

  test('the infinite loop and the recursion end the same way in every worker', async () => {
    const loop = loadFixture('loop')
    const rec = loadFixture('recursion')
    const runs = await Promise.all([0, 1, 2, 3].map((i) => i % 2
      ? pool.execute({ assetId: 'loop', code: loop, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 300_000n, state: noState })
      : pool.execute({ assetId: 'recursion', code: rec, kind: 'module', fn: 'run', input: u32le(0xffff_ffff), fuelLimit: 300_000n, state: noState })))
    expect(runs.map((r) => r.outcome)).toEqual([OUTCOME.limit, OUTCOME.outOfFuel, OUTCOME.limit, OUTCOME.outOfFuel])
    expect(runs[0]!.fuelUsed).toBe(runs[2]!.fuelUsed)
    expect(runs[1]!.fuelUsed).toBe(300_000n)
  })

  test('state reads cross to the caller snapshot, and the counter persists through applied write sets', async () => {
    const code = loadFixture('counter')
    let state = new Map<string, Uint8Array>()
    const reads: string[] = []
    for (const want of [1, 2, 3]) {
      const snapshot = state
      const r = await pool.execute({ assetId: 'counter', code, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: (k) => { reads.push(new TextDecoder().decode(k)); return snapshot.get(toHex(k)) } })
      expect(readU32le(r.output)).toBe(want)
      state = computeAppliedState(state, r.writeSet)
    }
    expect(reads).toEqual(['count', 'count', 'count'])
  })

  test('executions are isolated: concurrent counters on separate snapshots do not see each other', async () => {
    const code = loadFixture('counter')
    const snap = (n: number): Map<string, Uint8Array> => new Map([[toHex(text('count')), u32le(n)]])
    const states = [snap(10), snap(20), snap(30), snap(40)]
    const runs = await Promise.all(states.map((s) => pool.execute({ assetId: 'counter', code, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: (k) => s.get(toHex(k)) })))
    expect(runs.map((r) => readU32le(r.output))).toEqual([11, 21, 31, 41])
  })

  test('a throwing state reader fails the execution with a typed error, and the pool keeps working', async () => {
    const code = loadFixture('counter')
    await expect(pool.execute({ assetId: 'counter', code, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: () => { throw new Error('db down') } })).rejects.toBeInstanceOf(ComputeError)
    const r = await pool.execute({ assetId: 'counter', code, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.ok)
  })

  test('code refused by the feature policy is an invalid outcome at execution and a typed error at deploy', async () => {
    const simd = loadFixture('simd')
    await expect(pool.deploy('simd', simd, 'module')).rejects.toMatchObject({ code: 'UNSUPPORTED_FEATURE' })
    const r = await pool.execute({ assetId: 'simd', code: simd, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 1000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.invalid)
    expect(r.fuelUsed).toBe(0n)
  })

  test('components run in the pool with the same fuel in every worker', async () => {
    const code = loadFixture('calc.component')
    await pool.deploy('calc', code, 'component')
    const runs = await Promise.all([0, 1, 2, 3].map(() => pool.execute({ assetId: 'calc', code, kind: 'component', fn: 'collatz', input: text('[97]'), fuelLimit: 1_000_000n, state: noState })))
    for (const r of runs) {
      expect(new TextDecoder().decode(r.output)).toBe('118')
      expect(r.fuelUsed).toBe(runs[0]!.fuelUsed)
    }
  })

  test('worker stacks hold the depth limit even for frames of ~2000 i64 locals', async () => {
    // rec(n) keeps 1990 live i64 locals per frame and recurses 100000 deep: the instrumented
    // depth limit (1000) must end it, never V8's stack overflow (measured: ~16 KB per frame).
    const n = 1990
    const body = new WasmWriter().u32(1).u32(n).u8(0x7e)
    for (let i = 0; i < n; i++) body.u8(0x20).u32(Math.max(i, 1)).u8(0x42).sleb(BigInt(i)).u8(0x7c).u8(0x21).u32(i + 1)
    body.u8(0x20).u32(0).u8(0x45).u8(0x04).u8(0x7e).u8(0x20).u32(n).u8(0x05)
    body.u8(0x20).u32(0).u8(0x41).sleb(1n).u8(0x6b).u8(0x10).u32(0).u8(0x20).u32(n >> 1).u8(0x7c).u8(0x0b).u8(0x0b)
    const run = new WasmWriter().u32(0).u8(0x41).sleb(100_000n).u8(0x10).u32(0).u8(0x1a).u8(0x0b)
    const sec = (id: number, w: WasmWriter): WasmWriter => new WasmWriter().u8(id).sized(w)
    const mod = new WasmWriter().bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
    mod.bytes(sec(1, new WasmWriter().u32(2).u8(0x60).u32(1).u8(0x7f).u32(1).u8(0x7e).u8(0x60).u32(0).u32(0)).finish())
    mod.bytes(sec(3, new WasmWriter().u32(2).u32(0).u32(1)).finish())
    mod.bytes(sec(7, new WasmWriter().u32(1).name('run').u8(0).u32(1)).finish())
    mod.bytes(sec(10, new WasmWriter().u32(2).sized(body).sized(run)).finish())
    const code = mod.finish().slice()
    const runs = await Promise.all([0, 1].map(() => pool.execute({ assetId: 'bigframe', code, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 1n << 40n, state: noState })))
    for (const r of runs) {
      expect(r.outcome).toBe(OUTCOME.limit)
      expect(r.reason).toMatch(/call depth above 1000/)
      expect(r.fuelUsed).toBe(runs[0]!.fuelUsed)
    }
  })

  test('component state reads cross from the worker to the caller snapshot', async () => {
    const code = loadFixture('tally.component')
    const state = new Map([[toHex(text('tally')), u32le(40)]])
    const r = await pool.execute({ assetId: 'tally', code, kind: 'component', fn: 'bump', input: text('[2]'), fuelLimit: 100_000n, state: (k) => state.get(toHex(k)) })
    expect(new TextDecoder().decode(r.output)).toBe('42')
    expect(r.writeSet).toEqual([{ key: text('tally'), value: u32le(42) }])
  })

  test('a worker that loaded too many components is replaced and the pool carries on', async () => {
    const small = createComputePool({ workers: 1, recycleAfterComponents: 1 })
    try {
      const calc = loadFixture('calc.component')
      for (const n of [5, 6, 7]) {
        const r = await small.execute({ assetId: 'calc', code: calc, kind: 'component', fn: 'add', input: text(`[${n}, 1]`), fuelLimit: 10_000n, state: noState })
        expect(new TextDecoder().decode(r.output)).toBe(String(n + 1))
      }
    } finally {
      await small.close()
    }
  })

  test("the backstop times the job, not the worker's boot: a job sent before the worker loaded is not a TIMEOUT", async () => {
    // Loading a worker's code takes ~0.3-1.5 s (tsx, the runtimes); a backstop shorter than that
    // failed the first job after every (re)spawn on a busy host.
    const small = createComputePool({ workers: 1, timeoutMs: 200 })
    try {
      const r = await small.execute({ assetId: 'loop', code: loadFixture('loop'), kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 1000n, state: noState })
      expect(r.outcome).toBe(OUTCOME.outOfFuel)
    } finally {
      await small.close()
    }
  })

  test('the wall-clock backstop kills a stuck worker with TIMEOUT and the pool recovers', async () => {
    const small = createComputePool({ workers: 1, timeoutMs: 1500 })
    try {
      const loop = loadFixture('loop')
      await expect(small.execute({ assetId: 'loop', code: loop, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 1n << 46n, state: noState })).rejects.toMatchObject({ code: 'TIMEOUT' })
      const r = await small.execute({ assetId: 'loop', code: loop, kind: 'module', fn: 'run', input: new Uint8Array(), fuelLimit: 1000n, state: noState })
      expect(r.outcome).toBe(OUTCOME.outOfFuel)
    } finally {
      await small.close()
    }
  })
})
