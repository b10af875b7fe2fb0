import { txByteLength } from '../../blocks/ids.ts'
import type { BlockEntry, BlockHeader, BlockKind, ChainParams, SignedTx } from '../../blocks/schema.ts'
import { StateError } from './errors.ts'

/**
 * Fees that follow demand (EIP-1559 in integer math, per tx byte). Every tx pays at least
 * `size × (baseFee + minFeePerByte)`; `size × baseFee` is burned, the rest of its fee is the
 * proposer's tip. Each block's header carries its base fee, derived from the parent's and the
 * time since it: the target is `targetBlockTxBytes` per slot, so a block `Δ` ms after its parent
 * is measured against `target × min(Δ, slotMs) / slotMs` bytes, and the fee moves by 1/8 of the
 * parent's base fee per full target of difference (at most 1/8 a block; at least 1 either way
 * off the target, so a small base fee can rise and fall back), within [minBaseFee, maxBaseFee]. A block a slot after its parent is EIP-1559 as written; four blocks a
 * quarter slot apart move the fee as one block of their summed bytes would, so spreading txs over
 * many small blocks neither escapes the fee nor (empty early blocks) drains it faster. Blocks that
 * carry no txs by construction (genesis, completion, audit) leave it unchanged; an empty ledger
 * block (a heartbeat) counts as empty and lowers it.
 */

export type FeeParams = Pick<ChainParams, 'minFeePerByte' | 'minBaseFee' | 'maxBaseFee' | 'targetBlockTxBytes'>

/** Suggested genesis values for fees and state growth (docs/economics.md); genesis.json is the authority. */
export const FEE_PARAM_DEFAULTS: Pick<ChainParams, keyof FeeParams | 'existentialDeposit' | 'executionRetentionHeights' | 'reputationHistoryLimit'> = {
  minFeePerByte: 1n,
  minBaseFee: 1n,
  maxBaseFee: 1_000_000_000n,
  targetBlockTxBytes: 64 * 1024,
  existentialDeposit: 1_000n,
  // One hour of 500 ms slots.
  executionRetentionHeights: 7_200,
  reputationHistoryLimit: 64,
}

/**
 * Fee parameters under which every tx is free and the base fee stays 0: for tests that exercise
 * something else than fees (their own tests turn fees on).
 */
export const FREE_FEE_PARAMS: Pick<ChainParams, keyof FeeParams | 'existentialDeposit'> = {
  minFeePerByte: 0n,
  minBaseFee: 0n,
  maxBaseFee: 0n,
  targetBlockTxBytes: 64 * 1024,
  existentialDeposit: 0n,
}

/** The block kinds that carry txs, whose fullness moves the base fee. */
const TX_BLOCK_KINDS: ReadonlySet<BlockKind> = new Set(['ledger', 'deployment', 'execution'])
/** 1/8: the most the base fee moves in one block (EIP-1559's BASE_FEE_MAX_CHANGE_DENOMINATOR). */
const CHANGE_DENOMINATOR = 8n

/** The tx's size on the wire (its canonical encoding), the unit fees are priced in. */
export function computeTxSize(tx: SignedTx): number {
  return txByteLength(tx)
}

/** The least fee a tx of `size` bytes may carry in a block of base fee `baseFee`. */
export function computeRequiredFee(size: number, baseFee: bigint, params: FeeParams): bigint {
  return BigInt(size) * (baseFee + params.minFeePerByte)
}

/** How a tx's fee splits: the base fee part is burned, the rest goes to the proposer. */
export function computeFeeSplit(tx: SignedTx, baseFee: bigint): { burn: bigint; tip: bigint } {
  const burn = BigInt(computeTxSize(tx)) * baseFee
  return { burn, tip: tx.body.fee - burn }
}

/**
 * The base fee of a block at `timestamp` on `parent` (see the module comment). The interval is
 * the child's, which its proposer picks within the time rules: a late timestamp counts at most one
 * slot (the per-block rule), an early one only raises the fee its own block pays.
 */
export function computeNextBaseFee(parent: Pick<BlockHeader, 'kind' | 'baseFee' | 'txBytes' | 'timestamp'>, timestamp: bigint, params: FeeParams, slotMs: number): bigint {
  const clamp = (v: bigint): bigint => (v < params.minBaseFee ? params.minBaseFee : v > params.maxBaseFee ? params.maxBaseFee : v)
  if (parent.kind === 'genesis') return clamp(params.minBaseFee)
  const base = parent.baseFee
  if (!TX_BLOCK_KINDS.has(parent.kind)) return clamp(base)
  const perSlot = BigInt(Math.max(1, params.targetBlockTxBytes))
  const slot = BigInt(Math.max(1, slotMs))
  const elapsed = timestamp - parent.timestamp
  const interval = elapsed < 1n ? 1n : elapsed > slot ? slot : elapsed
  const target = (perSlot * interval) / slot
  const used = BigInt(parent.txBytes)
  if (used > target) {
    const over = used - target > perSlot ? perSlot : used - target
    const delta = (base * over) / perSlot / CHANGE_DENOMINATOR
    // A base fee of 0 must still be able to rise.
    return clamp(base + (delta > 0n ? delta : 1n))
  }
  const delta = (base * (target - used)) / perSlot / CHANGE_DENOMINATOR
  // A base fee under 8 must still be able to fall, as it rises (its 1/8 rounds to 0): else it
  // ratchets, and txs priced before a rise wait for ever (2 → 3 → stuck at 3 on idle blocks).
  return clamp(base - (delta > 0n || used >= target ? delta : 1n))
}

/**
 * The base fee a block one slot after `parent` would have: the lowest the next block can have,
 * which admission and fee suggestions quote (an earlier block may ask up to 1/8 more).
 */
export function computeQuotedBaseFee(parent: Pick<BlockHeader, 'kind' | 'baseFee' | 'txBytes' | 'timestamp'>, params: FeeParams, slotMs: number): bigint {
  return computeNextBaseFee(parent, parent.timestamp + BigInt(slotMs), params, slotMs)
}

/** Bytes a block may carry in txs: twice the target, or one tx of any size alone. */
export function computeMaxBlockTxBytes(params: FeeParams): number {
  return 2 * params.targetBlockTxBytes
}

/** Sum of the encoded sizes of the txs a block's entries carry. */
export function computeBlockTxBytes(entries: readonly BlockEntry[]): number {
  let total = 0
  for (const e of entries) if ('tx' in e) total += computeTxSize(e.tx)
  return total
}

/**
 * The header's fee fields against its parent and its own entries: the base fee must be the one
 * derived from the parent, `txBytes` the sum of its txs' sizes, within the block's tx capacity.
 */
export function verifyBlockFees(header: Pick<BlockHeader, 'kind' | 'baseFee' | 'txBytes' | 'timestamp'>, entries: readonly BlockEntry[], parent: Pick<BlockHeader, 'kind' | 'baseFee' | 'txBytes' | 'timestamp'>, params: FeeParams, slotMs: number): void {
  const expected = computeNextBaseFee(parent, header.timestamp, params, slotMs)
  if (header.baseFee !== expected) throw new StateError('ENTRY_MISMATCH', `header baseFee ${header.baseFee} is not the one the parent sets (${expected})`, { field: 'baseFee', got: header.baseFee.toString(), expected: expected.toString() })
  const bytes = computeBlockTxBytes(entries)
  if (header.txBytes !== bytes) throw new StateError('ENTRY_MISMATCH', `header txBytes ${header.txBytes} differs from the entries' ${bytes}`, { field: 'txBytes', got: header.txBytes, expected: bytes })
  const txCount = entries.reduce((n, e) => ('tx' in e ? n + 1 : n), 0)
  if (txCount > 1 && bytes > computeMaxBlockTxBytes(params)) throw new StateError('ENTRY_MISMATCH', `block carries ${bytes} tx bytes, more than ${computeMaxBlockTxBytes(params)}`, { field: 'txBytes', got: bytes, expected: computeMaxBlockTxBytes(params) })
}

/** Rejects fee parameters the rules are not defined for. */
export function verifyFeeParams(p: Pick<ChainParams, keyof FeeParams | 'reputationHistoryLimit'>): void {
  const bad = (field: string, why: string): never => {
    throw new StateError('INVALID_TX', `genesis ${field} ${why}`, { field: `params.${field}` })
  }
  if (p.minBaseFee > p.maxBaseFee) bad('minBaseFee', 'must not exceed maxBaseFee')
  if (p.targetBlockTxBytes < 1) bad('targetBlockTxBytes', 'must be positive')
  if (p.reputationHistoryLimit < 1) bad('reputationHistoryLimit', 'must be positive')
}
