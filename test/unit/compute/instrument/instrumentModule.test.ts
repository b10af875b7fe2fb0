import { describe, expect, test } from 'vitest'

import { OUTCOME } from '../../../../blocks/schema.ts'
import { BYTES_PER_FUEL_SHIFT } from '../../../../src/compute/costTable.ts'
import { ComputeError } from '../../../../src/compute/errors.ts'
import { createMeter, DEFAULT_LIMITS, executeModule, meterImports, prepareModule, readMeter } from '../../../../src/compute/executeModule.ts'
import { DEFAULT_INSTRUMENT_OPTS, instrumentModule } from '../../../../src/compute/instrument/instrumentModule.ts'
import { WA } from '../../../../src/compute/wasmApi.ts'
import { loadFixture, noState, readU32le, u32le } from '../computeFixtures.ts'

function refusal(name: string): ComputeError {
  try {
    prepareModule(loadFixture(name))
  } catch (e) {
    if (e instanceof ComputeError) return e
    throw e
  }
  throw new Error(`${name} was accepted`)
}

describe('feature policy', () => {
  test('SIMD is refused at deploy with a typed error naming the feature', () => {
    const e = refusal('simd')
    expect(e.code).toBe('UNSUPPORTED_FEATURE')
    expect(e.message).toMatch(/SIMD is not supported/)
  })

  test('shared memory (threads) is refused', () => {
    const e = refusal('threads')
    expect(e.code).toBe('UNSUPPORTED_FEATURE')
    expect(e.message).toMatch(/threads/)
  })

  test('an import outside the host API is refused and the message lists the API', () => {
    const e = refusal('badimport')
    expect(e.code).toBe('UNSUPPORTED_IMPORT')
    expect(e.message).toMatch(/env\.now/)
    expect(e.message).toMatch(/input_read/)
  })

  test('a host API import with the wrong signature is refused at deploy', () => {
    const e = refusal('badsig')
    expect(e.code).toBe('UNSUPPORTED_IMPORT')
    expect(e.message).toMatch(/xsc\.output_write must have 2 i32 parameters/)
  })

  test('garbage, truncated modules and components-as-modules are MALFORMED_WASM, never a crash', () => {
    const sha = loadFixture('sha256')
    for (const bytes of [new Uint8Array([1, 2, 3]), sha.subarray(0, sha.length - 7), loadFixture('calc.component')]) {
      expect(() => prepareModule(bytes)).toThrow(ComputeError)
      try { prepareModule(bytes) } catch (e) { expect((e as ComputeError).code).toBe('MALFORMED_WASM') }
    }
  })

  test('every truncation of a real module is refused with a typed error', () => {
    const sha = loadFixture('parser')
    for (let cut = 0; cut < sha.length; cut += 37) {
      try {
        prepareModule(sha.subarray(0, cut))
        throw new Error(`accepted a module cut at ${cut}`)
      } catch (e) {
        expect(e).toBeInstanceOf(ComputeError)
      }
    }
  })

  test('a module above the size limit is refused with LIMIT_EXCEEDED', () => {
    expect(() => prepareModule(loadFixture('sha256'), { ...DEFAULT_LIMITS, maxModuleBytes: 100 })).toThrow(/exceeds the limit/)
  })

  test('initial memory above the page limit is refused at deploy', () => {
    // the sieve declares 66 pages of memory
    try {
      prepareModule(loadFixture('sieve'), { ...DEFAULT_LIMITS, maxMemoryPages: 10 })
      throw new Error('accepted')
    } catch (e) {
      expect((e as ComputeError).code).toBe('LIMIT_EXCEEDED')
    }
  })
})

describe('rewritten semantics', () => {
  test('NaN results are canonical (0x7fc00000 / 0x7ff8000000000000), the documented float policy', () => {
    const r = executeModule(prepareModule(loadFixture('nan')), { fn: 'run', input: new Uint8Array(), fuelLimit: 10_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.ok)
    const dv = new DataView(r.output.buffer, r.output.byteOffset)
    expect(dv.getUint32(0, true)).toBe(0x7fc00000)
    expect(dv.getBigUint64(4, true)).toBe(0x7ff8000000000000n)
    expect(dv.getBigUint64(12, true)).toBe(0x7ff8000000000000n)
  })

  test('without the rewrite the same division still yields a NaN, with the CPU own bits', () => {
    // Uninstrumented, x86 gives the sign-bit NaN 0xffc00000 for 0/0, ARM gives 0x7fc00000.
    const mod = new WA.Module(loadFixture('nan'))
    let out = new Uint8Array()
    let mem: { buffer: ArrayBuffer } | undefined
    const inst = new WA.Instance(mod, { xsc: { output_write: (p: number, n: number) => { out = new Uint8Array(mem!.buffer, p, n).slice() } } })
    mem = inst.exports.memory as { buffer: ArrayBuffer }
    ;(inst.exports.run as () => void)()
    const raw = new DataView(out.buffer).getUint32(0, true)
    expect(raw & 0x7f800000).toBe(0x7f800000)
    expect(raw & 0x007fffff).not.toBe(0)
  })

  test('memory.grow past the page limit returns -1 and the module carries on', () => {
    const r = executeModule(prepareModule(loadFixture('grow')), { fn: 'run', input: new Uint8Array(), fuelLimit: 100_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.ok)
    expect(readU32le(r.output, 0)).toBe(1)
    expect(readU32le(r.output, 4)).toBe(0xffff_ffff)
  })

  test('table.grow past the element limit returns -1, and the growth is charged per element', () => {
    const p = prepareModule(loadFixture('tablegrow'))
    const r = executeModule(p, { fn: 'run', input: new Uint8Array(), fuelLimit: 1_000_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.ok)
    expect([readU32le(r.output, 0), readU32le(r.output, 4)]).toEqual([1, 0xffff_ffff])
    // the denied grow of 20000 elements is still charged up front: fuel covers both requests
    expect(r.fuelUsed > 20_005n).toBe(true)
    expect(executeModule(p, { fn: 'run', input: new Uint8Array(), fuelLimit: 20_000n, state: noState }).outcome).toBe(OUTCOME.outOfFuel)
  })

  test('memory.fill and memory.copy are charged by length', () => {
    const p = prepareModule(loadFixture('bulk'))
    const fuel = (n: number): bigint => executeModule(p, { fn: 'run', input: u32le(n), fuelLimit: 10_000_000n, state: noState }).fuelUsed
    const base = fuel(0)
    // fill + copy of n bytes each: 2 * (n >> 4) more than with n = 0
    expect(fuel(65_536) - base).toBe(2n * (65_536n >> BYTES_PER_FUEL_SHIFT))
    expect(fuel(1600) - base).toBe(2n * (1600n >> BYTES_PER_FUEL_SHIFT))
  })

  test('a bulk op too expensive for the remaining fuel traps before doing the work', () => {
    const r = executeModule(prepareModule(loadFixture('bulk')), { fn: 'run', input: u32le(65_536), fuelLimit: 3000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
    expect(r.fuelUsed).toBe(3000n)
  })

  test('return, br to the function label and multi-value returns all lower the call depth', () => {
    // 3000 calls of each kind, more than the depth limit of 1000: only correct exits finish.
    const r = executeModule(prepareModule(loadFixture('exits')), { fn: 'run', input: new Uint8Array(), fuelLimit: 10_000_000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.ok)
    let acc = 0
    for (let i = 0; i < 3000; i++) {
      acc = (acc + (i > 10 ? i * 2 : i * 2 + 1)) >>> 0
      acc = (acc + i * 2 + 1) >>> 0
    }
    expect(readU32le(r.output)).toBe(acc)
  })

  test('fuel burnt in a leaf function reaches the meter when it exits through return', () => {
    const p = prepareModule(loadFixture('leafreturn'))
    const fuel = (n: number): bigint => executeModule(p, { fn: 'run', input: u32le(n), fuelLimit: 10_000_000n, state: noState }).fuelUsed
    // each iteration: local.get, i32.const, i32.sub, local.set, local.get, i32.const, i32.gt_s, br_if = 8
    expect(fuel(1001) - fuel(1)).toBe(8n * 1000n)
  })

  test('a start function that never ends runs out of fuel during instantiation', () => {
    const r = executeModule(prepareModule(loadFixture('startfn')), { fn: 'run', input: new Uint8Array(), fuelLimit: 5000n, state: noState })
    expect(r.outcome).toBe(OUTCOME.outOfFuel)
    expect(r.fuelUsed).toBe(5000n)
  })

  test('instrumentation is deterministic: same bytes in, same bytes out', () => {
    for (const name of ['sha256', 'parser', 'exits', 'nan']) {
      const a = instrumentModule(loadFixture(name), DEFAULT_INSTRUMENT_OPTS).bytes
      const b = instrumentModule(loadFixture(name), DEFAULT_INSTRUMENT_OPTS).bytes
      expect(Buffer.compare(a, b)).toBe(0)
    }
  })

  test('imported-meter mode renumbers defined globals and keeps imported globals, exports and segment offsets right', () => {
    const original = loadFixture('globals')
    const out = instrumentModule(original, { ...DEFAULT_INSTRUMENT_OPTS, meterGlobals: 'imported' })
    const api = (globalThis as unknown as { WebAssembly: { Table: new (d: { initial: number; element: string }) => object } }).WebAssembly
    const run = (bytes: Uint8Array, extra: Record<string, Record<string, unknown>>): { result: number; g: number } => {
      const env = { base: new WA.Global({ value: 'i32', mutable: false }, 2), table: new api.Table({ initial: 4, element: 'anyfunc' }) }
      const inst = new WA.Instance(new WA.Module(bytes), { env, ...extra } as never)
      const result = (inst.exports.run as () => number)()
      return { result, g: (inst.exports.g as { value: number }).value }
    }
    const meter = createMeter(1_000_000n)
    const want = run(original, {})
    expect(want).toEqual({ result: 9 + 9 + 120, g: 9 })
    expect(run(out.bytes, { xsc_meter: meterImports(meter) })).toEqual(want)
    expect(readMeter(meter).fuel).toBeLessThan(1_000_000n)
    expect(readMeter(meter).depth).toBe(0)
  })

  test('defined-globals mode exports the meter and validates', () => {
    const out = instrumentModule(loadFixture('sha256'), { ...DEFAULT_INSTRUMENT_OPTS, meterGlobals: 'defined' })
    expect(() => new WA.Module(out.bytes)).not.toThrow()
  })
})
