import type { Address, Hash, Repair } from '../../../blocks/schema.ts'
import { compareBytes } from '../../crypto/index.ts'
import { ASSET_STATUS, type AssetRecord, HOST_STATUS, type HostRecord } from '../records.ts'

/**
 * Repair decisions (pure). A shard needs repair when its host
 *   - failed `auditFailThreshold` audits of it in a row (shardFailures[i] ≥ threshold), or
 *   - left, drained, was disqualified, or is unknown to the state, or
 *   - never acknowledged it (a placement activated at its deadline with k+1 or more acks).
 * Repair starts on the first such shard (with m = 2 there is little slack). A repair needs k
 * healthy shards to rebuild from; an asset with fewer is reported unrecoverable and left alone.
 * The new host comes from the injected chooser (the router, seeded by the block), which must not
 * return a host already in the placement; a choice that is in the placement or not active (after
 * this epoch's reputation changes) is dropped and the shard waits for the next epoch.
 */
export type ChooseRepairHost = (asset: Hash, record: AssetRecord, shardIndex: number, exclude: readonly Address[]) => Address | undefined

export type HostLookup = (host: Address) => HostRecord | undefined

// Suspended too: repair starts at suspension (a host silent for livenessMissThreshold epochs, or one whose reputation fell), not at disqualification.
const LOST_STATUS = new Set<number>([HOST_STATUS.left, HOST_STATUS.draining, HOST_STATUS.suspended, HOST_STATUS.disqualified])

export function isShardLost(record: AssetRecord, shardIndex: number, hostOf: HostLookup, auditFailThreshold: number): boolean {
  const host = hostOf(record.placement[shardIndex]!)
  if (!host || LOST_STATUS.has(host.status)) return true
  if (record.acked.length > 0 && record.acked[shardIndex] !== 1) return true
  return (record.shardFailures[shardIndex] ?? 0) >= auditFailThreshold
}

export function computeShardsToRepair(record: AssetRecord, hostOf: HostLookup, auditFailThreshold: number): number[] {
  const out: number[] = []
  for (let i = 0; i < record.placement.length; i++) if (isShardLost(record, i, hostOf, auditFailThreshold)) out.push(i)
  return out
}

export interface RepairPlan {
  repairs: Repair[]
  /** Asset records with the new placement (failures of repaired shards reset to 0). */
  assets: { asset: Hash; record: AssetRecord }[]
  /** Assets with fewer than k healthy shards: they cannot be rebuilt. */
  unrecoverable: Hash[]
}

/** At most `maxRepairs` per call (one audit entry's limit); the rest are found again next epoch. */
export function computeRepairs(assets: readonly { asset: Hash; record: AssetRecord }[], hostOf: HostLookup, params: { auditFailThreshold: number }, choose: ChooseRepairHost, maxRepairs = Infinity): RepairPlan {
  const repairs: Repair[] = []
  const updated: { asset: Hash; record: AssetRecord }[] = []
  const unrecoverable: Hash[] = []
  for (const { asset, record } of [...assets].sort((a, b) => compareBytes(a.asset, b.asset))) {
    if (record.status === ASSET_STATUS.expired) continue
    const lost = computeShardsToRepair(record, hostOf, params.auditFailThreshold)
    if (lost.length === 0) continue
    if (record.placement.length - lost.length < record.manifest.k) {
      unrecoverable.push(asset)
      continue
    }
    const placement = record.placement.slice()
    const shardFailures = record.shardFailures.slice()
    const acked = record.acked.slice()
    let changed = false
    for (const shardIndex of lost) {
      if (repairs.length >= maxRepairs) break
      const exclude = placement.slice()
      const to = choose(asset, { ...record, placement }, shardIndex, exclude)
      if (!to || exclude.some((h) => compareBytes(h, to) === 0)) continue
      // The chooser may work from an index built before this epoch's reputation changes: never
      // place on a host that is not active now.
      if (hostOf(to)?.status !== HOST_STATUS.active) continue
      repairs.push({ asset, shardIndex, from: placement[shardIndex]!, to })
      placement[shardIndex] = to
      shardFailures[shardIndex] = 0
      // The new host rebuilds the shard from acknowledged ones (repairShard checks its hash).
      if (acked.length > 0) acked[shardIndex] = 1
      changed = true
    }
    if (changed) updated.push({ asset, record: { ...record, placement, shardFailures, acked } })
  }
  return { repairs, assets: updated, unrecoverable }
}
