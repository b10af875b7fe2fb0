import { ConsensusError } from './errors.ts'
import type { VerifyContext } from './proofScheme.ts'

/**
 * Slot arithmetic, integers only. Slot s covers [genesisTime + s*slotMs, genesisTime + (s+1)*slotMs).
 * The genesis block sits in slot 0; a block's slot is never before its parent's. Several blocks may
 * share a slot (a proposer with work proposes as soon as its parent is committed, docs/consensus.md
 * "Block timing"); their timestamps strictly increase (blocks/validateBlock.ts `validateBlockParent`).
 */

function checkSlotMs(slotMs: number, scheme: string): bigint {
  if (!Number.isSafeInteger(slotMs) || slotMs < 1) throw new ConsensusError('BAD_CONFIG', 'slotMs must be a positive integer', { scheme, field: 'slotMs', got: slotMs })
  return BigInt(slotMs)
}

/** The slot a timestamp (ms) falls in, or -1 for a timestamp before genesis. */
export function computeSlot(genesisTime: bigint, slotMs: number, timestampMs: bigint): number {
  if (timestampMs < genesisTime) return -1
  const slot = (timestampMs - genesisTime) / checkSlotMs(slotMs, 'time')
  // Slots are u32 on the wire; anything larger can never match a header.
  return slot > 0xffff_ffffn ? Number.MAX_SAFE_INTEGER : Number(slot)
}

/**
 * The highest head height an honest chain can have at `nowMs` (a node's clock, drift included):
 * each block's timestamp is strictly after its parent's (validateBlockParent) and the genesis block
 * sits at `genesisTime`, so block h is stamped at genesisTime + h or later. Heights are not bounded
 * by slots: blocks proposed on commit share slots (docs/consensus.md "Block timing").
 */
export function computeMaxPlausibleHeight(genesisTime: bigint, nowMs: bigint): number {
  if (nowMs <= genesisTime) return 0
  const elapsed = nowMs - genesisTime
  return elapsed > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(elapsed)
}

/** First millisecond of a slot. */
export function computeSlotStart(genesisTime: bigint, slotMs: number, slot: number): bigint {
  return genesisTime + BigInt(slot) * checkSlotMs(slotMs, 'time')
}

/**
 * The cheap header-timing rule shared by `stake` and `time`: the header's slot is the slot its
 * timestamp falls in, and it is not before the parent's slot (the same slot is allowed: blocks
 * proposed on commit). Returns the slot start.
 */
export function verifySlotTiming(ctx: VerifyContext, scheme: string): bigint {
  const { seal } = ctx
  checkSlotMs(ctx.slotMs, scheme)
  const expected = computeSlot(ctx.genesisTime, ctx.slotMs, seal.timestamp)
  if (expected !== seal.slot) {
    throw new ConsensusError('WRONG_SLOT', `${scheme}: header slot ${seal.slot} does not match its timestamp (slot ${expected})`, {
      scheme,
      got: seal.slot,
      expected,
      timestamp: seal.timestamp,
    })
  }
  if (seal.slot < ctx.parentSlot) {
    throw new ConsensusError('SLOT_BEFORE_PARENT', `${scheme}: slot ${seal.slot} is before the parent's slot ${ctx.parentSlot}`, {
      scheme,
      got: seal.slot,
      parentSlot: ctx.parentSlot,
    })
  }
  return computeSlotStart(ctx.genesisTime, ctx.slotMs, seal.slot)
}
