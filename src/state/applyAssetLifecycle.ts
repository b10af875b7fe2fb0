import type { Address, Hash, PayloadOf, SignedTx } from '../../blocks/schema.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { credit, debit } from './accounts.ts'
import { StateError } from './errors.ts'
import { readHost } from './hosts.ts'
import { ASSET_STATUS, AssetRecord } from './records.ts'
import { StateOverlay, type StateReader } from './stateView.ts'
import { removeFromAuditIndex } from './storage/auditIndex.ts'
import { computeShardRates } from './storage/computeStorageRent.ts'
import { writeAssetRecord } from './storage/repairQueue.ts'
import { readRow, TABLES } from './tables.ts'

/** What one audit epoch of rent costs an asset at its hosts' current asks (capped by its bid). */
export function computeEpochCost(state: StateOverlay, record: AssetRecord): bigint {
  const rates = computeShardRates(record, (h) => readHost(state, h)?.params.askPerByteEpoch)
  return rates.reduce((sum, r) => sum + r * record.manifest.shardSize, 0n)
}

/**
 * Admission's check of the asset a tx targets (execute, extend, delete), so a client learns at
 * once, with a typed error, that the asset is gone or not theirs, instead of seeing the tx
 * dropped at proposal.
 */
export function checkAssetTarget(state: StateReader, tx: SignedTx): void {
  const p = tx.body.payload
  if (p.type !== 'execute' && p.type !== 'asset.extend' && p.type !== 'asset.delete') return
  const record = requireStoredAsset(state, p.asset)
  if (p.type === 'asset.delete' && !equalBytes(record.owner, tx.body.from)) throw notOwner(record, p.asset)
}

const notOwner = (record: AssetRecord, asset: Hash): StateError => new StateError('NOT_OWNER', `only the owner ${toHex(record.owner)} may delete asset ${toHex(asset)}`, { asset: toHex(asset) })

/** A stored asset: neither expired nor deleted (a deleted asset has no record at all). */
function requireStoredAsset(state: StateReader, asset: Hash): AssetRecord {
  const record = readRow(state, TABLES.asset.at(asset))
  if (record === undefined) throw new StateError('UNKNOWN_ASSET', `no stored asset ${toHex(asset)} (never deployed, or deleted)`, { asset: toHex(asset) })
  if (record.status === ASSET_STATUS.expired) throw new StateError('UNKNOWN_ASSET', `asset ${toHex(asset)} has expired; deploy it again`, { asset: toHex(asset) })
  if (record.status === ASSET_STATUS.refunded) throw new StateError('UNKNOWN_ASSET', `asset ${toHex(asset)} was never stored (its hosts did not acknowledge it) and was refunded; deploy it again`, { asset: toHex(asset) })
  return record
}

/**
 * `asset.extend`: anyone may top up a stored asset's deposit (a sponsor pays for someone else's
 * data, as Arweave/Filecoin deal top-ups). A graced asset whose deposit covers a full epoch again
 * returns to active and its grace clock is cleared.
 */
export function applyAssetExtend(s: StateOverlay, from: Address, payload: PayloadOf<'asset.extend'>): void {
  if (payload.amount === 0n) throw new StateError('INVALID_TX', 'asset.extend amount must be positive', { field: 'amount' })
  const record = requireStoredAsset(s, payload.asset)
  debit(s, from, payload.amount)
  const deposit = record.deposit + payload.amount
  const revived = record.status === ASSET_STATUS.graced && deposit >= computeEpochCost(s, record)
  writeAssetRecord(s, payload.asset, {
    ...record,
    deposit,
    status: revived ? ASSET_STATUS.active : record.status,
    exhaustedEpoch: revived ? undefined : record.exhaustedEpoch,
  })
}

/**
 * `asset.delete`: the owner ends storage early. The unspent deposit goes back to the owner, each
 * placed host's used bytes are released (hosts drop the shards when they see the block), the
 * asset's key-value state is removed, and the record is deleted, so audits, rent, repairs and new
 * executions stop. Executions already scheduled settle or fail by their deadline as usual.
 */
export function applyAssetDelete(s: StateOverlay, from: Address, payload: PayloadOf<'asset.delete'>): void {
  const record = requireStoredAsset(s, payload.asset)
  if (!equalBytes(record.owner, from)) throw notOwner(record, payload.asset)
  credit(s, from, record.deposit)
  record.placement.forEach((host, i) => {
    const h = readHost(s, host)
    if (h === undefined) return
    const size = record.manifest.shardSize
    // The shard's open audit failures leave with it (as when a repair moves a shard away).
    const failures = record.shardFailures[i] ?? 0
    s.write(TABLES.host.at(host), { ...h, usedBytes: h.usedBytes > size ? h.usedBytes - size : 0n, failedAudits: Math.max(0, h.failedAudits - failures) })
  })
  for (const w of s.scan(TABLES.assetKv.key(payload.asset, new Uint8Array(0)))) s.set(w.key, undefined)
  writeAssetRecord(s, payload.asset, undefined)
  removeFromAuditIndex(s, payload.asset)
}

