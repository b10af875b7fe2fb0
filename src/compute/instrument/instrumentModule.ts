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
 *
 * Layers, each in its own file: sections (`wasmSections.ts`), declarations read first
 * (`readDeclarations.ts`), declaration sections rewritten (`rewriteSections.ts`), and function
 * bodies (`rewriteFunctionBody.ts`, which decodes through `instructionTable.ts`).
 */
import { ComputeError } from '../errors.ts'
import { countMeterExports, DEPTH_MASK, writeMeterExports, writeMeterGlobals, writeMeterImports } from './meterGlobals.ts'
import { type ModuleDeclarations, type ModuleImport, readDeclarations } from './readDeclarations.ts'
import { rewriteFunctionBody, type RewriteFunctionCtx } from './rewriteFunctionBody.ts'
import {
  type ModuleExport,
  rewriteDataSection,
  rewriteElementSection,
  rewriteExportSection,
  rewriteGlobalSection,
  rewriteImportSection,
  rewriteMemorySection,
  rewriteTableSection,
  type SectionRewriteCtx,
} from './rewriteSections.ts'
import { WasmReader, WasmWriter } from './wasmBytes.ts'
import { encodeModule, HEADER_BYTES, insertSection, readSections, SECTION, type Section } from './wasmSections.ts'
import { FUNC_TYPE_FORM, type FuncType } from './wasmTypes.ts'

export { DEPTH_BITS, DEPTH_MASK, METER_EXPORTS, METER_MODULE } from './meterGlobals.ts'
export type { ModuleImport } from './readDeclarations.ts'
export type { ModuleExport } from './rewriteSections.ts'
export type { FuncType } from './wasmTypes.ts'

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

/** The code section with every function body rewritten. */
function rewriteCodeSection(body: Uint8Array, decl: ModuleDeclarations, ctx: Omit<RewriteFunctionCtx, 'funcIndex'>): Uint8Array {
  const r = new WasmReader(body)
  const w = new WasmWriter()
  const n = r.u32()
  if (n !== decl.funcTypeIdx.length - decl.importedFuncs) r.fail('function and code section counts differ')
  w.u32(n)
  for (let i = 0; i < n; i++) {
    const size = r.u32()
    const fn = new WasmReader(r.buf, r.pos, r.pos + size)
    r.pos += size
    const funcIndex = decl.importedFuncs + i
    w.sized(rewriteFunctionBody(fn, decl.types[decl.funcTypeIdx[funcIndex]!]!, { ...ctx, funcIndex }))
  }
  return w.finish()
}

function encodeTypeSection(types: FuncType[]): Uint8Array {
  const w = new WasmWriter().u32(types.length)
  for (const t of types) {
    w.u8(FUNC_TYPE_FORM).u32(t.params.length)
    for (const p of t.params) w.u8(p)
    w.u32(t.results.length)
    for (const v of t.results) w.u8(v)
  }
  return w.finish()
}

export function instrumentModule(bytes: Uint8Array, opts: InstrumentOpts = DEFAULT_INSTRUMENT_OPTS): InstrumentedModule {
  const sections = readSections(bytes)
  const decl = readDeclarations(sections)
  const { types, importedGlobals, definedGlobals, startFunc } = decl

  const imported = opts.meterGlobals === 'imported'
  const globalShift = imported ? 2 : 0
  const remapGlobal = (i: number): number => (i >= importedGlobals ? i + globalShift : i)
  const fuelGlobal = imported ? importedGlobals : importedGlobals + definedGlobals
  const oomGlobal = fuelGlobal + 1
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
  const meterExportCount = countMeterExports(startFunc)
  const ctx: SectionRewriteCtx = { maxMemoryPages: opts.maxMemoryPages, maxTableElements: opts.maxTableElements, imported, remapGlobal, fuelGlobal, oomGlobal, startFunc }
  const exports: ModuleExport[] = []

  const out: Section[] = []
  for (const s of sections) {
    switch (s.id) {
      case SECTION.start: if (imported) out.push(s); break // defined mode exports it instead
      case SECTION.import: out.push({ id: s.id, body: rewriteImportSection(s.body, ctx) }); break
      case SECTION.table: out.push({ id: s.id, body: rewriteTableSection(s.body, ctx) }); break
      case SECTION.memory: out.push({ id: s.id, body: rewriteMemorySection(s.body, ctx) }); break
      case SECTION.global: out.push({ id: s.id, body: rewriteGlobalSection(s.body, ctx) }); break
      case SECTION.export: out.push({ id: s.id, body: rewriteExportSection(s.body, ctx, meterExportCount, exports) }); break
      case SECTION.element: out.push(globalShift === 0 ? s : { id: s.id, body: rewriteElementSection(s.body, ctx) }); break
      case SECTION.data: out.push(globalShift === 0 ? s : { id: s.id, body: rewriteDataSection(s.body, ctx) }); break
      case SECTION.code:
        out.push({ id: s.id, body: rewriteCodeSection(s.body, decl, { opts, fuelGlobal, oomGlobal, remapGlobal, blockTypeFor }) })
        break
      default: out.push(s)
    }
  }

  // sections the rewrite needs that the module lacked
  const ensure = (id: number, make: () => Uint8Array): void => {
    if (!out.some((s) => s.id === id)) insertSection(out, id, make())
  }
  if (imported) ensure(SECTION.import, () => writeMeterImports(new WasmWriter().u32(2)).finish())
  else {
    ensure(SECTION.global, () => writeMeterGlobals(new WasmWriter().u32(2)).finish())
    ensure(SECTION.export, () => writeMeterExports(new WasmWriter().u32(meterExportCount), fuelGlobal, oomGlobal, startFunc).finish())
  }
  if (extraTypes.length > 0) {
    const body = encodeTypeSection([...types, ...extraTypes])
    const idx = out.findIndex((s) => s.id === SECTION.type)
    if (idx >= 0) out[idx] = { id: SECTION.type, body }
    else ensure(SECTION.type, () => body)
  }

  const exportedFuncTypes = new Map<string, FuncType>()
  for (const e of exports) if (e.kind === 'func') { const t = types[decl.funcTypeIdx[e.index] ?? -1]; if (t) exportedFuncTypes.set(e.name, t) }
  return { bytes: encodeModule(bytes.subarray(0, HEADER_BYTES), out), imports: decl.imports, exports, exportedFuncTypes, opts, hasStart: startFunc !== undefined }
}
