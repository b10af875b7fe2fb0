/** Storage I/O layer: coding, host shard store, retrieval, repair execution. */
export { StorageError, type StorageErrorCode } from '../state/storage/errors.ts'
export type { ErasureCoder } from './erasureCoder.ts'
export { FastCoder, getFastCoder } from './fastCoder.ts'
export { loadReferenceCoder } from './referenceCoder.ts'
export { computeEncodingMatrix, computeRebuildMatrix } from './gf256.ts'
export {
  AssetEncoder, encodeAsset, encodeAssetStream, computeManifest, codingParamsOf, DEFAULT_CODING, type CodingParams, type EncodedAsset, type ShardPieceSink,
} from './encodeAsset.ts'
export { decodeAsset, decodeAssetStream, rebuildShard, computeSegmentLayout, computeUsableShards, type ShardRangeReader, type SegmentLayout } from './decodeAsset.ts'
export { ChunkLeafHasher } from './ChunkLeafHasher.ts'
export { ShardStore, PIECE_BYTES, type ShardStoreOpts, type StoredShard, type StoreUsage } from './ShardStore.ts'
export { retrieve, collectShards, LatencyTracker, type FetchShard, type RetrieveOpts, type RetrieveResult, type BadShardReport } from './retrieve.ts'
export { repairShard, type PutShard, type RepairResult } from './repairShard.ts'
export { createIncrementalHash, type IncrementalHash } from './incrementalHash.ts'
