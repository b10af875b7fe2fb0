import type { Address, Hash, Manifest } from '../../blocks/schema.ts'
import { StorageError } from '../state/storage/errors.ts'
import { rebuildShard } from './decodeAsset.ts'
import { type BadShardReport, collectShards, type FetchShard, type RetrieveOpts } from './retrieve.ts'

/** Stores a rebuilt shard on the new host (its ShardStore.put in-process, a libp2p upload later). */
export type PutShard = (host: Address, asset: Hash, shardIndex: number, shard: Uint8Array) => Promise<void>

export interface RepairResult { shard: Uint8Array; bad: BadShardReport[] }

/**
 * Executes one repair the audit block decided: fetch k verified shards from the other hosts of
 * the placement (fastest first, as retrieval does), rebuild shard `shardIndex`, check it against
 * the manifest, and put it on `to`. `placement` is the placement before the repair.
 */
export async function repairShard(manifest: Manifest, asset: Hash, placement: readonly Address[], shardIndex: number, to: Address, fetchShard: FetchShard, putShard: PutShard, opts: RetrieveOpts = {}): Promise<RepairResult> {
  if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= manifest.k + manifest.m) throw new StorageError('INVALID_PARAMS', `no shard ${shardIndex}`)
  if (manifest.size === 0n) {
    await putShard(to, asset, shardIndex, new Uint8Array(0))
    return { shard: new Uint8Array(0), bad: [] }
  }
  const { good, bad } = await collectShards(manifest, placement, fetchShard, { ...opts, skip: [shardIndex] })
  const shards = Array.from({ length: manifest.k + manifest.m }, (_, i) => good.get(i))
  const shard = rebuildShard(manifest, shards, shardIndex, { trusted: true, ...(opts.coder ? { coder: opts.coder } : {}) })
  await putShard(to, asset, shardIndex, shard)
  return { shard, bad }
}
