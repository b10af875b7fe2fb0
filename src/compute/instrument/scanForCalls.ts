import { lookupInstruction, readImmediates } from './instructionTable.ts'
import type { WasmReader } from './wasmBytes.ts'
import { OP } from './wasmOpcodes.ts'

/**
 * True when the function body at `r` (past its locals) contains a call, or an instruction the
 * rewrite refuses anyway. Immediates are skipped through the instruction table the rewrite
 * uses, so both walk the same instruction boundaries; nothing is validated here.
 */
export function scanForCalls(r: WasmReader): boolean {
  let depth = 0
  for (;;) {
    const op = r.u8()
    if (op === OP.end) {
      if (depth === 0) return false
      depth--
      continue
    }
    const { info } = lookupInstruction(r, op)
    if (info?.calls || info?.refused) return true
    readImmediates(r, info)
    if (info?.opensBlock) depth++
  }
}
