import { type KvWrite, OUTCOME } from '../../blocks/schema.ts'
import { computeResultHash, computeWriteSet, computeWriteSetHash } from './computeResultHash.ts'
import { COST } from './costTable.ts'
import { ComputeError } from './errors.ts'
import { chargeFuel, classifyEnd, type ComputeLimits, createMeter, createStateStore, DEFAULT_LIMITS, type ExecutionResult, meterImports, type StateReader } from './executeModule.ts'
import { instrumentModule, METER_MODULE } from './instrument/instrumentModule.ts'
import { WA, type WasmImports, type WasmInstance, type WasmModule } from './wasmApi.ts'

/**
 * WASM components through @bytecodealliance/jco. At deploy the component is transpiled once
 * (instantiation: 'async', so jco hands us every core module through getCoreModule and every
 * instantiation through instantiateCore); each core module is instrumented with the meter
 * globals imported from `xsc_meter`, so all of a component's core instances share one fuel
 * budget and one call depth. A call passes WIT-typed arguments as a JSON array; the output is
 * the JSON of the result. The only WIT import a component may have is the asset state,
 * `xsc:host/state` (get/set/delete on list<u8>), backed by the same store as the core host API.
 */
export interface ComponentArtifact {
  /** jco's generated ES module exporting instantiate(getCoreModule, imports, instantiateCore) */
  js: string
  /** instrumented core modules by the file name the generated code asks for */
  coreModules: Record<string, Uint8Array>
  /** WIT export name → name of the JS function */
  exports: Record<string, string>
}

type Instantiate = (
  getCoreModule: (name: string) => WasmModule,
  imports: Record<string, unknown>,
  instantiateCore: (module: WasmModule, imports?: WasmImports) => Promise<WasmInstance>,
) => Promise<Record<string, unknown>>

export interface LoadedComponent {
  artifact: ComponentArtifact
  modules: Map<string, WasmModule>
  instantiate: Instantiate
  limits: ComputeLimits
}

/** WIT interfaces the host provides to components. */
export const COMPONENT_HOST_INTERFACES = ['xsc:host/state'] as const

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** The first use of the component model's async ABI in a component's WIT, if any. */
export function findComponentAsync(wit: string): string | undefined {
  return /\basync\s+func\b|\bstream<|\bfuture<|\berror-context\b/.exec(wit)?.[0]
}

/** Deploy-time work: transpile, refuse WIT imports, instrument and validate every core module. */
export async function prepareComponent(code: Uint8Array, limits: ComputeLimits = DEFAULT_LIMITS): Promise<ComponentArtifact> {
  if (code.length > limits.maxModuleBytes) {
    throw new ComputeError('LIMIT_EXCEEDED', `component of ${code.length} bytes exceeds the limit ${limits.maxModuleBytes}`, { what: 'module bytes' })
  }
  const { transpile } = await import('@bytecodealliance/jco')
  let out: Awaited<ReturnType<typeof transpile>>
  try {
    out = await transpile(code, { name: 'component', instantiation: 'async', noTypescript: true, base64Cutoff: 0, quiet: true })
  } catch (cause) {
    throw new ComputeError('MALFORMED_WASM', `not a valid component: ${cause instanceof Error ? cause.message : String(cause)}`, {}, { cause })
  }
  // The component model's async ABI (async funcs, streams, futures) runs through jco's task
  // scheduler, which has timers and a randomized mode: not deterministic, refused.
  const { componentWit } = await import('@bytecodealliance/jco')
  const wit = await componentWit(code)
  const asyncUse = findComponentAsync(wit)
  if (asyncUse !== undefined) throw new ComputeError('UNSUPPORTED_FEATURE', `component model async (${asyncUse}) is not supported: it is not deterministic under jco`, { feature: 'component async' })
  const foreign = out.imports.filter((i) => !(COMPONENT_HOST_INTERFACES as readonly string[]).includes(i))
  if (foreign.length > 0) {
    throw new ComputeError('UNSUPPORTED_IMPORT', `component imports ${foreign.join(', ')}: the host provides only ${COMPONENT_HOST_INTERFACES.join(', ')}`, { imports: foreign })
  }
  const coreModules: Record<string, Uint8Array> = {}
  let js: string | undefined
  for (const [name, bytes] of Object.entries(out.files)) {
    if (name.endsWith('.wasm')) {
      const inst = instrumentModule(bytes, {
        maxMemoryPages: limits.maxMemoryPages,
        maxTableElements: limits.maxTableElements,
        maxCallDepth: limits.maxCallDepth,
        maxLocalsPerFunction: limits.maxLocalsPerFunction,
        meterGlobals: 'imported',
      })
      coreModules[name] = inst.bytes
    } else if (name === 'component.js') {
      js = new TextDecoder().decode(bytes)
    }
  }
  if (js === undefined) throw new ComputeError('MALFORMED_WASM', 'jco produced no component.js')
  const exports: Record<string, string> = {}
  // jco reports the JS (camelCase) names; callers may use the WIT (kebab-case) ones too
  for (const [name, kind] of out.exports) if (kind === 'function') { exports[name] = name; exports[kebab(name)] = name }
  const artifact = { js, coreModules, exports }
  await loadComponent(artifact, limits) // compile now so a bad module fails at deploy
  return artifact
}

/** Compiles the core modules and imports the generated JS: once per asset per thread. */
export async function loadComponent(artifact: ComponentArtifact, limits: ComputeLimits = DEFAULT_LIMITS): Promise<LoadedComponent> {
  const modules = new Map<string, WasmModule>()
  for (const [name, bytes] of Object.entries(artifact.coreModules)) {
    try {
      modules.set(name, new WA.Module(bytes))
    } catch (cause) {
      throw new ComputeError('MALFORMED_WASM', `core module ${name} does not validate: ${cause instanceof Error ? cause.message : String(cause)}`, {}, { cause })
    }
  }
  const url = `data:text/javascript;base64,${Buffer.from(artifact.js).toString('base64')}`
  const mod = (await import(url)) as { instantiate: Instantiate }
  return { artifact, modules, instantiate: mod.instantiate, limits }
}

export interface ExecuteComponentRequest {
  fn: string
  /** UTF-8 JSON array of the call's arguments */
  input: Uint8Array
  fuelLimit: bigint
  /** the asset's state snapshot, read through xsc:host/state */
  state?: StateReader
}

/** One call with fresh core instances and a fresh meter. */
export async function executeComponent(loaded: LoadedComponent, req: ExecuteComponentRequest): Promise<ExecutionResult> {
  const { limits } = loaded
  if (req.input.length > limits.maxInputBytes) return result(OUTCOME.limit, `input of ${req.input.length} bytes exceeds ${limits.maxInputBytes}`, 0n)
  const jsName = loaded.artifact.exports[req.fn] ?? (Object.values(loaded.artifact.exports).includes(req.fn) ? req.fn : undefined)
  if (jsName === undefined) return result(OUTCOME.invalid, `component exports no function ${JSON.stringify(req.fn)}`, 0n)
  let args: unknown
  try {
    args = req.input.length === 0 ? [] : JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(req.input))
  } catch {
    return result(OUTCOME.invalid, 'component input is not UTF-8 JSON', 0n)
  }
  if (!Array.isArray(args)) return result(OUTCOME.invalid, 'component input must be a JSON array of arguments', 0n)

  const meter = createMeter(req.fuelLimit)
  const store = createStateStore(meter, req.state ?? (() => undefined), limits)
  // jco lifts list<u8> to Uint8Array and option<T> to T | undefined
  const bytesArg = (v: unknown): Uint8Array => {
    if (!(v instanceof Uint8Array)) throw new ComputeError('BAD_REQUEST', 'xsc:host/state expects list<u8>')
    return v
  }
  const hostImports = {
    'xsc:host/state': {
      get: (key: unknown) => { chargeFuel(meter, COST.hostCall, 0); return store.get(bytesArg(key))?.slice() },
      set: (key: unknown, value: unknown) => { chargeFuel(meter, COST.hostCall, 0); store.set(bytesArg(key), bytesArg(value)) },
      delete: (key: unknown) => { chargeFuel(meter, COST.hostCall, 0); store.delete(bytesArg(key)) },
    },
  }
  const getCoreModule = (name: string): WasmModule => {
    const m = loaded.modules.get(name)
    if (m === undefined) throw new ComputeError('MALFORMED_WASM', `component asks for unknown core module ${name}`)
    return m
  }
  const instantiateCore = (module: WasmModule, imports?: WasmImports): Promise<WasmInstance> =>
    WA.instantiate(module, { ...(imports ?? {}), [METER_MODULE]: meterImports(meter) })
  let value: unknown
  let error: unknown
  try {
    const instance = await loaded.instantiate(getCoreModule, hostImports, instantiateCore)
    const f = instance[jsName]
    if (typeof f !== 'function') return result(OUTCOME.invalid, `export ${req.fn} is not a function`, 0n)
    value = (f as (...a: unknown[]) => unknown)(...args)
  } catch (e) {
    if (e instanceof Error && e.constructor.name === 'ComponentError' && 'payload' in e) {
      // jco returns the ok case of a result<T, E> and throws the err case as a ComponentError
      // carrying `payload`: a normal completion, output {"err": payload}.
      value = { err: (e as Error & { payload: unknown }).payload }
    } else if (e instanceof TypeError || (e instanceof RangeError && !/call stack/.test(e.message))) {
      // The generated glue checks argument types before any core code runs: a bad argument
      // is the caller's error, the same on every host.
      return result(OUTCOME.invalid, `bad arguments for ${req.fn}: ${e.message}`, 0n)
    } else {
      error = e
    }
  }
  const end = classifyEnd(meter, req.fuelLimit, limits.maxCallDepth, error)
  if (end.outcome !== OUTCOME.ok) return result(end.outcome, end.reason, end.fuelUsed)
  const output = new TextEncoder().encode(JSON.stringify(value ?? null, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
  if (output.length > limits.maxOutputBytes) return result(OUTCOME.limit, `output above ${limits.maxOutputBytes} bytes`, end.fuelUsed)
  return result(OUTCOME.ok, 'ok', end.fuelUsed, output, computeWriteSet(store.writes))

  function result(outcome: number, reason: string, fuelUsed: bigint, output = new Uint8Array(0), writeSet: KvWrite[] = []): ExecutionResult {
    return { outcome, reason, output, fuelUsed, logs: [], writeSet, resultHash: computeResultHash(outcome, output), writeSetHash: computeWriteSetHash(writeSet) }
  }
}
