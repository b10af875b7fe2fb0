import { type KvWrite, LIMITS, OUTCOME } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import { computeResultHash, computeWriteSet, computeWriteSetHash } from './computeResultHash.ts'
import { BYTES_PER_FUEL_SHIFT, COST } from './costTable.ts'
import { ComputeError } from './errors.ts'
import { DEPTH_BITS, DEPTH_MASK, type InstrumentedModule, instrumentModule, METER_EXPORTS } from './instrument/instrumentModule.ts'
import { WA, type WasmGlobal, type WasmImportValue, type WasmMemory, type WasmModule } from './wasmApi.ts'

/** Policy limits of one execution. Every figure is part of the protocol: hosts must agree. */
export interface ComputeLimits {
  maxModuleBytes: number
  maxInputBytes: number
  maxOutputBytes: number
  maxLogBytes: number
  maxMemoryPages: number
  maxTableElements: number
  maxCallDepth: number
  maxLocalsPerFunction: number
  maxWrites: number
}

export const DEFAULT_LIMITS: ComputeLimits = {
  maxModuleBytes: 8 << 20,
  maxInputBytes: LIMITS.input,
  maxOutputBytes: LIMITS.output,
  maxLogBytes: LIMITS.log,
  maxMemoryPages: 256,
  maxTableElements: 10_000,
  maxCallDepth: 1000,
  maxLocalsPerFunction: 2000,
  maxWrites: LIMITS.writeSet,
}

/** The largest fuel limit: fuel shares the meter's i64 with 16 bits of call depth. */
export const MAX_FUEL_LIMIT = 1n << 46n

/** Read side of the asset's key-value state: a snapshot from the caller. */
export type StateReader = (key: Uint8Array) => Uint8Array | undefined

export type OutcomeName = keyof typeof OUTCOME

export interface ExecutionResult {
  outcome: number
  /** Which limit or trap: diagnostics only, never hashed (V8 messages are not consensus). */
  reason: string
  output: Uint8Array
  fuelUsed: bigint
  logs: string[]
  writeSet: KvWrite[]
  resultHash: Uint8Array
  writeSetHash: Uint8Array
}

/** The host API every module may import from "xsc", with its signature. */
export const HOST_API: Record<string, { params: number; results: number }> = {
  input_size: { params: 0, results: 1 },
  input_read: { params: 3, results: 1 },
  output_write: { params: 2, results: 0 },
  log: { params: 2, results: 0 },
  abort: { params: 1, results: 0 },
  state_get: { params: 4, results: 1 },
  state_set: { params: 4, results: 0 },
  state_delete: { params: 2, results: 0 },
}

export interface PreparedModule {
  module: WasmModule
  instrumented: InstrumentedModule
  limits: ComputeLimits
}

/**
 * Deploy-time work for a core module: size check, feature policy, import policy,
 * instrumentation, compilation. Throws a typed ComputeError for anything refused.
 */
export function prepareModule(code: Uint8Array, limits: ComputeLimits = DEFAULT_LIMITS): PreparedModule {
  if (code.length > limits.maxModuleBytes) {
    throw new ComputeError('LIMIT_EXCEEDED', `module of ${code.length} bytes exceeds the limit ${limits.maxModuleBytes}`, { what: 'module bytes' })
  }
  const instrumented = instrumentModule(code, {
    maxMemoryPages: limits.maxMemoryPages,
    maxTableElements: limits.maxTableElements,
    maxCallDepth: limits.maxCallDepth,
    maxLocalsPerFunction: limits.maxLocalsPerFunction,
    // defined globals are one load cheaper per access than imported mutable ones in V8
    // (~12% on call-heavy code); components use 'imported' to share one meter
    meterGlobals: 'defined',
  })
  for (const imp of instrumented.imports) {
    const api = imp.module === 'xsc' && imp.kind === 'func' ? HOST_API[imp.name] : undefined
    if (api === undefined) {
      throw new ComputeError('UNSUPPORTED_IMPORT', `import ${imp.module}.${imp.name} (${imp.kind}) is not part of the XSC host API (module "xsc": ${Object.keys(HOST_API).join(', ')})`, { module: imp.module, name: imp.name })
    }
    // every host API value is an i32; a different signature would hand the host bigints or floats
    const t = imp.type
    const i32s = (xs: number[], n: number): boolean => xs.length === n && xs.every((x) => x === 0x7f)
    if (t === undefined || !i32s(t.params, api.params) || !i32s(t.results, api.results)) {
      throw new ComputeError('UNSUPPORTED_IMPORT', `import xsc.${imp.name} must have ${api.params} i32 parameters and ${api.results} i32 results`, { module: imp.module, name: imp.name })
    }
  }
  let module: WasmModule
  try {
    module = new WA.Module(instrumented.bytes)
  } catch (cause) {
    throw new ComputeError('MALFORMED_WASM', `module does not validate: ${cause instanceof Error ? cause.message : String(cause)}`, {}, { cause })
  }
  return { module, instrumented, limits }
}

/** Thrown by host functions to end an execution with a typed outcome. */
export class HostTrap extends Error {
  constructor(readonly outcome: number, readonly reason: string) {
    super(reason)
  }
}

/**
 * The meter globals. `fuel` packs `fuel << 16 | depth` (see DEPTH_BITS); plain modules own
 * it (exported), components import host-owned ones so their core modules share one budget.
 */
export interface Meter {
  fuel: WasmGlobal
  oom: WasmGlobal
}

export function createMeter(fuelLimit: bigint): Meter {
  if (typeof fuelLimit !== 'bigint' || fuelLimit < 0n || fuelLimit > MAX_FUEL_LIMIT) {
    throw new ComputeError('BAD_REQUEST', `fuel limit must be a bigint in [0, 2^46], got ${String(fuelLimit)}`)
  }
  return {
    fuel: new WA.Global({ value: 'i64', mutable: true }, fuelLimit << DEPTH_BITS),
    oom: new WA.Global({ value: 'i32', mutable: true }, 0),
  }
}

export function meterImports(meter: Meter): Record<string, WasmImportValue> {
  return { fuel: meter.fuel, oom: meter.oom }
}

/** Fuel remaining (negative once exhausted) and current call depth, from the packed meter. */
export function readMeter(meter: Meter): { fuel: bigint; depth: number } {
  const v = meter.fuel.value as bigint
  return { fuel: v >> DEPTH_BITS, depth: Number(v & DEPTH_MASK) }
}

/** Charges host work to the fuel; running out ends the execution at once. */
export function chargeFuel(meter: Meter, fixed: number, bytes: number): void {
  const cost = BigInt(fixed) + (BigInt(bytes) >> BYTES_PER_FUEL_SHIFT)
  const left = (meter.fuel.value as bigint) - (cost << DEPTH_BITS)
  meter.fuel.value = left
  if (left < 0n) throw new HostTrap(OUTCOME.outOfFuel, 'out of fuel in a host call')
}

/** Maps how a run ended to its outcome and fuel; the same for every host. */
export function classifyEnd(meter: Meter, fuelLimit: bigint, maxCallDepth: number, error: unknown): { outcome: number; reason: string; fuelUsed: bigint } {
  const { fuel: remaining, depth } = readMeter(meter)
  if (remaining < 0n) return { outcome: OUTCOME.outOfFuel, reason: 'out of fuel', fuelUsed: fuelLimit }
  const fuelUsed = fuelLimit - remaining
  if (error === undefined) return { outcome: OUTCOME.ok, reason: 'ok', fuelUsed }
  if (error instanceof HostTrap) return { outcome: error.outcome, reason: error.reason, fuelUsed }
  if (depth > maxCallDepth) return { outcome: OUTCOME.limit, reason: `call depth above ${maxCallDepth}`, fuelUsed }
  // A wasm trap forfeits the whole fuel limit (like the EVM's exceptional halt): the meter
  // keeps fuel in a register between calls, so the global is not exact mid-function, and
  // charging the limit also means a long loop ending in a trap is paid in full.
  if (error instanceof WA.RuntimeError) {
    if (meter.oom.value === 1) return { outcome: OUTCOME.limit, reason: `trap after memory.grow was denied: ${error.message}`, fuelUsed: fuelLimit }
    return { outcome: OUTCOME.trap, reason: error.message, fuelUsed: fuelLimit }
  }
  // V8's own stack overflow: the depth limit binds first with the pool's 64 MB worker stacks
  // (measured: 1000 frames of 2000 i64 locals need ~16 MB). Should it not, the end is
  // machine-dependent, so it is an error (no receipt), never an outcome.
  if (error instanceof RangeError) throw new ComputeError('HOST_STACK_OVERFLOW', `host stack exhausted before the call-depth limit: ${error.message}`)
  if (error instanceof WA.LinkError || error instanceof WA.CompileError) return { outcome: OUTCOME.invalid, reason: error.message, fuelUsed: 0n }
  throw error
}

export interface ExecuteModuleRequest {
  fn: string
  input: Uint8Array
  fuelLimit: bigint
  state: StateReader
}

/** Runs one call of a prepared module in this thread with a fresh instance and meter. */
export function executeModule(prepared: PreparedModule, req: ExecuteModuleRequest): ExecutionResult {
  const { limits } = prepared
  if (req.input.length > limits.maxInputBytes) return finish(OUTCOME.limit, `input of ${req.input.length} bytes exceeds ${limits.maxInputBytes}`, 0n)
  const type = prepared.instrumented.exportedFuncTypes.get(req.fn)
  if (type === undefined) return finish(OUTCOME.invalid, `no exported function ${JSON.stringify(req.fn)}`, 0n)
  if (type.params.length !== 0) return finish(OUTCOME.invalid, `exported function ${req.fn} must take no parameters (input comes from input_read)`, 0n)

  const meter = createMeter(req.fuelLimit)
  const host = createHostApi(meter, req, limits)
  let error: unknown
  try {
    const instance = new WA.Instance(prepared.module, { xsc: host.imports })
    // The module owns its meter globals: point the meter at them, then load the fuel. No
    // guest code has run yet (the start function was turned into an export).
    meter.fuel = instance.exports[METER_EXPORTS.fuel] as WasmGlobal
    meter.oom = instance.exports[METER_EXPORTS.oom] as WasmGlobal
    meter.fuel.value = req.fuelLimit << DEPTH_BITS
    const mem = instance.exports.memory
    if (mem instanceof WA.Memory) host.setMemory(mem)
    if (prepared.instrumented.hasStart) (instance.exports[METER_EXPORTS.start] as () => void)()
    const f = instance.exports[req.fn] as () => unknown
    f()
  } catch (e) {
    error = e
  }
  const end = classifyEnd(meter, req.fuelLimit, limits.maxCallDepth, error)
  return finish(end.outcome, end.reason, end.fuelUsed, host)

  function finish(outcome: number, reason: string, fuelUsed: bigint, h?: HostApi): ExecutionResult {
    const ok = outcome === OUTCOME.ok
    const output = ok && h ? h.output() : new Uint8Array(0)
    const writeSet = ok && h ? computeWriteSet(h.writes) : []
    return {
      outcome,
      reason,
      output,
      fuelUsed,
      logs: h ? h.logs : [],
      writeSet,
      resultHash: computeResultHash(outcome, output),
      writeSetHash: computeWriteSetHash(writeSet),
    }
  }
}

export interface HostApi {
  imports: Record<string, WasmImportValue>
  setMemory(m: WasmMemory): void
  output(): Uint8Array
  logs: string[]
  writes: Map<string, KvWrite>
}

/**
 * The XSC host API over one execution's memory. Every call is charged COST.hostCall plus the
 * bytes it moves; out-of-range pointers trap; exceeding output, key, value or write-count
 * limits ends the run with OUTCOME.limit. Logs beyond maxLogBytes are dropped (not consensus).
 */
export function createHostApi(meter: Meter, req: { input: Uint8Array; state: StateReader }, limits: ComputeLimits): HostApi {
  let memory: WasmMemory | undefined
  const chunks: Uint8Array[] = []
  let outLen = 0
  let logBytes = 0
  const logs: string[] = []
  const view = (ptr: number, len: number): Uint8Array => {
    if (memory === undefined) throw new HostTrap(OUTCOME.trap, 'host API used by a module that exports no memory')
    const buf = memory.buffer
    const p = ptr >>> 0
    const n = len >>> 0
    if (p + n > buf.byteLength) throw new HostTrap(OUTCOME.trap, 'host API pointer out of bounds')
    return new Uint8Array(buf, p, n)
  }
  const store = createStateStore(meter, req.state, limits)
  const readKey = (ptr: number, len: number): Uint8Array => {
    if (len >>> 0 > LIMITS.stateKey) throw new HostTrap(OUTCOME.limit, `state key longer than ${LIMITS.stateKey} bytes`)
    return view(ptr, len).slice()
  }
  const imports: Record<string, WasmImportValue> = {
    input_size: () => {
      chargeFuel(meter, COST.hostCall, 0)
      return req.input.length
    },
    input_read: (dst: number, offset: number, len: number) => {
      const off = Math.min(offset >>> 0, req.input.length)
      const n = Math.min(len >>> 0, req.input.length - off)
      chargeFuel(meter, COST.hostCall, n)
      view(dst, n).set(req.input.subarray(off, off + n))
      return n
    },
    output_write: (src: number, len: number) => {
      chargeFuel(meter, COST.hostCall, len >>> 0)
      if (outLen + (len >>> 0) > limits.maxOutputBytes) throw new HostTrap(OUTCOME.limit, `output above ${limits.maxOutputBytes} bytes`)
      const bytes = view(src, len).slice()
      chunks.push(bytes)
      outLen += bytes.length
    },
    log: (src: number, len: number) => {
      chargeFuel(meter, COST.hostCall, len >>> 0)
      const bytes = view(src, len)
      if (logBytes + bytes.length > limits.maxLogBytes) return
      logBytes += bytes.length
      logs.push(new TextDecoder().decode(bytes))
    },
    abort: (code: number) => {
      chargeFuel(meter, COST.hostCall, 0)
      throw new HostTrap(OUTCOME.trap, `abort(${code >>> 0})`)
    },
    state_get: (keyPtr: number, keyLen: number, dst: number, cap: number) => {
      chargeFuel(meter, COST.hostCall, 0)
      const value = store.get(readKey(keyPtr, keyLen))
      if (value === undefined) return -1
      const n = Math.min(value.length, cap >>> 0)
      view(dst, n).set(value.subarray(0, n))
      return value.length
    },
    state_set: (keyPtr: number, keyLen: number, valPtr: number, valLen: number) => {
      chargeFuel(meter, COST.hostCall, 0)
      if (valLen >>> 0 > LIMITS.stateValue) throw new HostTrap(OUTCOME.limit, `state value longer than ${LIMITS.stateValue} bytes`)
      store.set(readKey(keyPtr, keyLen), view(valPtr, valLen).slice())
    },
    state_delete: (keyPtr: number, keyLen: number) => {
      chargeFuel(meter, COST.hostCall, 0)
      store.delete(readKey(keyPtr, keyLen))
    },
  }
  return {
    imports,
    setMemory: (m) => { memory = m },
    output: () => {
      const out = new Uint8Array(outLen)
      let o = 0
      for (const c of chunks) { out.set(c, o); o += c.length }
      return out
    },
    logs,
    writes: store.writes,
  }
}

export interface StateStore {
  get(key: Uint8Array): Uint8Array | undefined
  set(key: Uint8Array, value: Uint8Array): void
  delete(key: Uint8Array): void
  /** last write per key (hex), the execution's write set before sorting */
  writes: Map<string, KvWrite>
}

/**
 * One execution's view of the asset state: reads see the execution's own writes first, then
 * the caller's snapshot. Charges the bytes moved (the caller charges the per-call fee) and
 * enforces key, value and write-count limits with OUTCOME.limit.
 */
export function createStateStore(meter: Meter, snapshot: StateReader, limits: ComputeLimits): StateStore {
  const writes = new Map<string, KvWrite>()
  const checkKey = (key: Uint8Array): void => {
    if (key.length > LIMITS.stateKey) throw new HostTrap(OUTCOME.limit, `state key longer than ${LIMITS.stateKey} bytes`)
  }
  const record = (key: Uint8Array, value: Uint8Array | undefined): void => {
    checkKey(key)
    if (value !== undefined && value.length > LIMITS.stateValue) throw new HostTrap(OUTCOME.limit, `state value longer than ${LIMITS.stateValue} bytes`)
    chargeFuel(meter, 0, key.length + (value?.length ?? 0))
    const k = toHex(key)
    if (!writes.has(k) && writes.size >= limits.maxWrites) throw new HostTrap(OUTCOME.limit, `more than ${limits.maxWrites} state writes`)
    writes.set(k, { key: key.slice(), value: value?.slice() })
  }
  return {
    get(key) {
      checkKey(key)
      chargeFuel(meter, 0, key.length)
      const pending = writes.get(toHex(key))
      const value = pending !== undefined ? pending.value : snapshot(key)
      if (value !== undefined) chargeFuel(meter, 0, value.length)
      return value
    },
    set: (key, value) => record(key, value),
    delete: (key) => record(key, undefined),
    writes,
  }
}
