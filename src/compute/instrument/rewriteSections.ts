/**
 * Second pass over the declaration sections: memory and table maxima clamped to the policy,
 * the meter globals imported or defined and exported, global indices renumbered where the
 * meter globals were imported in front of the module's own.
 */
import { ComputeError } from '../errors.ts'
import { METER_EXPORTS, writeMeterExports, writeMeterGlobals, writeMeterImports } from './meterGlobals.ts'
import { limitExceeded, unsupported } from './meterRefusals.ts'
import { WasmReader, WasmWriter } from './wasmBytes.ts'
import { OP } from './wasmOpcodes.ts'
import { checkValType, EXTERNAL_KIND, EXTERNAL_KIND_NAMES, type ExternalKindName, LIMITS, type Limits, readLimits } from './wasmTypes.ts'

export interface ModuleExport { name: string; kind: ExternalKindName; index: number }

export interface SectionRewriteCtx {
  maxMemoryPages: number
  maxTableElements: number
  /** imported mode: the meter globals are imports from `xsc_meter`, shifting defined globals by 2 */
  imported: boolean
  remapGlobal: (i: number) => number
  fuelGlobal: number
  oomGlobal: number
  startFunc: number | undefined
}

// A table type byte that starts a table with an initializer expression (typed function references).
const TABLE_WITH_INITIALIZER = 0x40
// Element segment flag bits: passive or declarative, an explicit table index, expressions instead of indices.
const ELEM_PASSIVE_OR_DECLARATIVE = 1
const ELEM_EXPLICIT_TABLE = 2
const ELEM_USES_EXPRESSIONS = 4
// Data segment flags: active in memory 0, passive, active with an explicit memory index.
const DATA = { active: 0, passive: 1, activeExplicit: 2 } as const

/**
 * Clamps a memory/table maximum to the policy. An import without a maximum stays without one:
 * its provider is a defined memory/table of another instrumented module, clamped there, and
 * adding a maximum to the import would make linking demand one from the provider.
 */
function writeClampedLimits(w: WasmWriter, lim: Limits, cap: number, what: string, isImport = false): void {
  if (lim.min > cap) limitExceeded(`initial ${what}`, lim.min, cap)
  if (isImport && lim.max === undefined) w.u8(LIMITS.minOnly).u32(lim.min)
  else w.u8(LIMITS.minMax).u32(lim.min).u32(Math.min(lim.max ?? cap, cap))
}

/** Copies a constant expression, renumbering global.get indices (immediates are re-encoded). */
function copyConstExpr(r: WasmReader, w: WasmWriter, remapGlobal: (i: number) => number): void {
  for (;;) {
    const op = r.u8()
    w.u8(op)
    switch (op) {
      case OP.end: return
      case OP.i32Const: w.sleb(r.sleb(32)); break
      case OP.i64Const: w.sleb(r.sleb(64)); break
      case OP.f32Const: w.bytes(r.bytes(4)); break
      case OP.f64Const: w.bytes(r.bytes(8)); break
      case OP.globalGet: w.u32(remapGlobal(r.u32())); break
      case OP.refNull: w.u8(r.u8()); break
      case OP.refFunc: w.u32(r.u32()); break
      case OP.i32Add: case OP.i32Sub: case OP.i32Mul: case OP.i64Add: case OP.i64Sub: case OP.i64Mul: break // extended-const arithmetic
      case OP.prefixSimd: unsupported('SIMD', 'v128.const in a constant expression'); break
      default: r.fail(`opcode 0x${op.toString(16)} in a constant expression`)
    }
  }
}

function copyElementSegment(r: WasmReader, w: WasmWriter, remapGlobal: (i: number) => number): void {
  const flag = r.u32()
  w.u32(flag)
  if (flag > 7) r.fail(`element segment flag ${flag}`)
  const passiveOrDeclarative = (flag & ELEM_PASSIVE_OR_DECLARATIVE) !== 0
  const explicitTable = (flag & ELEM_EXPLICIT_TABLE) !== 0
  const usesExprs = (flag & ELEM_USES_EXPRESSIONS) !== 0
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

/**
 * Rewrites a section that is one vector: each entry copied by `copyEntry`; `added` more entries
 * are counted in and written by `append` after the copied ones.
 */
function rewriteVector(body: Uint8Array, copyEntry: (r: WasmReader, w: WasmWriter) => void, added = 0, append?: (w: WasmWriter) => void): Uint8Array {
  const r = new WasmReader(body)
  const w = new WasmWriter()
  const n = r.u32()
  w.u32(n + added)
  for (let i = 0; i < n; i++) copyEntry(r, w)
  if (append !== undefined) append(w)
  return w.finish()
}

/** Imports: limits of imported memories/tables clamped; in imported mode the meter globals appended. */
export function rewriteImportSection(body: Uint8Array, ctx: SectionRewriteCtx): Uint8Array {
  const copyImport = (r: WasmReader, w: WasmWriter): void => {
    w.name(r.name()).name(r.name())
    const kind = r.u8()
    w.u8(kind)
    if (kind === EXTERNAL_KIND.func) w.u32(r.u32())
    else if (kind === EXTERNAL_KIND.table) { w.u8(r.u8()); writeClampedLimits(w, readLimits(r, 'table'), ctx.maxTableElements, 'table elements', true) }
    else if (kind === EXTERNAL_KIND.memory) writeClampedLimits(w, readLimits(r, 'memory'), ctx.maxMemoryPages, 'memory pages', true)
    else { w.u8(r.u8()).u8(r.u8()) }
  }
  return ctx.imported ? rewriteVector(body, copyImport, 2, writeMeterImports) : rewriteVector(body, copyImport)
}

export function rewriteTableSection(body: Uint8Array, ctx: SectionRewriteCtx): Uint8Array {
  return rewriteVector(body, (r, w) => {
    const t = r.u8()
    if (t === TABLE_WITH_INITIALIZER) unsupported('typed function references', 'table with initializer')
    w.u8(t)
    writeClampedLimits(w, readLimits(r, 'table'), ctx.maxTableElements, 'table elements')
  })
}

export function rewriteMemorySection(body: Uint8Array, ctx: SectionRewriteCtx): Uint8Array {
  return rewriteVector(body, (r, w) => writeClampedLimits(w, readLimits(r, 'memory'), ctx.maxMemoryPages, 'memory pages'))
}

/** Globals: initializers renumbered; in defined mode the meter globals appended. */
export function rewriteGlobalSection(body: Uint8Array, ctx: SectionRewriteCtx): Uint8Array {
  const copyGlobal = (r: WasmReader, w: WasmWriter): void => {
    const t = r.u8()
    checkValType(t, 'a global')
    w.u8(t).u8(r.u8())
    copyConstExpr(r, w, ctx.remapGlobal)
  }
  return ctx.imported ? rewriteVector(body, copyGlobal) : rewriteVector(body, copyGlobal, 2, writeMeterGlobals)
}

/** Exports: collected into `exports`, global indices renumbered; in defined mode the meter exports appended. */
export function rewriteExportSection(body: Uint8Array, ctx: SectionRewriteCtx, meterExportCount: number, exports: ModuleExport[]): Uint8Array {
  const copyExport = (r: WasmReader, w: WasmWriter): void => {
    const name = r.name()
    const kind = r.u8()
    if (kind > EXTERNAL_KIND.global) unsupported('exception handling', `tag export ${name}`)
    const index = r.u32()
    if (Object.values(METER_EXPORTS).includes(name as never)) throw new ComputeError('UNSUPPORTED_FEATURE', `export name ${name} is reserved`)
    exports.push({ name, kind: EXTERNAL_KIND_NAMES[kind]!, index })
    w.name(name).u8(kind).u32(kind === EXTERNAL_KIND.global ? ctx.remapGlobal(index) : index)
  }
  if (ctx.imported) return rewriteVector(body, copyExport)
  return rewriteVector(body, copyExport, meterExportCount, (w) => writeMeterExports(w, ctx.fuelGlobal, ctx.oomGlobal, ctx.startFunc))
}

/** Element segments: offsets and initializers renumbered (called only when global indices shift). */
export function rewriteElementSection(body: Uint8Array, ctx: SectionRewriteCtx): Uint8Array {
  return rewriteVector(body, (r, w) => copyElementSegment(r, w, ctx.remapGlobal))
}

/** Data segments: offsets renumbered (called only when global indices shift). */
export function rewriteDataSection(body: Uint8Array, ctx: SectionRewriteCtx): Uint8Array {
  return rewriteVector(body, (r, w) => {
    const flag = r.u32()
    w.u32(flag)
    if (flag === DATA.activeExplicit) w.u32(r.u32())
    if (flag === DATA.active || flag === DATA.activeExplicit) copyConstExpr(r, w, ctx.remapGlobal)
    else if (flag !== DATA.passive) r.fail(`data segment flag ${flag}`)
    const len = r.u32()
    w.u32(len).bytes(r.bytes(len))
  })
}
