import type { WasmReader } from './wasmBytes.ts'
import { MISC_OP, OP } from './wasmOpcodes.ts'

/**
 * The one description of how every instruction's immediates are encoded. Both readers of
 * function bodies (the call scan and the rewrite) skip immediates through `readImmediates`
 * over this table, so they cannot disagree on where the next instruction starts.
 */
export type Immediate =
  | 'blockType' // s33: empty, a value type or a type index
  | 'label' | 'func' | 'type' | 'table' | 'local' | 'global' | 'data' | 'elem' // u32 indices
  | 'labelTable' // vec(u32 label), then the default label
  | 'valueTypes' // vec(value type byte): typed select
  | 'memory' // one memory index byte
  | 'memarg' // u32 alignment flags (bit 6 = a memory index follows), u32 offset
  | 'i32' | 'i64' // s32 / s64 constants
  | 'f32' | 'f64' // 4 / 8 raw bytes
  | 'heapType' // one heap type byte

export interface InstructionInfo {
  name: string
  /** immediates in encoding order */
  immediates: readonly Immediate[]
  /** block, loop, if: a control frame the matching `end` closes */
  opensBlock?: true
  /** transfers control to another function */
  calls?: true
  /** the meter refuses it: its immediates are never read */
  refused?: { feature: string; detail: string }
}

function buildInstructionTable(): (InstructionInfo | undefined)[] {
  const table: (InstructionInfo | undefined)[] = Array.from({ length: 256 }, () => undefined)
  const define = (op: number, name: string, immediates: readonly Immediate[] = [], extra: Omit<InstructionInfo, 'name' | 'immediates'> = {}): void => {
    table[op] = { name, immediates, ...extra }
  }
  const refuse = (op: number, name: string, feature: string, detail = `opcode 0x${op.toString(16)}`): void => {
    define(op, name, [], { refused: { feature, detail } })
  }
  const refuseCall = (op: number, name: string, feature: string, detail: string): void => {
    define(op, name, [], { refused: { feature, detail }, calls: true })
  }
  define(OP.unreachable, 'unreachable')
  define(OP.nop, 'nop')
  define(OP.block, 'block', ['blockType'], { opensBlock: true })
  define(OP.loop, 'loop', ['blockType'], { opensBlock: true })
  define(OP.if, 'if', ['blockType'], { opensBlock: true })
  define(OP.else, 'else')
  for (const [op, name] of [[0x06, 'try'], [0x07, 'catch'], [0x08, 'throw'], [0x09, 'rethrow'], [0x18, 'delegate'], [0x19, 'catch_all'], [0x1f, 'try_table']] as const) {
    refuse(op, name, 'exception handling')
  }
  define(OP.end, 'end')
  define(OP.br, 'br', ['label'])
  define(OP.brIf, 'br_if', ['label'])
  define(OP.brTable, 'br_table', ['labelTable'])
  define(OP.return, 'return')
  define(OP.call, 'call', ['func'], { calls: true })
  define(OP.callIndirect, 'call_indirect', ['type', 'table'], { calls: true })
  refuseCall(0x12, 'return_call', 'tail calls', 'return_call')
  refuseCall(0x13, 'return_call_indirect', 'tail calls', 'return_call')
  refuseCall(0x14, 'call_ref', 'typed function references', 'call_ref')
  refuseCall(0x15, 'return_call_ref', 'typed function references', 'call_ref')
  define(0x1a, 'drop')
  define(0x1b, 'select')
  define(0x1c, 'select', ['valueTypes'])
  define(OP.localGet, 'local.get', ['local'])
  define(OP.localSet, 'local.set', ['local'])
  define(OP.localTee, 'local.tee', ['local'])
  define(OP.globalGet, 'global.get', ['global'])
  define(OP.globalSet, 'global.set', ['global'])
  define(0x25, 'table.get', ['table'])
  define(0x26, 'table.set', ['table'])
  const memoryAccess = [
    'i32.load', 'i64.load', 'f32.load', 'f64.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u',
    'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u',
    'i32.store', 'i64.store', 'f32.store', 'f64.store', 'i32.store8', 'i32.store16', 'i64.store8', 'i64.store16', 'i64.store32',
  ]
  memoryAccess.forEach((name, i) => define(0x28 + i, name, ['memarg']))
  define(0x3f, 'memory.size', ['memory'])
  define(OP.memoryGrow, 'memory.grow', ['memory'])
  define(OP.i32Const, 'i32.const', ['i32'])
  define(OP.i64Const, 'i64.const', ['i64'])
  define(OP.f32Const, 'f32.const', ['f32'])
  define(OP.f64Const, 'f64.const', ['f64'])
  // comparisons, arithmetic, conversions, reinterpretations and sign extensions: no immediates
  for (let op = 0x45; op <= 0xc4; op++) define(op, `numeric 0x${op.toString(16)}`)
  define(OP.refNull, 'ref.null', ['heapType'])
  define(0xd1, 'ref.is_null')
  define(OP.refFunc, 'ref.func', ['func'])
  refuse(OP.prefixGc, 'gc prefix', 'GC')
  refuse(OP.prefixSimd, 'simd prefix', 'SIMD')
  refuse(OP.prefixAtomic, 'atomic prefix', 'threads', 'atomic opcode 0xfe')
  return table
}

function buildMiscInstructionTable(): (InstructionInfo | undefined)[] {
  const table: (InstructionInfo | undefined)[] = []
  const truncSat = ['i32.trunc_sat_f32_s', 'i32.trunc_sat_f32_u', 'i32.trunc_sat_f64_s', 'i32.trunc_sat_f64_u', 'i64.trunc_sat_f32_s', 'i64.trunc_sat_f32_u', 'i64.trunc_sat_f64_s', 'i64.trunc_sat_f64_u']
  truncSat.forEach((name, sub) => { table[sub] = { name, immediates: [] } })
  table[MISC_OP.memoryInit] = { name: 'memory.init', immediates: ['data', 'memory'] }
  table[MISC_OP.dataDrop] = { name: 'data.drop', immediates: ['data'] }
  table[MISC_OP.memoryCopy] = { name: 'memory.copy', immediates: ['memory', 'memory'] }
  table[MISC_OP.memoryFill] = { name: 'memory.fill', immediates: ['memory'] }
  table[MISC_OP.tableInit] = { name: 'table.init', immediates: ['elem', 'table'] }
  table[MISC_OP.elemDrop] = { name: 'elem.drop', immediates: ['elem'] }
  table[MISC_OP.tableCopy] = { name: 'table.copy', immediates: ['table', 'table'] }
  table[MISC_OP.tableGrow] = { name: 'table.grow', immediates: ['table'] }
  table[MISC_OP.tableSize] = { name: 'table.size', immediates: ['table'] }
  table[MISC_OP.tableFill] = { name: 'table.fill', immediates: ['table'] }
  return table
}

/** One-byte opcodes; undefined = unknown to the meter (0xfc is looked up by its sub-opcode). */
export const INSTRUCTIONS: readonly (InstructionInfo | undefined)[] = buildInstructionTable()
/** Instructions behind the 0xfc prefix, by sub-opcode. */
export const MISC_INSTRUCTIONS: readonly (InstructionInfo | undefined)[] = buildMiscInstructionTable()

/** Called with each immediate value as it is read, so a caller can refuse it before the next read. */
export type ImmediateCheck = (kind: Immediate, value: number | bigint, info: InstructionInfo) => void

const skipCheck: ImmediateCheck = () => {}

/**
 * The table entry of the instruction whose opcode byte was just read; for the 0xfc prefix this
 * reads the sub-opcode (`sub`, -1 otherwise). `info` is undefined for an instruction the table
 * does not know: it has no immediates to skip, and the rewrite refuses it.
 */
export function lookupInstruction(r: WasmReader, op: number): { info: InstructionInfo | undefined; sub: number } {
  if (op !== OP.prefixMisc) return { info: INSTRUCTIONS[op], sub: -1 }
  const sub = r.u32()
  return { info: MISC_INSTRUCTIONS[sub], sub }
}

/**
 * Reads the immediates of `info` (nothing for an unknown or refused instruction). `check` sees
 * every index, label, value type, memory index, heap type, alignment flag and integer constant
 * as it is read. Returns the first index immediate, -1 when there is none.
 */
export function readImmediates(r: WasmReader, info: InstructionInfo | undefined, check: ImmediateCheck = skipCheck): number {
  if (info === undefined || info.refused !== undefined) return -1
  let firstIndex = -1
  // Each value is read into a local before `check` sees it: the read must happen in any case.
  for (const kind of info.immediates) {
    switch (kind) {
      case 'label': case 'func': case 'type': case 'table': case 'local': case 'global': case 'data': case 'elem': {
        const index = r.u32()
        check(kind, index, info)
        if (firstIndex < 0) firstIndex = index
        break
      }
      case 'blockType': { const blockType = r.sleb(33); check(kind, blockType, info); break }
      case 'labelTable':
        for (let n = r.u32() + 1; n > 0; n--) { const label = r.u32(); check(kind, label, info) }
        break
      case 'valueTypes':
        for (let n = r.u32(); n > 0; n--) { const t = r.u8(); check(kind, t, info) }
        break
      case 'memory': case 'heapType': { const byte = r.u8(); check(kind, byte, info); break }
      case 'memarg': { const align = r.u32(); check(kind, align, info); r.u32(); break }
      case 'i32': { const value = r.sleb(32); check(kind, value, info); break }
      case 'i64': { const value = r.sleb(64); check(kind, value, info); break }
      case 'f32': r.bytes(4); break
      case 'f64': r.bytes(8); break
    }
  }
  return firstIndex
}
