/**
 * Metered vs unmetered time per fixture, in the same process and the same scope: instantiate
 * + call, the unmetered run with the original module, the metered one with the instrumented
 * module and its meter set (the cost of metering). `executeMs` is the whole executeModule
 * (host API, hashes, result), the runtime's per-execution cost. Prints one JSON line per
 * fixture and, last, `{ runs, medianOverhead, fixtures: [...] }`.
 * Usage: npm run bench:compute [-- --runs 7]
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

import { OUTCOME } from '../../blocks/schema.ts'
import { createHostApi, createMeter, DEFAULT_LIMITS, executeModule, type PreparedModule, prepareModule } from '../../src/compute/executeModule.ts'
import { DEPTH_BITS, METER_EXPORTS } from '../../src/compute/instrument/instrumentModule.ts'
import { WA, type WasmGlobal, type WasmModule } from '../../src/compute/wasmApi.ts'
import { median } from './support/stats.ts'

const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] ?? 7) || 7
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../fixtures/wasm/${name}.wasm`, import.meta.url)))
const u32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b }

const expr = Array.from({ length: 2500 }, (_, i) => `(${i} * ${i % 7 + 1} - ${i % 13}) / ${i % 5 + 1}`).join(' + ')
const cases: { name: string; input: Uint8Array }[] = [
  { name: 'sha256', input: new Uint8Array(1 << 18).map((_, i) => i * 7) },
  { name: 'sieve', input: u32(2_000_000) },
  { name: 'matmul', input: u32(128) },
  { name: 'parser', input: new TextEncoder().encode(expr) },
  { name: 'fib', input: u32(27) },
]

const FUEL = 1n << 40n
const state = (): undefined => undefined

function runUnmetered(module: WasmModule, input: Uint8Array): number {
  const meter = createMeter(FUEL)
  const host = createHostApi(meter, { input, state }, DEFAULT_LIMITS)
  const t0 = performance.now()
  const instance = new WA.Instance(module, { xsc: host.imports })
  const mem = instance.exports.memory
  if (mem instanceof WA.Memory) host.setMemory(mem)
  ;(instance.exports.run as () => void)()
  return performance.now() - t0
}

function runMetered(prepared: PreparedModule, input: Uint8Array): number {
  const meter = createMeter(FUEL)
  const host = createHostApi(meter, { input, state }, DEFAULT_LIMITS)
  const t0 = performance.now()
  const instance = new WA.Instance(prepared.module, { xsc: host.imports })
  meter.fuel = instance.exports[METER_EXPORTS.fuel] as WasmGlobal
  meter.fuel.value = FUEL << DEPTH_BITS
  const mem = instance.exports.memory
  if (mem instanceof WA.Memory) host.setMemory(mem)
  ;(instance.exports.run as () => void)()
  const ms = performance.now() - t0
  if ((meter.fuel.value as bigint) < 0n) throw new Error('metered run ran out of fuel')
  return ms
}

function runExecute(prepared: PreparedModule, input: Uint8Array): { ms: number; fuel: bigint } {
  const t0 = performance.now()
  const r = executeModule(prepared, { fn: 'run', input, fuelLimit: FUEL, state })
  const ms = performance.now() - t0
  if (r.outcome !== OUTCOME.ok) throw new Error(`metered run failed: ${r.reason}`)
  return { ms, fuel: r.fuelUsed }
}

const fixtures: { name: string; meteredMs: number; unmeteredMs: number; overhead: number; executeMs: number; fuel: string; fuelPerSec: number }[] = []
for (const c of cases) {
  const code = fixture(c.name)
  const plain = new WA.Module(code)
  const prepared = prepareModule(code)
  // warm-up: let V8 tier both versions up before timing
  for (let i = 0; i < 3; i++) { runUnmetered(plain, c.input); runMetered(prepared, c.input); runExecute(prepared, c.input) }
  const m: number[] = []
  const u: number[] = []
  const x: number[] = []
  let fuel = 0n
  for (let i = 0; i < runs; i++) {
    u.push(runUnmetered(plain, c.input))
    m.push(runMetered(prepared, c.input))
    const r = runExecute(prepared, c.input)
    x.push(r.ms)
    fuel = r.fuel
  }
  const meteredMs = median(m)
  const unmeteredMs = median(u)
  const executeMs = median(x)
  const row = { name: c.name, meteredMs: +meteredMs.toFixed(3), unmeteredMs: +unmeteredMs.toFixed(3), overhead: +(meteredMs / unmeteredMs).toFixed(3), executeMs: +executeMs.toFixed(3), fuel: fuel.toString(), fuelPerSec: Math.round(Number(fuel) / (meteredMs / 1000)) }
  fixtures.push(row)
  console.log(JSON.stringify(row))
}
console.log(JSON.stringify({ runs, medianOverhead: +median(fixtures.map((f) => f.overhead)).toFixed(3), fixtures }))
