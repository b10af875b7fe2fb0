import { BYTES_PER_FUEL_SHIFT, computeOpcodeCost, COST, ELEM_FUEL_SHIFT, PAGE_FUEL_SHIFT } from '../costTable.ts'
import { type ImmediateCheck, type InstructionInfo, lookupInstruction, readImmediates } from './instructionTable.ts'
import { DEPTH_BITS, DEPTH_MASK } from './meterGlobals.ts'
import { limitExceeded, unsupported } from './meterRefusals.ts'
import { scanForCalls } from './scanForCalls.ts'
import { type WasmReader, WasmWriter } from './wasmBytes.ts'
import { MISC_OP, OP } from './wasmOpcodes.ts'
import { checkValType, EMPTY_BLOCK_TYPE, type FuncType, V128_BLOCK_TYPE, VALTYPE } from './wasmTypes.ts'

export interface RewriteFunctionCtx {
  opts: { maxCallDepth: number; maxLocalsPerFunction: number }
  /** index of the packed fuel/depth meter global */
  fuelGlobal: number
  /** index of the global set once a memory.grow was denied */
  oomGlobal: number
  remapGlobal: (i: number) => number
  /** index of a `() -> results` type, for the block that wraps a multi-value body */
  blockTypeFor: (results: number[]) => number
  funcIndex: number
}

// Instructions that end a basic block: control transfer or a join point follows them.
const ENDS_BLOCK: ReadonlySet<number> = new Set([OP.unreachable, OP.if, OP.else, OP.end, OP.br, OP.brIf, OP.brTable, OP.return])
// Float ops whose result may be a NaN with a machine-dependent bit pattern: f32 ceil, floor,
// trunc, nearest, sqrt, add, sub, mul, div, min, max and f32.demote_f64; the f64 ones likewise
// with f64.promote_f32.
const F32_NAN_OPS: ReadonlySet<number> = new Set([0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0xb6])
const F64_NAN_OPS: ReadonlySet<number> = new Set([0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xbb])
const CANONICAL_F32_NAN = new Uint8Array([0x00, 0x00, 0xc0, 0x7f]) // 0x7fc00000, little-endian
const CANONICAL_F64_NAN = new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]) // 0x7ff8000000000000
// Bulk ops charged by their length operand (top of stack) on top of COST.bulk.
const BULK_CHARGE: Partial<Record<number, 'bytes' | 'elements'>> = {
  [MISC_OP.memoryInit]: 'bytes',
  [MISC_OP.memoryCopy]: 'bytes',
  [MISC_OP.memoryFill]: 'bytes',
  [MISC_OP.tableInit]: 'elements',
  [MISC_OP.tableCopy]: 'elements',
  [MISC_OP.tableGrow]: 'elements',
  [MISC_OP.tableFill]: 'elements',
}
// memarg alignment bit 6: a memory index follows (multi-memory).
const MEMARG_HAS_MEMORY_INDEX = 0x40

/** Refuses, as each immediate is read, what the meter does not support. */
const checkImmediate: ImmediateCheck = (kind, value, info) => {
  switch (kind) {
    case 'blockType': if (value === V128_BLOCK_TYPE) unsupported('SIMD', 'v128 block type'); break
    case 'valueTypes': checkValType(Number(value), 'select'); break
    case 'memory': if (value !== 0) unsupported('multi-memory', `${info.name} index`); break
    case 'memarg': if (Number(value) & MEMARG_HAS_MEMORY_INDEX) unsupported('multi-memory', 'memarg with memory index'); break
    case 'heapType':
      if (value !== VALTYPE.funcref && value !== VALTYPE.externref) unsupported('GC', `ref.null of heap type 0x${value.toString(16)}`)
      break
    default:
  }
}

function refuseUnknownOrRefused(op: number, sub: number, info: InstructionInfo | undefined, funcIndex: number): void {
  if (info === undefined) {
    if (op === OP.prefixMisc) unsupported('0xfc instruction', `0xfc ${sub} in function ${funcIndex}`)
    unsupported('instruction', `opcode 0x${op.toString(16)} in function ${funcIndex}`)
  }
  if (info.refused !== undefined) unsupported(info.refused.feature, `${info.refused.detail} in function ${funcIndex}`)
}

/**
 * Rewrites one function body (`r` spans it, locals included) so it meters itself: each basic
 * block subtracts its cost when entered, loop headers and the entry check `fuel < 0`, bulk ops
 * and memory.grow pay by their operand, calls keep the meter global exact, a calling function
 * raises and lowers the call depth, and NaN results are canonicalized.
 */
export function rewriteFunctionBody(r: WasmReader, type: FuncType, ctx: RewriteFunctionCtx): WasmWriter {
  const { fuelGlobal, oomGlobal } = ctx
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
    if (!check) { w.u8(OP.localSet).u32(L_FUEL); return }
    w.u8(OP.localTee).u32(L_FUEL).u8(OP.i64Const).sleb(0n).u8(OP.i64LtS).u8(OP.if).u8(EMPTY_BLOCK_TYPE)
    w.u8(OP.localGet).u32(L_FUEL).u8(OP.globalSet).u32(fuelGlobal).u8(OP.unreachable).u8(OP.end)
  }
  const writeBack = (w: WasmWriter): WasmWriter => w.u8(OP.localGet).u32(L_FUEL).u8(OP.globalSet).u32(fuelGlobal)
  const reload = (w: WasmWriter): WasmWriter => w.u8(OP.globalGet).u32(fuelGlobal).u8(OP.localSet).u32(L_FUEL)

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
      body.u8(OP.localGet).u32(L_FUEL).u8(OP.i64Const).sleb((BigInt(Math.max(1, segCost)) << DEPTH_BITS) - 1n).u8(OP.i64Sub).u8(OP.localTee).u32(L_FUEL)
      body.u8(OP.i64Const).sleb(0n).u8(OP.i64LtS)
      body.u8(OP.localGet).u32(L_FUEL).u8(OP.i64Const).sleb(DEPTH_MASK).u8(OP.i64And).u8(OP.i64Const).sleb(BigInt(ctx.opts.maxCallDepth)).u8(OP.i64GtU).u8(OP.i32Or)
      body.u8(OP.if).u8(EMPTY_BLOCK_TYPE).u8(OP.localGet).u32(L_FUEL).u8(OP.globalSet).u32(fuelGlobal).u8(OP.unreachable).u8(OP.end)
    } else if (segCheck) {
      body.u8(OP.localGet).u32(L_FUEL).u8(OP.i64Const).sleb(BigInt(Math.max(1, segCost)) << DEPTH_BITS).u8(OP.i64Sub)
      store(body, true)
    } else if (segCost > 0) {
      body.u8(OP.localGet).u32(L_FUEL).u8(OP.i64Const).sleb(BigInt(segCost) << DEPTH_BITS).u8(OP.i64Sub)
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
    seg.u8(OP.localTee).u32(L_I32) // the operand stays on the stack
    seg.u8(OP.localGet).u32(L_FUEL).u8(OP.localGet).u32(L_I32).u8(OP.i64ExtendI32U)
    seg.u8(OP.i64Const).sleb(shift).u8(left ? OP.i64Shl : OP.i64ShrU)
    seg.u8(OP.i64Const).sleb(DEPTH_BITS).u8(OP.i64Shl).u8(OP.i64Sub) // into fuel units of the packed meter
    store(seg, true)
  }

  reload(body)
  // Wrap the body in a block so every exit (fallthrough, br to the function label, return)
  // reaches the depth decrement and the fuel write-back after it.
  const res = type.results
  body.u8(OP.block)
  if (res.length === 0) body.u8(EMPTY_BLOCK_TYPE)
  else if (res.length === 1) body.u8(res[0]!)
  else body.sleb(BigInt(ctx.blockTypeFor(res)))

  let depth = 0 // open control frames inside the function
  for (;;) {
    const start = r.pos
    const op = r.u8()
    if (op === OP.end && depth === 0) {
      flush()
      body.u8(OP.end)
      if (canCall) body.u8(OP.localGet).u32(L_FUEL).u8(OP.i64Const).sleb(1n).u8(OP.i64Sub).u8(OP.localSet).u32(L_FUEL) // depth -= 1
      writeBack(body).u8(OP.end)
      if (!r.done) r.fail(`bytes after the end of function ${ctx.funcIndex}`)
      break
    }
    segCost += computeOpcodeCost(op)
    const { info, sub } = lookupInstruction(r, op)
    refuseUnknownOrRefused(op, sub, info, ctx.funcIndex)
    const index = readImmediates(r, info, checkImmediate)
    let copyRaw = true
    switch (op) {
      case OP.block: case OP.loop: case OP.if: depth++; break
      case OP.end: depth--; break
      case OP.return:
        seg.u8(OP.br).u32(depth) // br to the wrapper block
        copyRaw = false
        break
      case OP.call: case OP.callIndirect:
        reload(writeBack(seg).bytes(r.buf.subarray(start, r.pos)))
        copyRaw = false
        break
      case OP.globalGet: case OP.globalSet: seg.u8(op).u32(ctx.remapGlobal(index)); copyRaw = false; break
      case OP.memoryGrow: {
        // Pages are paid only when the grow succeeds; a denied grow returns -1 and sets oom.
        seg.u8(OP.localSet).u32(L_I32B).u8(OP.localGet).u32(L_I32B).u8(OP.memoryGrow).u8(0x00)
        seg.u8(OP.localTee).u32(L_I32).u8(OP.i32Const).sleb(-1n).u8(OP.i32Eq).u8(OP.if).u8(EMPTY_BLOCK_TYPE).u8(OP.i32Const).sleb(1n).u8(OP.globalSet).u32(oomGlobal).u8(OP.else)
        seg.u8(OP.localGet).u32(L_FUEL).u8(OP.localGet).u32(L_I32B).u8(OP.i64ExtendI32U).u8(OP.i64Const).sleb(PAGE_FUEL_SHIFT + DEPTH_BITS).u8(OP.i64Shl).u8(OP.i64Sub)
        store(seg, true)
        seg.u8(OP.end).u8(OP.localGet).u32(L_I32)
        copyRaw = false
        break
      }
      case OP.prefixMisc: {
        if (sub <= MISC_OP.lastTruncSat) break // saturating truncations: base cost
        segCost += COST.bulk - 1
        const charge = BULK_CHARGE[sub]
        if (charge === 'bytes') dynamicCharge(BYTES_PER_FUEL_SHIFT, false)
        else if (charge === 'elements') dynamicCharge(ELEM_FUEL_SHIFT, true)
        break
      }
      default:
    }
    if (copyRaw) seg.bytes(r.buf.subarray(start, r.pos))
    if (F32_NAN_OPS.has(op)) {
      seg.u8(OP.localTee).u32(L_F32).u8(OP.f32Const).bytes(CANONICAL_F32_NAN).u8(OP.localGet).u32(L_F32).u8(OP.localGet).u32(L_F32).u8(OP.f32Eq).u8(OP.select)
    } else if (F64_NAN_OPS.has(op)) {
      seg.u8(OP.localTee).u32(L_F64).u8(OP.f64Const).bytes(CANONICAL_F64_NAN).u8(OP.localGet).u32(L_F64).u8(OP.localGet).u32(L_F64).u8(OP.f64Eq).u8(OP.select)
    }
    if (op === OP.loop) { flush(); segCheck = true } else if (ENDS_BLOCK.has(op)) flush()
  }

  const w = new WasmWriter()
  // Temps are always declared, in a fixed order, so their indices are fixed.
  const temps: [number, number][] = [[1, VALTYPE.i64], [2, VALTYPE.i32], [1, VALTYPE.f32], [1, VALTYPE.f64]]
  w.u32(localDecls.length + temps.length)
  for (const [c, t] of [...localDecls, ...temps]) w.u32(c).u8(t)
  w.bytes(body.finish())
  return w
}
