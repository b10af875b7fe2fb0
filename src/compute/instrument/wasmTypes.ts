import { unsupported } from './meterRefusals.ts'
import type { WasmReader } from './wasmBytes.ts'

/** Value type bytes of the WASM binary format. */
export const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f } as const

/** The form byte that starts every function type. */
export const FUNC_TYPE_FORM = 0x60
/** The block type of a block that takes and yields nothing. */
export const EMPTY_BLOCK_TYPE = 0x40
/** The s33 block type that names v128 (0x7b read as a signed LEB). */
export const V128_BLOCK_TYPE = -5n

/** Import/export kind bytes; `tag` belongs to exception handling, which the meter refuses. */
export const EXTERNAL_KIND = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const
export const EXTERNAL_KIND_NAMES = ['func', 'table', 'memory', 'global'] as const
export type ExternalKindName = (typeof EXTERNAL_KIND_NAMES)[number]

/** Flags of a limits pair: 0x01 adds a maximum, 0x02/0x03 are shared (threads), 0x04+ memory64. */
export const LIMITS = { minOnly: 0x00, minMax: 0x01, firstShared: 0x02, firstMemory64: 0x04 } as const

export interface FuncType { params: number[]; results: number[] }
export interface Limits { min: number; max: number | undefined }

/** Refuses a value type the meter does not handle (v128, GC types, anything unknown). */
export function checkValType(t: number, where: string): void {
  if (t === VALTYPE.v128) unsupported('SIMD', `v128 value type in ${where}`)
  if (t !== VALTYPE.i32 && t !== VALTYPE.i64 && t !== VALTYPE.f32 && t !== VALTYPE.f64 && t !== VALTYPE.funcref && t !== VALTYPE.externref) {
    unsupported('value type', `0x${t.toString(16)} in ${where}`)
  }
}

export function readLimits(r: WasmReader, what: string): Limits {
  const flag = r.u8()
  if (flag === LIMITS.firstShared || flag === LIMITS.firstShared + 1) unsupported('threads', `shared ${what}`)
  if (flag >= LIMITS.firstMemory64) unsupported('memory64', `${what} limits flag 0x${flag.toString(16)}`)
  const min = r.u32()
  const max = flag === LIMITS.minMax ? r.u32() : undefined
  return { min, max }
}
