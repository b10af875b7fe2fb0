import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

import { OUTCOME } from '../../../blocks/schema.ts'
import { executeModule, type ExecutionResult, type PreparedModule, prepareModule } from '../../../src/compute/executeModule.ts'
import { WasmWriter } from '../../../src/compute/instrument/wasmBytes.ts'
import { WA } from '../../../src/compute/wasmApi.ts'
import { evalExpression, loadFixture, u32le } from '../../unit/compute/computeFixtures.ts'

// ---- random small programs, assembled directly as WASM bytecode ----
// run() mixes arithmetic (incl. sign-ext and float round trips), bounded loops, if/else,
// br_if out of blocks, calls to a helper with an early return, loads and stores, then writes
// its locals and the first KiB of memory with output_write.

const I32_BINOPS = [0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x76, 0x77] // add sub mul and or xor shl shr_u rotl

function leb(n: number): number[] {
  const w = new WasmWriter().u32(n)
  return [...w.finish()]
}
function sleb(n: number): number[] {
  return [...new WasmWriter().sleb(BigInt(n)).finish()]
}

const exprArb: fc.Memo<number[]> = fc.memo((depth) => {
  const leaf = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }).map((v) => [0x41, ...sleb(v)]),
    fc.integer({ min: 0, max: 3 }).map((l) => [0x20, l]),
    fc.integer({ min: 0, max: 255 }).map((a) => [0x41, ...sleb(a * 4), 0x28, 0x02, 0x00]), // i32.load
  )
  if (depth <= 1) return leaf
  const sub = exprArb(depth - 1)
  return fc.oneof(
    { arbitrary: leaf, weight: 2 },
    { arbitrary: fc.tuple(sub, sub, fc.constantFrom(...I32_BINOPS)).map(([a, b, op]) => [...a, ...b, op]), weight: 3 },
    { arbitrary: fc.tuple(sub, sub).map(([a, b]) => [...a, ...b, 0x41, 1, 0x72, 0x6e]), weight: 1 }, // a div_u (b|1)
    { arbitrary: sub.map((a) => [...a, 0xc0]), weight: 1 }, // i32.extend8_s
    { arbitrary: sub.map((a) => [...a, 0x45]), weight: 1 }, // i32.eqz
    { arbitrary: sub.map((a) => [...a, 0xb2, 0x43, 0, 0, 0xc0, 0x3f, 0x94, 0xfc, 0x00]), weight: 1 }, // trunc_sat(f32(a)*1.5)
    { arbitrary: sub.map((a) => [...a, 0x10, 1]), weight: 1 }, // call helper
    { arbitrary: fc.constant<number[]>([0x3f, 0x00]), weight: 1 }, // memory.size
    { arbitrary: fc.integer({ min: 0, max: 2 }).map((k) => [0x41, k, 0x40, 0x00]), weight: 1 }, // memory.grow (max 64 pages)
  )
})

const stmtArb: fc.Memo<number[]> = fc.memo((depth) => {
  const e = exprArb(3)
  const simple = fc.oneof(
    fc.tuple(e, fc.integer({ min: 0, max: 3 })).map(([x, l]) => [...x, 0x21, l]),
    fc.tuple(fc.integer({ min: 0, max: 255 }), e).map(([a, x]) => [0x41, ...sleb(a * 4), ...x, 0x36, 0x02, 0x00]),
    // memory.fill / memory.copy inside the first KiB, charged by length
    fc.tuple(fc.integer({ min: 0, max: 512 }), e, fc.integer({ min: 0, max: 500 })).map(([a, v, n]) => [0x41, ...sleb(a), ...v, 0x41, ...sleb(n), 0xfc, 11, 0x00]),
    fc.tuple(fc.integer({ min: 0, max: 512 }), fc.integer({ min: 0, max: 512 }), fc.integer({ min: 0, max: 500 })).map(([d, src, n]) => [0x41, ...sleb(d), 0x41, ...sleb(src), 0x41, ...sleb(n), 0xfc, 10, 0x00, 0x00]),
  )
  if (depth <= 1) return simple
  const body = fc.array(stmtArb(depth - 1), { maxLength: 3 }).map((xs) => xs.flat())
  return fc.oneof(
    { arbitrary: simple, weight: 3 },
    { arbitrary: fc.tuple(e, body, body).map(([c, t, f]) => [...c, 0x04, 0x40, ...t, 0x05, ...f, 0x0b]), weight: 1 },
    { arbitrary: fc.tuple(body, e, body).map(([a, c, b]) => [0x02, 0x40, ...a, ...c, 0x0d, 0x00, ...b, 0x0b]), weight: 1 },
    {
      // bounded loop: counter local 4 + depth
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 12 }), body).map(([k, b]) => {
        const c = 4 + depth
        return [0x41, ...sleb(k), 0x21, c, 0x03, 0x40, ...b, 0x20, c, 0x41, 1, 0x6b, 0x22, c, 0x0d, 0x00, 0x0b]
      }),
      weight: 1,
    },
  )
})

function assemble(runBody: number[]): Uint8Array {
  const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content]
  const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()]
  const str = (s: string): number[] => [...leb(s.length), ...Buffer.from(s)]
  const types = vec([[0x60, 0, 0], [0x60, 2, 0x7f, 0x7f, 0], [0x60, 1, 0x7f, 1, 0x7f]])
  const imports = vec([[...str('xsc'), ...str('output_write'), 0x00, 1]])
  const funcs = vec([[2], [0]])
  const memory = vec([[0x01, 1, 64]]) // a declared maximum, so the original and the metered module agree on grow
  const exports = vec([[...str('run'), 0x00, 2], [...str('memory'), 0x02, 0]])
  // helper(x): if x > 500 return x*3; x+7  (an early return out of an if)
  const helper = [1, 1, 0x7f /* one unused local */, ...[0x20, 0, 0x41, ...sleb(500), 0x4a, 0x04, 0x40, 0x20, 0, 0x41, 3, 0x6c, 0x0f, 0x0b, 0x20, 0, 0x41, 7, 0x6a, 0x0b]]
  const tail: number[] = []
  for (let l = 0; l < 4; l++) tail.push(0x41, ...sleb(1024 + 4 * l), 0x20, l, 0x36, 0x02, 0x00)
  tail.push(0x41, 0, 0x41, ...sleb(1040), 0x10, 0, 0x0b)
  const run = [1, 8, 0x7f, ...runBody, ...tail]
  const code = vec([[...leb(helper.length), ...helper], [...leb(run.length), ...run]])
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, types), ...section(2, imports), ...section(3, funcs), ...section(5, memory), ...section(7, exports), ...section(10, code)])
}

function runOriginal(bytes: Uint8Array): Uint8Array {
  let out = new Uint8Array()
  let mem: { buffer: ArrayBuffer } | undefined
  const inst = new WA.Instance(new WA.Module(bytes), { xsc: { output_write: (p: number, n: number) => { out = new Uint8Array(mem!.buffer, p, n).slice() } } })
  mem = inst.exports.memory as { buffer: ArrayBuffer }
  ;(inst.exports.run as () => void)()
  return out
}

const programArb = fc.array(stmtArb(3), { minLength: 1, maxLength: 6 }).map((xs) => assemble(xs.flat()))

function checkLimitProperty(p: PreparedModule, input: Uint8Array, full: ExecutionResult, limit: bigint): void {
  const r = executeModule(p, { fn: 'run', input, fuelLimit: limit, state: () => undefined })
  if (r.outcome === OUTCOME.ok) {
    expect(r.fuelUsed <= limit).toBe(true)
    // raising the limit never changes a completed result
    expect(r.fuelUsed).toBe(full.fuelUsed)
    expect(r.output).toEqual(full.output)
    expect(r.resultHash).toEqual(full.resultHash)
  } else {
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
    expect(r.fuelUsed).toBe(limit)
    expect(limit < full.fuelUsed).toBe(true)
  }
}

describe('fuel limit property', () => {
  test('random programs: instrumentation preserves results, and limit L completes with used <= L or runs out with used = L', () => {
    fc.assert(fc.property(programArb, fc.bigInt({ min: 0n, max: 20_000n }), (bytes, limit) => {
      const p = prepareModule(bytes)
      const full = executeModule(p, { fn: 'run', input: new Uint8Array(), fuelLimit: 1n << 40n, state: () => undefined })
      expect(full.outcome).toBe(OUTCOME.ok)
      expect(full.output).toEqual(runOriginal(bytes))
      checkLimitProperty(p, new Uint8Array(), full, limit)
      // the exact figure is the threshold: enough completes, one less does not
      expect(executeModule(p, { fn: 'run', input: new Uint8Array(), fuelLimit: full.fuelUsed, state: () => undefined }).outcome).toBe(OUTCOME.ok)
      expect(executeModule(p, { fn: 'run', input: new Uint8Array(), fuelLimit: full.fuelUsed - 1n, state: () => undefined }).outcome).toBe(OUTCOME.outOfFuel)
    }), { numRuns: 150 })
  })

  const parser = prepareModule(loadFixture('parser'))
  const exprText: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 1_000_000 }).map(String), weight: 3 },
      { arbitrary: fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '%'), tie('e')).map(([a, op, b]) => `${a}${op}${b}`), weight: 2 },
      { arbitrary: tie('e').map((a) => `(${a})`), weight: 1 },
      { arbitrary: tie('e').map((a) => `-${a}`), weight: 1 },
    ),
  })).e

  test('parser fixture on random expressions: correct result and the fuel-limit property', () => {
    fc.assert(fc.property(exprText, fc.bigInt({ min: 0n, max: 5_000n }), (src, limit) => {
      const input = new TextEncoder().encode(src)
      const full = executeModule(parser, { fn: 'run', input, fuelLimit: 1n << 40n, state: () => undefined })
      const want = evalExpression(src)
      expect(new TextDecoder().decode(full.output)).toBe(want === undefined ? 'error' : want.toString())
      checkLimitProperty(parser, input, full, limit)
    }), { numRuns: 200 })
  })

  const sieve = prepareModule(loadFixture('sieve'))
  test('sieve fixture on random n: the fuel-limit property and monotone fuel in n', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 3000 }), fc.bigInt({ min: 0n, max: 60_000n }), (n, limit) => {
      const full = executeModule(sieve, { fn: 'run', input: u32le(n), fuelLimit: 1n << 40n, state: () => undefined })
      checkLimitProperty(sieve, u32le(n), full, limit)
      const more = executeModule(sieve, { fn: 'run', input: u32le(n + 1), fuelLimit: 1n << 40n, state: () => undefined })
      expect(more.fuelUsed > full.fuelUsed).toBe(true)
    }), { numRuns: 100 })
  })
})
