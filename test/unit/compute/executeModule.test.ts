import { createHash } from 'node:crypto'

import { describe, expect, test } from 'vitest'

import { OUTCOME } from '../../../blocks/schema.ts'
import { executeModule, type ExecutionResult, type PreparedModule, prepareModule } from '../../../src/compute/executeModule.ts'
import { evalExpression, loadFixture, matmulChecksum, noState, readU32le, sievePrimes, u32le } from './computeFixtures.ts'

const prepared = new Map<string, PreparedModule>()
function run(name: string, input: Uint8Array, fuelLimit = 50_000_000n, state = noState): ExecutionResult {
  let p = prepared.get(name)
  if (p === undefined) { p = prepareModule(loadFixture(name)); prepared.set(name, p) }
  return executeModule(p, { fn: 'run', input, fuelLimit, state })
}
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('fixture outputs are correct', () => {
  test('sha256 fixture matches node:crypto for empty, one-block, boundary and multi-block inputs', () => {
    for (const len of [0, 3, 55, 56, 63, 64, 65, 1000, 4097]) {
      const input = new Uint8Array(len).map((_, i) => (i * 131 + len) & 0xff)
      const r = run('sha256', input)
      expect(r.outcome).toBe(OUTCOME.ok)
      expect(Buffer.from(r.output).toString('hex')).toBe(createHash('sha256').update(input).digest('hex'))
    }
  })

  test('sha256 built with bulk-memory and sign-ext gives the same digest', () => {
    const input = text('the quick brown fox jumps over the lazy dog')
    const r = run('sha256-bulk', input)
    expect(Buffer.from(r.output).toString('hex')).toBe(createHash('sha256').update(input).digest('hex'))
  })

  test('prime sieve counts primes and finds the largest one', () => {
    for (const n of [2, 10, 97, 1000, 65_536]) {
      const r = run('sieve', u32le(n))
      const want = sievePrimes(n)
      expect(r.outcome).toBe(OUTCOME.ok)
      expect([readU32le(r.output, 0), readU32le(r.output, 4)]).toEqual([want.count, want.last])
    }
  })

  test('matrix multiply checksum matches a JS reference', () => {
    for (const n of [1, 7, 32]) {
      const r = run('matmul', u32le(n))
      const want = matmulChecksum(n)
      expect([readU32le(r.output, 0), readU32le(r.output, 4)]).toEqual([want.sum, want.corner])
    }
  })

  test('expression parser evaluates, wraps at 64 bits and reports errors', () => {
    for (const src of ['1+2*(3-4)', '  -7 % 3 ', '9223372036854775807 + 1', '((((42))))', '10/0', '1+', '(1', 'x', '100000*100000*100000*100000', '-(-(-5))*2']) {
      const want = evalExpression(src)
      const r = run('parser', text(src))
      expect(r.outcome).toBe(OUTCOME.ok)
      expect(decode(r.output)).toBe(want === undefined ? 'error' : want.toString())
    }
  })

  test('fib fixture returns fib(n)', () => {
    const r = run('fib', u32le(20))
    expect(new DataView(r.output.buffer, r.output.byteOffset).getBigUint64(0, true)).toBe(6765n)
  })

  test('bounded recursion returns its depth', () => {
    const r = run('recursion', u32le(500))
    expect(r.outcome).toBe(OUTCOME.ok)
    expect(readU32le(r.output)).toBe(500)
  })
})

describe('determinism', () => {
  test('fuel, output and hashes are identical across 3 runs of every fixture', () => {
    const cases: [string, Uint8Array][] = [['sha256', text('abc'.repeat(300))], ['sieve', u32le(5000)], ['matmul', u32le(16)], ['parser', text('1+2*3-(4%3)')], ['fib', u32le(15)]]
    for (const [name, input] of cases) {
      const runs = [0, 1, 2].map(() => run(name, input))
      expect(runs[0]!.outcome).toBe(OUTCOME.ok)
      expect(runs[0]!.fuelUsed).toBeGreaterThan(0n)
      for (const r of runs.slice(1)) {
        expect(r.fuelUsed).toBe(runs[0]!.fuelUsed)
        expect(r.resultHash).toEqual(runs[0]!.resultHash)
        expect(r.output).toEqual(runs[0]!.output)
      }
    }
  })

  test('infinite loop ends outOfFuel with used = limit, every time', () => {
    for (let i = 0; i < 3; i++) {
      const r = run('loop', new Uint8Array(), 200_000n)
      expect(r.outcome).toBe(OUTCOME.outOfFuel)
      expect(r.fuelUsed).toBe(200_000n)
      expect(r.output.length).toBe(0)
    }
  })

  test('memory bomb ends as a memory limit with the same fuel every time', () => {
    const runs = [0, 1, 2].map(() => run('membomb', new Uint8Array(), 100_000_000n))
    for (const r of runs) {
      expect(r.outcome).toBe(OUTCOME.limit)
      expect(r.reason).toMatch(/memory.grow was denied/)
      expect(r.fuelUsed).toBe(100_000_000n)
    }
  })

  test('memory bomb with too little fuel for its pages runs out of fuel instead', () => {
    const r = run('membomb', new Uint8Array(), 100_000n)
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
  })

  test('unbounded recursion hits the instrumented call-depth limit with identical fuel', () => {
    const runs = [0, 1, 2].map(() => run('recursion', u32le(0xffff_ffff)))
    for (const r of runs) {
      expect(r.outcome).toBe(OUTCOME.limit)
      expect(r.reason).toMatch(/call depth above 1000/)
      expect(r.fuelUsed).toBe(runs[0]!.fuelUsed)
    }
    expect(runs[0]!.fuelUsed).toBeLessThan(50_000_000n)
  })

  test('a lower call-depth limit binds earlier', () => {
    const p = prepareModule(loadFixture('recursion'), { ...prepareModule(loadFixture('recursion')).limits, maxCallDepth: 50 })
    expect(executeModule(p, { fn: 'run', input: u32le(40), fuelLimit: 1_000_000n, state: noState }).outcome).toBe(OUTCOME.ok)
    expect(executeModule(p, { fn: 'run', input: u32le(60), fuelLimit: 1_000_000n, state: noState }).outcome).toBe(OUTCOME.limit)
  })
})

describe('outcomes for bad calls', () => {
  test('a missing export is invalid with zero fuel', () => {
    const r = executeModule(prepareModule(loadFixture('sha256')), { fn: 'nope', input: new Uint8Array(), fuelLimit: 1000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.invalid)
    expect(r.fuelUsed).toBe(0n)
  })

  test('input above the limit is a limit outcome before any code runs', () => {
    const p = prepareModule(loadFixture('sha256'), { ...prepareModule(loadFixture('sha256')).limits, maxInputBytes: 8 })
    const r = executeModule(p, { fn: 'run', input: new Uint8Array(9), fuelLimit: 1_000_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.limit)
    expect(r.fuelUsed).toBe(0n)
  })

  test('output above the limit ends with a limit outcome', () => {
    const p = prepareModule(loadFixture('sha256'), { ...prepareModule(loadFixture('sha256')).limits, maxOutputBytes: 16 })
    const r = executeModule(p, { fn: 'run', input: text('abc'), fuelLimit: 1_000_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.limit)
    expect(r.reason).toMatch(/output/)
  })

  test('abort from the guest is a trap that keeps the exact fuel used', () => {
    const r1 = run('sieve', new Uint8Array(2)) // short input: the fixture calls abort(1)
    const r2 = run('sieve', new Uint8Array(2))
    expect(r1.outcome).toBe(OUTCOME.trap)
    expect(r1.reason).toBe('abort(1)')
    expect(r1.fuelUsed).toBe(r2.fuelUsed)
    expect(r1.fuelUsed).toBeLessThan(1000n)
  })

  test('a fuel limit above 2^46 is refused (fuel shares the meter with 16 depth bits)', () => {
    expect(run('sha256', new Uint8Array(), 1n << 46n).outcome).toBe(OUTCOME.ok)
    expect(() => run('sha256', new Uint8Array(), (1n << 46n) + 1n)).toThrow(/fuel limit/)
  })
})
