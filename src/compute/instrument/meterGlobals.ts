import type { WasmWriter } from './wasmBytes.ts'
import { OP } from './wasmOpcodes.ts'
import { EXTERNAL_KIND, VALTYPE } from './wasmTypes.ts'

/** The import namespace of the meter globals in `imported` mode (a component's shared budget). */
export const METER_MODULE = 'xsc_meter'
/** Export names of the meter globals (and the deferred start function) in `defined` mode. */
export const METER_EXPORTS = { fuel: '__xsc_fuel', oom: '__xsc_oom', start: '__xsc_start' } as const

/**
 * The meter global packs fuel and call depth in one i64: `fuel << 16 | depth`. Charges
 * subtract multiples of 2^16 and never touch the depth bits; `meter < 0` iff fuel < 0, so the
 * fuel check stays one signed compare; a call adds 1 on entry and subtracts 1 on exit with no
 * extra memory traffic. Fuel is therefore limited to 2^46, depth to 65535.
 */
export const DEPTH_BITS = 16n
export const DEPTH_MASK = (1n << DEPTH_BITS) - 1n

const MUTABLE = 1

/** Import entries of the two meter globals (fuel, then oom), appended to the import section. */
export function writeMeterImports(w: WasmWriter): WasmWriter {
  w.name(METER_MODULE).name('fuel').u8(EXTERNAL_KIND.global).u8(VALTYPE.i64).u8(MUTABLE)
  w.name(METER_MODULE).name('oom').u8(EXTERNAL_KIND.global).u8(VALTYPE.i32).u8(MUTABLE)
  return w
}

/** Definitions of the two meter globals (fuel, then oom), appended to the global section. */
export function writeMeterGlobals(w: WasmWriter): WasmWriter {
  w.u8(VALTYPE.i64).u8(MUTABLE).u8(OP.i64Const).sleb(0n).u8(OP.end) // fuel << 16 | depth, set by the host before the call
  w.u8(VALTYPE.i32).u8(MUTABLE).u8(OP.i32Const).sleb(0n).u8(OP.end) // 1 once a memory.grow was denied
  return w
}

/** How many exports `writeMeterExports` writes. */
export function countMeterExports(startFunc: number | undefined): number {
  return 2 + (startFunc === undefined ? 0 : 1)
}

/**
 * Export entries of the meter globals and, when the module has one, of its start function: in
 * defined mode the host can read the meter only after instantiation, so the start function
 * becomes an export the host calls first (same order: after segment initialisation).
 */
export function writeMeterExports(w: WasmWriter, fuelGlobal: number, oomGlobal: number, startFunc: number | undefined): WasmWriter {
  w.name(METER_EXPORTS.fuel).u8(EXTERNAL_KIND.global).u32(fuelGlobal)
  w.name(METER_EXPORTS.oom).u8(EXTERNAL_KIND.global).u32(oomGlobal)
  if (startFunc !== undefined) w.name(METER_EXPORTS.start).u8(EXTERNAL_KIND.func).u32(startFunc)
  return w
}
