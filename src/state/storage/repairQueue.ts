import type { Address, Hash } from '../../../blocks/schema.ts'
import { concatBytes, equalBytes } from '../../crypto/index.ts'
import { ASSET_STATUS, type AssetRecord } from '../records.ts'
import type { StateOverlay, StateReader } from '../stateView.ts'
import { idOfKey, TABLES } from '../tables.ts'

/**
 * Repairs that do not wait for a sample. Audits sample a bounded number of assets per epoch, so at
 * 100k assets one asset is sampled every few thousand epochs (npm run sim:scale): a shard on a
 * host that left, drains or was disqualified would wait that long, with m = 2 slack. Two state
 * tables close the gap:
 *  - `hostShards` (host ‖ asset ‖ shard index): which shards each host holds on chain, kept by
 *    `writeAssetRecord` from every placement change;
 *  - `repairQueue` (asset): assets known to have a lost shard. A host becoming lost queues all
 *    of its assets; a placement activated with unacknowledged shards queues itself.
 * Each audit block takes up to `REPAIRS_PER_AUDIT` queued assets beside its sample (their repairs
 * are computed and verified like the sample's; they are not challenged, so the block stays
 * bounded by the sample), and an asset leaves the queue once nothing of it is lost (or it is gone).
 * 1024 repairs are ~100 KB: a host suspended by the liveness rule with ~60 assets at 10k hosts and
 * 100k assets is repaired by one audit block (npm run sim:scale).
 */
export const REPAIRS_PER_AUDIT = 1024

/** Statuses whose placement holds shards on hosts (refunded and expired hosts drop theirs). */
function holdsShards(record: AssetRecord | undefined): record is AssetRecord {
  return record !== undefined && record.status !== ASSET_STATUS.refunded && record.status !== ASSET_STATUS.expired
}

/** The one way to write an asset record: keeps the host → shards table in step with its placement. */
export function writeAssetRecord(state: StateOverlay, asset: Hash, next: AssetRecord | undefined): void {
  const row = TABLES.asset.at(asset)
  const before = state.read(row)
  const held = (r: AssetRecord | undefined): Address[] => (holdsShards(r) ? r.placement : [])
  const was = held(before)
  const now = held(next)
  for (let i = 0; i < Math.max(was.length, now.length); i++) {
    if (was[i] !== undefined && now[i] !== undefined && equalBytes(was[i]!, now[i]!)) continue
    if (was[i] !== undefined) state.write(TABLES.hostShards.at(was[i]!, asset, i), undefined)
    if (now[i] !== undefined) state.write(TABLES.hostShards.at(now[i]!, asset, i), true)
  }
  if (next === undefined) state.write(TABLES.repairQueue.at(asset), undefined)
  state.write(row, next)
}

/** The assets a host holds shards of, each once, in key order. */
export function readAssetsOfHost(state: StateReader, host: Address): Hash[] {
  const prefix = concatBytes(TABLES.hostShards.prefix, host)
  const out: Hash[] = []
  for (const w of state.scan(prefix)) {
    const asset = w.key.subarray(prefix.length, prefix.length + 32)
    if (out.length === 0 || !equalBytes(out[out.length - 1]!, asset)) out.push(new Uint8Array(asset))
  }
  return out
}

export function queueRepair(state: StateOverlay, asset: Hash): void {
  state.write(TABLES.repairQueue.at(asset), true)
}

/** A host became lost (left, draining, disqualified): every asset it holds a shard of waits for repair. */
export function queueRepairsOfHost(state: StateOverlay, host: Address): void {
  for (const asset of readAssetsOfHost(state, host)) queueRepair(state, asset)
}

export function dequeueRepair(state: StateOverlay, asset: Hash): void {
  state.write(TABLES.repairQueue.at(asset), undefined)
}

/** The first `limit` queued assets, in key order. */
export function readRepairQueue(state: StateReader, limit: number): Hash[] {
  return state.scan(TABLES.repairQueue.prefix).slice(0, limit).map((w) => new Uint8Array(idOfKey(TABLES.repairQueue, w.key)))
}
