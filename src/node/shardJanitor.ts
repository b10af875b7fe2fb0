import type { Address, Hash } from '../../blocks/schema.ts'
import { equalBytes } from '../crypto/index.ts'
import { ASSET_STATUS, type AssetRecord } from '../state/records.ts'
import type { StoredShard } from '../storage/ShardStore.ts'

/**
 * How long (in blocks) a host keeps a shard a repair moved away from it, so the new host can take
 * it over directly (a draining host hands its shards over instead of forcing a rebuild from k others).
 */
export const HANDOFF_GRACE_BLOCKS = 20

/** What the chain says about the asset a stored shard belongs to. */
export type AssetFate =
  | { kind: 'stored'; record: AssetRecord }
  /** No record, and the index shows the owner deleted it. */
  | { kind: 'deleted' }
  /** No record yet: the shard may have arrived before its deployment block. */
  | { kind: 'unknown' }

/**
 * The shards a host may delete because the chain no longer places them on it: the asset was
 * deleted or expired, or the shard now belongs to another host. A shard of an asset the chain
 * does not know yet is kept (the upload precedes the deployment block).
 */
export function computeShardsToDrop(stored: readonly StoredShard[], me: Address, fateOf: (asset: Hash) => AssetFate): StoredShard[] {
  return stored.filter((s) => {
    const fate = fateOf(s.asset)
    if (fate.kind === 'deleted') return true
    if (fate.kind === 'unknown') return false
    if (fate.record.status === ASSET_STATUS.expired) return true
    const holder = fate.record.placement[s.shardIndex]
    return holder === undefined || !equalBytes(holder, me)
  })
}
