/**
 * The fuel cost table. Costs are charged per basic block (the sum of the block's instruction
 * costs, charged when the block is entered), so a trap mid-block still pays the whole block.
 * Changing any figure here changes fuel results on chain: it is a protocol constant.
 */
export const COST = {
  /** structural instructions that compile to nothing: block, loop, end, else, nop */
  structural: 0,
  /** every other instruction unless listed below */
  base: 1,
  call: 5,
  callIndirect: 8,
  /** integer division and remainder (microcode-heavy on every CPU) */
  intDivRem: 4,
  /** float div and sqrt */
  floatSlow: 4,
  memoryGrow: 100,
  /** bulk memory/table operations: fixed part, plus length >> BYTES_PER_FUEL_SHIFT */
  bulk: 10,
  /** host calls: fixed part, plus bytes moved >> BYTES_PER_FUEL_SHIFT */
  hostCall: 50,
} as const

/** One fuel per 16 bytes moved by memory.fill/copy/init and host I/O. */
export const BYTES_PER_FUEL_SHIFT = 4n
/** memory.grow pays for zeroing: 64 KiB per page at the byte rate = 4096 fuel per page. */
export const PAGE_FUEL_SHIFT = 12n
/** table.grow/fill/copy/init pay one fuel per element on top of COST.bulk. */
export const ELEM_FUEL_SHIFT = 0n

/** Static cost of a one-byte opcode (prefixed 0xFC ops are priced in the rewriter). */
export function computeOpcodeCost(op: number): number {
  switch (op) {
    case 0x01: case 0x02: case 0x03: case 0x05: case 0x0b:
      return COST.structural
    case 0x10:
      return COST.call
    case 0x11:
      return COST.callIndirect
    case 0x40:
      return COST.memoryGrow
    case 0x6d: case 0x6e: case 0x6f: case 0x70: // i32 div_s div_u rem_s rem_u
    case 0x7f: case 0x80: case 0x81: case 0x82: // i64 div_s div_u rem_s rem_u
      return COST.intDivRem
    case 0x91: case 0x95: case 0x9f: case 0xa3: // f32/f64 sqrt, div
      return COST.floatSlow
    default:
      return COST.base
  }
}
