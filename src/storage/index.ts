/** Storage I/O layer: coding, host shard store, retrieval, repair execution. */
export { StorageError, type StorageErrorCode } from '../state/storage/errors.ts'
export { ChunkLeafHasher } from './ChunkLeafHasher.ts'
export { computeSegmentLayout, computeUsableShards, decodeAsset, decodeAssetStream, rebuildShard, type SegmentLayout, type ShardRangeReader } from './decodeAsset.ts'
export {
  AssetEncoder, type CodingParams, codingParamsOf, computeManifest, DEFAULT_CODING, encodeAsset, encodeAssetStream, type EncodedAsset, type ShardPieceSink,
} from './encodeAsset.ts'
export type { ErasureCoder } from './erasureCoder.ts'
export { FastCoder, getFastCoder } from './fastCoder.ts'
export { computeEncodingMatrix, computeRebuildMatrix } from './gf256.ts'
export { createIncrementalHash, type IncrementalHash } from './incrementalHash.ts'
export { loadReferenceCoder } from './referenceCoder.ts'
export { type PutShard, type RepairResult, repairShard } from './repairShard.ts'
export { type BadShardReport, collectShards, type FetchShard, LatencyTracker, retrieve, type RetrieveOpts, type RetrieveResult } from './retrieve.ts'
export { PIECE_BYTES, ShardStore, type ShardStoreOpts, type StoredShard, type StoreUsage } from './ShardStore.ts'
