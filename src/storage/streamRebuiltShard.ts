import type { Address, Manifest } from '../../blocks/schema.ts'
import { verifyManifestShape } from '../state/storage/computeChunkLeaves.ts'
import { StorageError } from '../state/storage/errors.ts'
import { type FastCoder, getFastCoder } from './fastCoder.ts'
import { type LockstepOpts, type OpenShardStream, readShardsInLockstep } from './readShardsInLockstep.ts'

/**
 * Shard `shardIndex` rebuilt from k other shards streamed in lockstep, one segment's piece at a
 * time: memory is one segment whatever the shard's size (a repair of a 1 GiB shard never holds
 * it). The other shards' hashes are checked at the end (BlobError VERIFY_FAILED), and the
 * consumer (ShardStore.putStream) checks the rebuilt shard's own hash and chunk root, so wrong
 * bytes are never stored.
 */
export async function* streamRebuiltShard(manifest: Manifest, placement: readonly Address[], shardIndex: number, open: OpenShardStream, opts: LockstepOpts & { coder?: FastCoder } = {}): AsyncGenerator<Uint8Array> {
  verifyManifestShape(manifest)
  const { k, m } = manifest
  if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= k + m) throw new StorageError('INVALID_PARAMS', `no shard ${shardIndex}`)
  if (manifest.size === 0n) return
  const coder = opts.coder ?? getFastCoder()
  const order = (opts.order ?? Array.from({ length: k + m }, (_, i) => i)).filter((i) => i !== shardIndex)
  const out = new Uint8Array(Math.ceil(manifest.segmentSize / k))
  for await (const { seg, chosen, pieces } of readShardsInLockstep(manifest, placement, open, { ...opts, order })) {
    const piece = out.subarray(0, seg.shardLength)
    coder.rebuild(k, m, chosen, [shardIndex], chosen.map((i) => pieces.get(i)!), [piece])
    yield piece.slice()
  }
}
