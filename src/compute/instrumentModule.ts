import { ComputeError } from './computeError.ts'
import { BYTES_PER_FUEL_SHIFT, COST, ELEM_FUEL_SHIFT, PAGE_FUEL_SHIFT, computeOpcodeCost } from './costTable.ts'
import { WasmReader, WasmWriter } from './wasmBytes.ts'

/**
 * Rewrites a WASM core module so it meters itself:
 * - a mutable i64 fuel global holds the fuel remaining; every basic block subtracts its cost
 *   when entered; loop headers and function entries also check `fuel < 0` and execute
 *   `unreachable` (every unbounded path passes one of them, so the check elsewhere is skipped);
 * - bulk memory/table ops and memory.grow are charged by their length operand, checked at once;
 * - a call-depth i32 global is raised on entry and lowered on exit of every function that can
 *   call (leaf functions add at most one frame), trapping above `maxCallDepth`;
 * - memory and table maxima are clamped to the policy, so memory.grow past them returns -1;
 *   a denied grow sets the `oom` global so a later trap can be reported as a memory limit;
 * - float results that may be NaN are canonicalized (0x7fc00000 / 0x7ff8000000000000).
 * The meter globals are either defined in the module and exported (`defined`, for plain
 * modules) or imported from `xsc_meter` (`imported`, so a component's core modules share one
 * budget). Anything the meter cannot charge deterministically is refused with
 * UNSUPPORTED_FEATURE before any code runs.
 */

export interface InstrumentOpts {
  maxMemoryPages: number
  maxTableElements: number
  maxCallDepth: number
  maxLocalsPerFunction: number
  meterGlobals: 'defined' | 'imported'
}

export const DEFAULT_INSTRUMENT_OPTS: InstrumentOpts = {
  maxMemoryPages: 256, // 16 MiB
  maxTableElements: 10_000,
  maxCallDepth: 1000,
  maxLocalsPerFunction: 2000,
  meterGlobals: 'defined',
}

export const METER_MODULE = 'xsc_meter'
export const METER_EXPORTS = { fuel: '__xsc_fuel', oom: '__xsc_oom', start: '__xsc_start' } as const

/**
 * The meter global packs fuel and call depth in one i64: `fuel << 16 | depth`. Charges
 * subtract multiples of 2^16 and never touch the depth bits; `meter < 0` iff fuel < 0, so the
 * fuel check stays one signed compare; a call adds 1 on entry and subtracts 1 on exit with no
 * extra memory traffic. Fuel is therefore limited to 2^46, depth to 65535.
 */
export const DEPTH_BITS = 16n
export const DEPTH_MASK = (1n << DEPTH_BITS) - 1n

export interface ModuleImport { module: string; name: string; kind: 'func' | 'table' | 'memory' | 'global'; type?: FuncType }
export interface ModuleExport { name: string; kind: 'func' | 'table' | 'memory' | 'global'; index: number }

export interface InstrumentedModule {
  bytes: Uint8Array
  imports: ModuleImport[]
  exports: ModuleExport[]
  /** exported function name → its (params, results) value types */
  exportedFuncTypes: Map<string, FuncType>
  opts: InstrumentOpts
  /** defined mode: the start function is exported as METER_EXPORTS.start for the host to call */
  hasStart: boolean
}

export interface FuncType { params: number[]; results: number[] }

const KIND_NAMES = ['func', 'table', 'memory', 'global'] as const
const I32 = 0x7f
const I64 = 0x7e
const F32 = 0x7d
const F64 = 0x7c
const V128 = 0x7b

// Canonical section order, so inserted sections land where the spec requires them.
const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 }

function unsupported(feature: string, detail: string): never {
  throw new ComputeError('UNSUPPORTED_FEATURE', `${feature} is not supported by the XSC meter: ${detail}`, { feature })
}

function limitExceeded(what: string, got: number, max: number): never {
  throw new ComputeError('LIMIT_EXCEEDED', `${what} ${got} exceeds the limit ${max}`, { what, got, max })
}

function checkValType(t: number, where: string): void {
  if (t === V128) unsupported('SIMD', `v128 value type in ${where}`)
  if (t !== I32 && t !== I64 && t !== F32 && t !== F64 && t !== 0x70 && t !== 0x6f) unsupported('value type', `0x${t.toString(16)} in ${where}`)
}

interface Section { id: number; body: Uint8Array }

function readSections(bytes: Uint8Array): Section[] {
  const r = new WasmReader(bytes)
  const magic = r.bytes(4)
  if (magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) r.fail('bad magic (a component? use kind "component")')
  const version = r.bytes(4)
  if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) {
    r.fail(version[0] === 0x0d ? 'this is a component, not a core module' : 'unknown binary version')
  }
  const sections: Section[] = []
  while (!r.done) {
    const id = r.u8()
    const size = r.u32()
    sections.push({ id, body: r.bytes(size) })
  }
  return sections
}

function readLimits(r: WasmReader, what: string): { min: number; max: number | undefined } {
  const flag = r.u8()
  if (flag === 0x02 || flag === 0x03) unsupported('threads', `shared ${what}`)
  if (flag >= 0x04) unsupported('memory64', `${what} limits flag 0x${flag.toString(16)}`)
  const min = r.u32()
  const max = flag === 0x01 ? r.u32() : undefined
  return { min, max }
}

/**
 * Clamps a memory/table maximum to the policy. An import without a maximum stays without one:
 * its provider is a defined memory/table of another instrumented module, clamped there, and
 * adding a maximum to the import would make linking demand one from the provider.
 */
function writeClampedLimits(w: WasmWriter, lim: { min: number; max: number | undefined }, cap: number, what: string, isImport = false): void {
  if (lim.min > cap) limitExceeded(`initial ${what}`, lim.min, cap)
  if (isImport && lim.max === undefined) w.u8(0x00).u32(lim.min)
  else w.u8(0x01).u32(lim.min).u32(Math.min(lim.max ?? cap, cap))
}

/** Copies a constant expression, renumbering global.get indices. */
function copyConstExpr(r: WasmReader, w: WasmWriter, remapGlobal: (i: number) => number): void {
  for (;;) {
    const op = r.u8()
    w.u8(op)
    switch (op) {
      case 0x0b: return
      case 0x41: w.sleb(r.sleb(32)); break
      case 0x42: w.sleb(r.sleb(64)); break
      case 0x43: w.bytes(r.bytes(4)); break
      case 0x44: w.bytes(r.bytes(8)); break
      case 0x23: w.u32(remapGlobal(r.u32())); break
      case 0xd0: w.u8(r.u8()); break
      case 0xd2: w.u32(r.u32()); break
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break // extended-const arithmetic
      case 0xfd: unsupported('SIMD', 'v128.const in a constant expression'); break
      default: r.fail(`opcode 0x${op.toString(16)} in a constant expression`)
    }
  }
}

export function instrumentModule(bytes: Uint8Array, opts: InstrumentOpts = DEFAULT_INSTRUMENT_OPTS): InstrumentedModule {
  const sections = readSections(bytes)
  const types: FuncType[] = []
  const imports: ModuleImport[] = []
  const exports: ModuleExport[] = []
  const funcTypeIdx: number[] = [] // for all functions, imported first
  let importedGlobals = 0
  let definedGlobals = 0
  let importedFuncs = 0
  let startFunc: number | undefined
  const importTypeIdx = new Map<number, number>() // import position → type index

  // ---- pass 1: read the declarations the code rewrite depends on ----
  for (const s of sections) {
    const r = new WasmReader(s.body)
    if (s.id === 1) {
      const n = r.u32()
      for (let i = 0; i < n; i++) {
        const form = r.u8()
        if (form !== 0x60) unsupported('GC types', `type form 0x${form.toString(16)}`)
        const params: number[] = []
        const results: number[] = []
        for (let k = r.u32(); k > 0; k--) { const t = r.u8(); checkValType(t, 'a function type'); params.push(t) }
        for (let k = r.u32(); k > 0; k--) { const t = r.u8(); checkValType(t, 'a function type'); results.push(t) }
        types.push({ params, results })
      }
    } else if (s.id === 2) {
      const n = r.u32()
      for (let i = 0; i < n; i++) {
        const module = r.name()
        const name = r.name()
        const kind = r.u8()
        if (kind === 0x04) unsupported('exception handling', `tag import ${module}.${name}`)
        if (kind > 3) r.fail(`import kind ${kind}`)
        if (module === METER_MODULE) throw new ComputeError('UNSUPPORTED_IMPORT', `module may not import from the reserved ${METER_MODULE} namespace`)
        imports.push({ module, name, kind: KIND_NAMES[kind]! })
        if (kind === 0) { funcTypeIdx.push(r.u32()); importedFuncs++; importTypeIdx.set(imports.length - 1, funcTypeIdx[funcTypeIdx.length - 1]!) }
        else if (kind === 1) { checkValType(r.u8(), 'a table'); readLimits(r, 'table') }
        else if (kind === 2) readLimits(r, 'memory')
        else { checkValType(r.u8(), 'a global'); r.u8(); importedGlobals++ }
      }
    } else if (s.id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypeIdx.push(r.u32())
    } else if (s.id === 5) {
      if (r.u32() > 1) unsupported('multi-memory', 'more than one memory')
    } else if (s.id === 6) {
      definedGlobals = r.u32()
    } else if (s.id === 8) {
      startFunc = r.u32()
    } else if (s.id === 13) {
      unsupported('exception handling', 'tag section')
    }
  }
  for (const t of funcTypeIdx) if (types[t] === undefined) throw new ComputeError('MALFORMED_WASM', `function type index ${t} out of range`)
  for (const [i, t] of importTypeIdx) imports[i]!.type = types[t]

  const imported = opts.meterGlobals === 'imported'
  const globalShift = imported ? 2 : 0
  const remapGlobal = (i: number): number => (i >= importedGlobals ? i + globalShift : i)
  const G_FUEL = imported ? importedGlobals : importedGlobals + definedGlobals
  const G_OOM = G_FUEL + 1
  if (!Number.isInteger(opts.maxCallDepth) || opts.maxCallDepth < 1 || BigInt(opts.maxCallDepth) >= DEPTH_MASK) {
    throw new ComputeError('BAD_REQUEST', `maxCallDepth must be in [1, ${DEPTH_MASK - 1n}]`)
  }
  const extraTypes: FuncType[] = []
  const blockTypeFor = (results: number[]): number => {
    // index of a () -> results type, added to the type section if absent
    const same = (t: FuncType): boolean => t.params.length === 0 && t.results.length === results.length && t.results.every((v, i) => v === results[i])
    const found = types.findIndex(same)
    if (found >= 0) return found
    const extra = extraTypes.findIndex(same)
    if (extra >= 0) return types.length + extra
    extraTypes.push({ params: [], results })
    return types.length + extraTypes.length - 1
  }

  // In defined mode the host can read the meter only after instantiation, so the start
  // function becomes an export the host calls first (same order: after segment init).
  const meterExportCount = 2 + (startFunc === undefined ? 0 : 1)
  const writeMeterExports = (w: WasmWriter): WasmWriter => {
    w.name(METER_EXPORTS.fuel).u8(3).u32(G_FUEL)
    w.name(METER_EXPORTS.oom).u8(3).u32(G_OOM)
    if (startFunc !== undefined) w.name(METER_EXPORTS.start).u8(0).u32(startFunc)
    return w
  }

  // ---- pass 2: rewrite ----
  const out: Section[] = []
  for (const s of sections) {
    const r = new WasmReader(s.body)
    const w = new WasmWriter()
    switch (s.id) {
      case 8:
        if (imported) out.push(s)
        break
      case 2: { // imports: clamp memory/table limits of imported ones, append meter globals
        const n = r.u32()
        w.u32(n + (imported ? 2 : 0))
        for (let i = 0; i < n; i++) {
          w.name(r.name()).name(r.name())
          const kind = r.u8()
          w.u8(kind)
          if (kind === 0) w.u32(r.u32())
          else if (kind === 1) { w.u8(r.u8()); writeClampedLimits(w, readLimits(r, 'table'), opts.maxTableElements, 'table elements', true) }
          else if (kind === 2) writeClampedLimits(w, readLimits(r, 'memory'), opts.maxMemoryPages, 'memory pages', true)
          else { w.u8(r.u8()).u8(r.u8()) }
        }
        if (imported) writeMeterImports(w)
        out.push({ id: 2, body: w.finish() })
        break
      }
      case 4: {
        const n = r.u32()
        w.u32(n)
        for (let i = 0; i < n; i++) {
          const t = r.u8()
          if (t === 0x40) unsupported('typed function references', 'table with initializer')
          w.u8(t)
          writeClampedLimits(w, readLimits(r, 'table'), opts.maxTableElements, 'table elements')
        }
        out.push({ id: 4, body: w.finish() })
        break
      }
      case 5: {
        const n = r.u32()
        w.u32(n)
        for (let i = 0; i < n; i++) writeClampedLimits(w, readLimits(r, 'memory'), opts.maxMemoryPages, 'memory pages')
        out.push({ id: 5, body: w.finish() })
        break
      }
      case 6: {
        const n = r.u32()
        w.u32(n + (imported ? 0 : 2))
        for (let i = 0; i < n; i++) {
          const t = r.u8()
          checkValType(t, 'a global')
          w.u8(t).u8(r.u8())
          copyConstExpr(r, w, remapGlobal)
        }
        if (!imported) writeMeterGlobals(w)
        out.push({ id: 6, body: w.finish() })
        break
      }
      case 7: {
        const n = r.u32()
        w.u32(n + (imported ? 0 : meterExportCount))
        for (let i = 0; i < n; i++) {
          const name = r.name()
          const kind = r.u8()
          if (kind > 3) unsupported('exception handling', `tag export ${name}`)
          const index = r.u32()
          if (Object.values(METER_EXPORTS).includes(name as never)) throw new ComputeError('UNSUPPORTED_FEATURE', `export name ${name} is reserved`)
          exports.push({ name, kind: KIND_NAMES[kind]!, index })
          w.name(name).u8(kind).u32(kind === 3 ? remapGlobal(index) : index)
        }
        if (!imported) writeMeterExports(w)
        out.push({ id: 7, body: w.finish() })
        break
      }
      case 9: {
        if (globalShift === 0) { out.push(s); break }
        const n = r.u32()
        w.u32(n)
        for (let i = 0; i < n; i++) copyElementSegment(r, w, remapGlobal)
        out.push({ id: 9, body: w.finish() })
        break
      }
      case 11: {
        if (globalShift === 0) { out.push(s); break }
        const n = r.u32()
        w.u32(n)
        for (let i = 0; i < n; i++) {
          const flag = r.u32()
          w.u32(flag)
          if (flag === 2) w.u32(r.u32())
          if (flag === 0 || flag === 2) copyConstExpr(r, w, remapGlobal)
          else if (flag !== 1) r.fail(`data segment flag ${flag}`)
          const len = r.u32()
          w.u32(len).bytes(r.bytes(len))
        }
        out.push({ id: 11, body: w.finish() })
        break
      }
      case 10: {
        const n = r.u32()
        if (n !== funcTypeIdx.length - importedFuncs) r.fail('function and code section counts differ')
        w.u32(n)
        for (let i = 0; i < n; i++) {
          const size = r.u32()
          const body = new WasmReader(r.buf, r.pos, r.pos + size)
          r.pos += size
          const type = types[funcTypeIdx[importedFuncs + i]!]!
          const rewritten = rewriteBody(body, type, { opts, G_FUEL, G_OOM, remapGlobal, blockTypeFor, funcIndex: importedFuncs + i })
          w.sized(rewritten)
        }
        out.push({ id: 10, body: w.finish() })
        break
      }
      default:
        out.push(s)
    }
  }

  // sections the rewrite needs that the module lacked
  const ensure = (id: number, make: () => Uint8Array): void => {
    if (out.some((s) => s.id === id)) return
    const rank = SECTION_RANK[id]!
    const at = out.findIndex((s) => s.id !== 0 && SECTION_RANK[s.id]! > rank)
    out.splice(at < 0 ? out.length : at, 0, { id, body: make() })
  }
  if (imported) ensure(2, () => writeMeterImports(new WasmWriter().u32(2)).finish())
  else {
    ensure(6, () => writeMeterGlobals(new WasmWriter().u32(2)).finish())
    ensure(7, () => writeMeterExports(new WasmWriter().u32(meterExportCount)).finish())
  }
  if (extraTypes.length > 0) {
    const w = new WasmWriter().u32(types.length + extraTypes.length)
    for (const t of [...types, ...extraTypes]) {
      w.u8(0x60).u32(t.params.length)
      for (const p of t.params) w.u8(p)
      w.u32(t.results.length)
      for (const v of t.results) w.u8(v)
    }
    const idx = out.findIndex((s) => s.id === 1)
    if (idx >= 0) out[idx] = { id: 1, body: w.finish() }
    else ensure(1, () => w.finish())
  }

  const final = new WasmWriter().bytes(bytes.subarray(0, 8))
  for (const s of out) final.u8(s.id).u32(s.body.length).bytes(s.body)

  const exportedFuncTypes = new Map<string, FuncType>()
  for (const e of exports) if (e.kind === 'func') { const t = types[funcTypeIdx[e.index] ?? -1]; if (t) exportedFuncTypes.set(e.name, t) }
  return { bytes: final.finish().slice(), imports, exports, exportedFuncTypes, opts, hasStart: startFunc !== undefined }
}

function writeMeterImports(w: WasmWriter): WasmWriter {
  w.name(METER_MODULE).name('fuel').u8(3).u8(I64).u8(1)
  w.name(METER_MODULE).name('oom').u8(3).u8(I32).u8(1)
  return w
}

function writeMeterGlobals(w: WasmWriter): WasmWriter {
  w.u8(I64).u8(1).u8(0x42).sleb(0n).u8(0x0b) // fuel << 16 | depth, set by the host before the call
  w.u8(I32).u8(1).u8(0x41).sleb(0n).u8(0x0b) // 1 once a memory.grow was denied
  return w
}

function copyElementSegment(r: WasmReader, w: WasmWriter, remapGlobal: (i: number) => number): void {
  const flag = r.u32()
  w.u32(flag)
  if (flag > 7) r.fail(`element segment flag ${flag}`)
  const passiveOrDeclarative = (flag & 1) !== 0
  const explicitTable = (flag & 2) !== 0
  const usesExprs = (flag & 4) !== 0
  if (!passiveOrDeclarative) {
    if (explicitTable) w.u32(r.u32())
    copyConstExpr(r, w, remapGlobal)
  }
  if (passiveOrDeclarative || explicitTable) w.u8(r.u8()) // elemkind or reftype
  const n = r.u32()
  w.u32(n)
  for (let i = 0; i < n; i++) {
    if (usesExprs) copyConstExpr(r, w, remapGlobal)
    else w.u32(r.u32())
  }
}

interface RewriteCtx {
  opts: InstrumentOpts
  G_FUEL: number
  G_OOM: number
  remapGlobal: (i: number) => number
  blockTypeFor: (results: number[]) => number
  funcIndex: number
}

// Opcodes that end a basic block: control transfer or a join point follows them.
const ENDS_BLOCK = new Set([0x00, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f])
// Float ops whose result may be a NaN with a machine-dependent bit pattern.
const F32_NAN_OPS = new Set([0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0xb6])
const F64_NAN_OPS = new Set([0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xbb])

function rewriteBody(r: WasmReader, type: FuncType, ctx: RewriteCtx): WasmWriter {
  const { G_FUEL, G_OOM } = ctx
  // locals
  const localDecls: [number, number][] = []
  let localCount = type.params.length
  for (let n = r.u32(); n > 0; n--) {
    const count = r.u32()
    const t = r.u8()
    checkValType(t, `locals of function ${ctx.funcIndex}`)
    localCount += count
    if (localCount > ctx.opts.maxLocalsPerFunction) limitExceeded(`locals in function ${ctx.funcIndex}`, localCount, ctx.opts.maxLocalsPerFunction)
    localDecls.push([count, t])
  }
  // Fuel lives in a local (a register in optimized code) and is written back to the global
  // only where other code reads it: before calls, at function exit and when a check fails.
  // The global is therefore exact at every call boundary, host call and normal exit; after a
  // wasm trap it may be stale, which is why a trap is charged the whole fuel limit.
  const L_FUEL = localCount
  const L_I32 = localCount + 1
  const L_I32B = localCount + 2
  const L_F32 = localCount + 3
  const L_F64 = localCount + 4
  // fuel - amount is on the stack: keep it in the local, store it, optionally trap if < 0
  const store = (w: WasmWriter, check: boolean): void => {
    if (!check) { w.u8(0x21).u32(L_FUEL); return }
    w.u8(0x22).u32(L_FUEL).u8(0x42).sleb(0n).u8(0x53).u8(0x04).u8(0x40)
    w.u8(0x20).u32(L_FUEL).u8(0x24).u32(G_FUEL).u8(0x00).u8(0x0b)
  }
  const writeBack = (w: WasmWriter): WasmWriter => w.u8(0x20).u32(L_FUEL).u8(0x24).u32(G_FUEL)
  const reload = (w: WasmWriter): WasmWriter => w.u8(0x23).u32(G_FUEL).u8(0x21).u32(L_FUEL)

  // A first scan decides whether this function can call (and so needs the depth counter).
  const codeStart = r.pos
  const canCall = scanForCalls(r)
  r.pos = codeStart

  const body = new WasmWriter()
  let seg = new WasmWriter()
  let segCost = 0
  let segCheck = true // the function-entry block checks
  let entry = true
  const flush = (): void => {
    if (entry && canCall) {
      // entry of a calling function: depth += 1 and the block's fuel in one subtraction, then
      // trap if fuel < 0 or depth > max (the trap leaves both visible in the global)
      body.u8(0x20).u32(L_FUEL).u8(0x42).sleb((BigInt(Math.max(1, segCost)) << DEPTH_BITS) - 1n).u8(0x7d).u8(0x22).u32(L_FUEL)
      body.u8(0x42).sleb(0n).u8(0x53)
      body.u8(0x20).u32(L_FUEL).u8(0x42).sleb(DEPTH_MASK).u8(0x83).u8(0x42).sleb(BigInt(ctx.opts.maxCallDepth)).u8(0x56).u8(0x72)
      body.u8(0x04).u8(0x40).u8(0x20).u32(L_FUEL).u8(0x24).u32(G_FUEL).u8(0x00).u8(0x0b)
    } else if (segCheck) {
      body.u8(0x20).u32(L_FUEL).u8(0x42).sleb(BigInt(Math.max(1, segCost)) << DEPTH_BITS).u8(0x7d)
      store(body, true)
    } else if (segCost > 0) {
      body.u8(0x20).u32(L_FUEL).u8(0x42).sleb(BigInt(segCost) << DEPTH_BITS).u8(0x7d)
      store(body, false)
    }
    entry = false
    body.bytes(seg.finish())
    seg = new WasmWriter()
    segCost = 0
    segCheck = false
  }
  // Charges (top-of-stack i32 operand >> or << shift) fuel, trapping at once if fuel runs out.
  const dynamicCharge = (shift: bigint, left: boolean): void => {
    seg.u8(0x22).u32(L_I32) // local.tee: operand stays on the stack
    seg.u8(0x20).u32(L_FUEL).u8(0x20).u32(L_I32).u8(0xad) // i64.extend_i32_u
    seg.u8(0x42).sleb(shift).u8(left ? 0x86 : 0x88) // i64.shl / i64.shr_u
    seg.u8(0x42).sleb(DEPTH_BITS).u8(0x86).u8(0x7d) // into fuel units of the packed meter
    store(seg, true)
  }

  reload(body)
  // Wrap the body in a block so every exit (fallthrough, br to the function label, return)
  // reaches the depth decrement and the fuel write-back after it.
  const res = type.results
  body.u8(0x02)
  if (res.length === 0) body.u8(0x40)
  else if (res.length === 1) body.u8(res[0]!)
  else body.sleb(BigInt(ctx.blockTypeFor(res)))

  let depth = 0 // open control frames inside the function
  for (;;) {
    const start = r.pos
    const op = r.u8()
    if (op === 0x0b && depth === 0) {
      flush()
      body.u8(0x0b)
      if (canCall) body.u8(0x20).u32(L_FUEL).u8(0x42).sleb(1n).u8(0x7d).u8(0x21).u32(L_FUEL) // depth -= 1
      writeBack(body).u8(0x0b)
      if (!r.done) r.fail(`bytes after the end of function ${ctx.funcIndex}`)
      break
    }
    segCost += computeOpcodeCost(op)
    let copyRaw = true
    switch (op) {
      case 0x02: case 0x03: case 0x04: {
        const bt = r.sleb(33)
        if (bt === -5n) unsupported('SIMD', 'v128 block type')
        depth++
        break
      }
      case 0x0b: depth--; break
      case 0x0c: case 0x0d: r.u32(); break
      case 0x0e: for (let n = r.u32() + 1; n > 0; n--) r.u32(); break
      case 0x0f:
        seg.u8(0x0c).u32(depth) // br to the wrapper block
        copyRaw = false
        break
      case 0x10: r.u32(); reload(writeBack(seg).bytes(r.buf.subarray(start, r.pos))); copyRaw = false; break
      case 0x11: r.u32(); r.u32(); reload(writeBack(seg).bytes(r.buf.subarray(start, r.pos))); copyRaw = false; break
      case 0x12: case 0x13: unsupported('tail calls', `return_call in function ${ctx.funcIndex}`); break
      case 0x14: case 0x15: unsupported('typed function references', `call_ref in function ${ctx.funcIndex}`); break
      case 0x06: case 0x07: case 0x08: case 0x09: case 0x18: case 0x19: case 0x1f:
        unsupported('exception handling', `opcode 0x${op.toString(16)} in function ${ctx.funcIndex}`); break
      case 0x1c: for (let n = r.u32(); n > 0; n--) checkValType(r.u8(), 'select'); break
      case 0x20: case 0x21: case 0x22: r.u32(); break
      case 0x23: case 0x24: seg.u8(op).u32(ctx.remapGlobal(r.u32())); copyRaw = false; break
      case 0x25: case 0x26: r.u32(); break
      case 0x3f: if (r.u8() !== 0) unsupported('multi-memory', 'memory.size index'); break
      case 0x40: {
        if (r.u8() !== 0) unsupported('multi-memory', 'memory.grow index')
        // Pages are paid only when the grow succeeds; a denied grow returns -1 and sets oom.
        seg.u8(0x21).u32(L_I32B).u8(0x20).u32(L_I32B).u8(0x40).u8(0x00)
        seg.u8(0x22).u32(L_I32).u8(0x41).sleb(-1n).u8(0x46).u8(0x04).u8(0x40).u8(0x41).sleb(1n).u8(0x24).u32(G_OOM).u8(0x05)
        seg.u8(0x20).u32(L_FUEL).u8(0x20).u32(L_I32B).u8(0xad).u8(0x42).sleb(PAGE_FUEL_SHIFT + DEPTH_BITS).u8(0x86).u8(0x7d)
        store(seg, true)
        seg.u8(0x0b).u8(0x20).u32(L_I32)
        copyRaw = false
        break
      }
      case 0x41: r.sleb(32); break
      case 0x42: r.sleb(64); break
      case 0x43: r.bytes(4); break
      case 0x44: r.bytes(8); break
      case 0xd0: { const t = r.u8(); if (t !== 0x70 && t !== 0x6f) unsupported('GC', `ref.null of heap type 0x${t.toString(16)}`); break }
      case 0xd1: break
      case 0xd2: r.u32(); break
      case 0xfc: {
        const sub = r.u32()
        copyRaw = false
        if (sub <= 7) { seg.bytes(r.buf.subarray(start, r.pos)); break } // trunc_sat: base cost
        segCost += COST.bulk - 1
        switch (sub) {
          case 8: r.u32(); if (r.u8() !== 0) unsupported('multi-memory', 'memory.init index'); dynamicCharge(BYTES_PER_FUEL_SHIFT, false); break
          case 9: r.u32(); break // data.drop
          case 10: if (r.u8() !== 0 || r.u8() !== 0) unsupported('multi-memory', 'memory.copy index'); dynamicCharge(BYTES_PER_FUEL_SHIFT, false); break
          case 11: if (r.u8() !== 0) unsupported('multi-memory', 'memory.fill index'); dynamicCharge(BYTES_PER_FUEL_SHIFT, false); break
          case 12: r.u32(); r.u32(); dynamicCharge(ELEM_FUEL_SHIFT, true); break
          case 13: r.u32(); break // elem.drop
          case 14: r.u32(); r.u32(); dynamicCharge(ELEM_FUEL_SHIFT, true); break
          case 15: r.u32(); dynamicCharge(ELEM_FUEL_SHIFT, true); break
          case 16: r.u32(); break
          case 17: r.u32(); dynamicCharge(ELEM_FUEL_SHIFT, true); break
          default: unsupported('0xfc instruction', `0xfc ${sub} in function ${ctx.funcIndex}`)
        }
        seg.bytes(r.buf.subarray(start, r.pos))
        break
      }
      case 0xfd: unsupported('SIMD', `opcode 0xfd in function ${ctx.funcIndex}`); break
      case 0xfe: unsupported('threads', `atomic opcode 0xfe in function ${ctx.funcIndex}`); break
      case 0xfb: unsupported('GC', `opcode 0xfb in function ${ctx.funcIndex}`); break
      default:
        if (op >= 0x28 && op <= 0x3e) {
          const align = r.u32()
          if (align & 0x40) unsupported('multi-memory', 'memarg with memory index')
          r.u32()
        } else if (!((op >= 0x45 && op <= 0xc4) || op === 0x00 || op === 0x01 || op === 0x05 || op === 0x1a || op === 0x1b)) {
          unsupported('instruction', `opcode 0x${op.toString(16)} in function ${ctx.funcIndex}`)
        }
    }
    if (copyRaw) seg.bytes(r.buf.subarray(start, r.pos))
    if (F32_NAN_OPS.has(op)) {
      seg.u8(0x22).u32(L_F32).u8(0x43).bytes(new Uint8Array([0x00, 0x00, 0xc0, 0x7f])).u8(0x20).u32(L_F32).u8(0x20).u32(L_F32).u8(0x5b).u8(0x1b)
    } else if (F64_NAN_OPS.has(op)) {
      seg.u8(0x22).u32(L_F64).u8(0x44).bytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f])).u8(0x20).u32(L_F64).u8(0x20).u32(L_F64).u8(0x61).u8(0x1b)
    }
    if (op === 0x03) { flush(); segCheck = true } else if (ENDS_BLOCK.has(op)) flush()
  }

  const w = new WasmWriter()
  const extra: [number, number][] = []
  // Temps are always declared, in a fixed order, so their indices are fixed.
  extra.push([1, I64], [2, I32], [1, F32], [1, F64])
  w.u32(localDecls.length + extra.length)
  for (const [c, t] of [...localDecls, ...extra]) w.u32(c).u8(t)
  w.bytes(body.finish())
  return w
}

/** True when the body contains a call; skips immediates exactly like the rewriter. */
function scanForCalls(r: WasmReader): boolean {
  let depth = 0
  for (;;) {
    const op = r.u8()
    switch (op) {
      case 0x0b: if (depth === 0) return false; depth--; break
      case 0x02: case 0x03: case 0x04: r.sleb(33); depth++; break
      case 0x0c: case 0x0d: r.u32(); break
      case 0x0e: for (let n = r.u32() + 1; n > 0; n--) r.u32(); break
      case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: return true
      case 0x1c: for (let n = r.u32(); n > 0; n--) r.u8(); break
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0xd2: r.u32(); break
      case 0x3f: case 0x40: case 0xd0: r.u8(); break
      case 0x41: r.sleb(32); break
      case 0x42: r.sleb(64); break
      case 0x43: r.bytes(4); break
      case 0x44: r.bytes(8); break
      case 0xfc: {
        const sub = r.u32()
        if (sub === 8) { r.u32(); r.u8() } else if (sub === 9 || sub === 13 || sub === 15 || sub === 16 || sub === 17) r.u32()
        else if (sub === 10) { r.u8(); r.u8() } else if (sub === 11) r.u8()
        else if (sub === 12 || sub === 14) { r.u32(); r.u32() }
        break
      }
      default:
        if (op >= 0x28 && op <= 0x3e) { r.u32(); r.u32() }
        else if (op === 0xfd || op === 0xfe || op === 0xfb || op === 0x06 || op === 0x07 || op === 0x08 || op === 0x09 || op === 0x18 || op === 0x19 || op === 0x1f) return true // the rewrite refuses these
    }
  }
}
