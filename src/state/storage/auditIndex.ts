import type { Hash } from '../../../blocks/schema.ts'
import { hashParts, seedToBigInt, u32be, utf8 } from '../../crypto/index.ts'
import type { StateOverlay, StateReader } from '../stateView.ts'
import { readRow, TABLES } from '../tables.ts'
import { StorageError } from './errors.ts'

/**
 * The audit index: every audited asset at a dense position 0..count-1, so an audit block draws
 * its sample from a count kept in state instead of scanning every asset. Adding appends; removing
 * moves the last asset into the freed position (swap-remove), so both are O(1) state writes.
 * An asset is added when its placement is stored (applyDeployment) and removed when it leaves
 * state (expiry, deletion).
 */
// Tables auditIndexCount, auditIndexPosition (n → asset) and auditIndexSlot (asset → n).

const SAMPLE_DOMAIN = utf8('XSC/audit-sample/v2')

/** How many assets the audit index holds. */
export function readAuditIndexCount(state: StateReader): number {
  return readRow(state, TABLES.auditIndexCount.at()) ?? 0
}

/** The asset at position `n` of the audit index. */
export function readAuditIndexAt(state: StateReader, n: number): Hash {
  const b = readRow(state, TABLES.auditIndexPosition.at(n))
  if (b === undefined) throw new StorageError('NOT_FOUND', `audit index has no position ${n}`)
  return b
}

export function isInAuditIndex(state: StateReader, asset: Hash): boolean {
  return state.get(TABLES.auditIndexSlot.key(asset)) !== undefined
}

/** Appends an asset (no-op when it is already indexed). */
export function addToAuditIndex(state: StateOverlay, asset: Hash): void {
  if (isInAuditIndex(state, asset)) return
  const n = readAuditIndexCount(state)
  state.write(TABLES.auditIndexPosition.at(n), asset)
  state.write(TABLES.auditIndexSlot.at(asset), n)
  state.write(TABLES.auditIndexCount.at(), n + 1)
}

/** Removes an asset (no-op when it is not indexed): the last asset moves into its position. */
export function removeFromAuditIndex(state: StateOverlay, asset: Hash): void {
  const n = state.read(TABLES.auditIndexSlot.at(asset))
  if (n === undefined) return
  const last = readAuditIndexCount(state) - 1
  if (n !== last) {
    const moved = readAuditIndexAt(state, last)
    state.write(TABLES.auditIndexPosition.at(n), moved)
    state.write(TABLES.auditIndexSlot.at(moved), n)
  }
  state.write(TABLES.auditIndexPosition.at(last), undefined)
  state.write(TABLES.auditIndexSlot.at(asset), undefined)
  state.write(TABLES.auditIndexCount.at(), last)
}

/**
 * Positions of the epoch's audit sample: `wanted` distinct positions out of `count`, draw j being
 *   sha256("XSC/audit-sample/v2" || seed || u32be(epoch) || u32be(j)) as a big-endian integer mod count,
 * duplicates skipped. All positions when wanted ≥ count. Draws are capped at 4·wanted + 16, so a
 * block's work is bounded whatever the luck; a short sample is still a valid one (every
 * validator draws the same). Returned in draw order.
 */
export function computeAuditSamplePositions(seed: Hash, epoch: number, count: number, wanted: number): number[] {
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(wanted) || wanted < 0) throw new StorageError('INVALID_PARAMS', 'sample count and size must be non-negative integers')
  if (wanted >= count) return Array.from({ length: count }, (_, i) => i)
  const picked = new Set<number>()
  const out: number[] = []
  const maxDraws = 4 * wanted + 16
  for (let j = 0; j < maxDraws && out.length < wanted; j++) {
    const n = Number(seedToBigInt(hashParts(SAMPLE_DOMAIN, seed, u32be(epoch), u32be(j))) % BigInt(count))
    if (picked.has(n)) continue
    picked.add(n)
    out.push(n)
  }
  return out
}

/** Assets one audit block samples: its challenge budget over each asset's k+m shards (at least one asset). */
export function computeAssetsPerAudit(auditSamplesPerBlock: number, shardsPerAsset: number): number {
  return Math.max(1, Math.floor(auditSamplesPerBlock / Math.max(1, shardsPerAsset)))
}
