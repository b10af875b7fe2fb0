import type { Hash } from '../../../blocks/schema.ts'
import { concatBytes, hashParts, seedToBigInt, u32be, utf8 } from '../../crypto/index.ts'
import { STATE_PREFIX } from '../stateKeys.ts'
import type { StateOverlay, StateReader } from '../stateView.ts'
import { StorageError } from './errors.ts'

/**
 * The audit index: every audited asset at a dense position 0..count-1, so an audit block draws
 * its sample from a count kept in state instead of scanning every asset. Adding appends; removing
 * moves the last asset into the freed position (swap-remove), so both are O(1) state writes.
 * An asset is added when its placement is stored (applyDeployment) and removed when it leaves
 * state (expiry, deletion).
 */
// [0x0e, 0] → count (u32), [0x0e, 1, u32be(n)] → asset at position n, [0x0e, 2, asset] → its position.
const COUNT_KEY = new Uint8Array([STATE_PREFIX.auditIndex, 0])
const positionKey = (n: number): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.auditIndex, 1]), u32be(n))
const slotKey = (asset: Hash): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.auditIndex, 2]), asset)
const readU32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0)

const SAMPLE_DOMAIN = utf8('XSC/audit-sample/v2')

/** How many assets the audit index holds. */
export function readAuditIndexCount(state: StateReader): number {
  const b = state.get(COUNT_KEY)
  return b === undefined ? 0 : readU32(b)
}

/** The asset at position `n` of the audit index. */
export function readAuditIndexAt(state: StateReader, n: number): Hash {
  const b = state.get(positionKey(n))
  if (b === undefined) throw new StorageError('NOT_FOUND', `audit index has no position ${n}`)
  return b
}

export function isInAuditIndex(state: StateReader, asset: Hash): boolean {
  return state.get(slotKey(asset)) !== undefined
}

/** Appends an asset (no-op when it is already indexed). */
export function addToAuditIndex(state: StateOverlay, asset: Hash): void {
  if (isInAuditIndex(state, asset)) return
  const n = readAuditIndexCount(state)
  state.set(positionKey(n), asset)
  state.set(slotKey(asset), u32be(n))
  state.set(COUNT_KEY, u32be(n + 1))
}

/** Removes an asset (no-op when it is not indexed): the last asset moves into its position. */
export function removeFromAuditIndex(state: StateOverlay, asset: Hash): void {
  const slot = state.get(slotKey(asset))
  if (slot === undefined) return
  const n = readU32(slot)
  const last = readAuditIndexCount(state) - 1
  if (n !== last) {
    const moved = readAuditIndexAt(state, last)
    state.set(positionKey(n), moved)
    state.set(slotKey(moved), u32be(n))
  }
  state.set(positionKey(last), undefined)
  state.set(slotKey(asset), undefined)
  state.set(COUNT_KEY, u32be(last))
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
