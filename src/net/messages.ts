import { bytes, bytes32, type Codec, decode, type Infer, list, optional, str, struct, u8, u16, u32, u64 } from '../../blocks/codec.ts'
import { NetError } from './errors.ts'

/**
 * Request/response protocol ids and their message codecs (canonical encoding, blocks/codec.ts).
 * Ids carry the chain id so two chains on one machine never answer each other.
 */
export const PROTOCOLS = {
  status: 'sync/status',
  blocksByRange: 'sync/blocks-by-range',
  shardGet: 'shard/get',
  shardPut: 'shard/put',
  audit: 'audit/challenge',
  storageAck: 'storage/ack',
  stateSnapshot: 'state/snapshot',
  stateChunk: 'state/chunk',
  shardRange: 'shard/range',
  shardRoots: 'shard/roots',
  shardHttp: 'shard/http',
} as const
export type ProtocolName = (typeof PROTOCOLS)[keyof typeof PROTOCOLS]

export function protocolId(chainId: string, name: ProtocolName): string {
  return `/xsc/${chainId}/${name}/1`
}

const KiB = 1024
const MiB = 1024 * KiB

/** Limits per protocol: request header size, request body size, response size, default timeout. */
export const PROTOCOL_LIMITS = {
  status: { maxRequestBytes: 0, maxBodyBytes: 0, maxResponseBytes: 256, timeoutMs: 5_000 },
  blocksByRange: { maxRequestBytes: 64, maxBodyBytes: 0, maxResponseBytes: 64 * MiB, timeoutMs: 10_000, maxBlocks: 64 },
  shardGet: { maxRequestBytes: 128, maxBodyBytes: 0, maxResponseBytes: 64 * MiB, timeoutMs: 30_000 },
  shardPut: { maxRequestBytes: 128, maxBodyBytes: 64 * MiB, maxResponseBytes: 1 * KiB, timeoutMs: 30_000 },
  audit: { maxRequestBytes: 128, maxBodyBytes: 0, maxResponseBytes: 2 * MiB, timeoutMs: 5_000, maxChunkBytes: 1 * MiB },
  storageAck: { maxRequestBytes: 64, maxBodyBytes: 0, maxResponseBytes: 512, timeoutMs: 2_000 },
  stateSnapshot: { maxRequestBytes: 16, maxBodyBytes: 0, maxResponseBytes: 20 * MiB, timeoutMs: 10_000 },
  stateChunk: { maxRequestBytes: 128, maxBodyBytes: 0, maxResponseBytes: 20 * MiB, timeoutMs: 15_000 },
  /** A window of a shard for a read (streamAsset asks a few MiB at a time, so no answer can run ahead of the reader). */
  shardRange: { maxRequestBytes: 128, maxBodyBytes: 0, maxResponseBytes: 16 * MiB, timeoutMs: 30_000 },
  /** A shard's page roots (ShardGetRequest; 32 bytes per 8192 chunks: 32 KiB for a 2 GiB shard of 256-byte chunks). */
  shardRoots: { maxRequestBytes: 128, maxBodyBytes: 0, maxResponseBytes: 1 * MiB, timeoutMs: 10_000 },
  /** A host's shard HTTP base URL (http://ip:port, UTF-8), empty when it serves none. */
  shardHttp: { maxRequestBytes: 0, maxBodyBytes: 0, maxResponseBytes: 256, timeoutMs: 5_000 },
} as const

/** What a failing handler sends back: a stable code and a short message, never a stack. */
export const RemoteErrorMessage = struct('RemoteErrorMessage', {
  code: str(64, /^[A-Z][A-Z0-9_]*$/),
  message: str(256),
})
export type RemoteErrorMessage = Infer<typeof RemoteErrorMessage>

/** A peer's view of its chain, asked on connect to decide whom to range-sync from. */
/** `earliestHeight`: the lowest height whose body the peer still serves (absent: all of them; a pruned node's is higher). */
export const ChainStatus = struct('ChainStatus', { headHeight: u32, headHash: bytes32, finalizedHeight: u32, finalizedHash: bytes32, earliestHeight: optional(u32) })
export type ChainStatus = Infer<typeof ChainStatus>

export const BlocksByRangeRequest = struct('BlocksByRangeRequest', { fromHeight: u32, count: u16 })
export type BlocksByRangeRequest = Infer<typeof BlocksByRangeRequest>

/** Encoded blocks (blocks/schema.ts `Block`), in height order; the node decodes and checks them. */
export const BlocksByRangeResponse = struct('BlocksByRangeResponse', {
  blocks: list(bytes({ max: PROTOCOL_LIMITS.blocksByRange.maxResponseBytes }), PROTOCOL_LIMITS.blocksByRange.maxBlocks),
})
export type BlocksByRangeResponse = Infer<typeof BlocksByRangeResponse>

export const ShardGetRequest = struct('ShardGetRequest', { asset: bytes32, shardIndex: u8 })
export type ShardGetRequest = Infer<typeof ShardGetRequest>

/** `length` bytes at `offset` of a held shard (at most PROTOCOL_LIMITS.shardRange.maxResponseBytes). */
export const ShardRangeRequest = struct('ShardRangeRequest', { asset: bytes32, shardIndex: u8, offset: u64, length: u32 })
export type ShardRangeRequest = Infer<typeof ShardRangeRequest>

/** Header of a shard upload; the shard bytes follow as the request body. */
export const ShardPutRequest = struct('ShardPutRequest', { asset: bytes32, shardIndex: u8, shardHash: bytes32, size: u64 })
export type ShardPutRequest = Infer<typeof ShardPutRequest>

/** Asks a host for its signed storage ack of one shard (answered only when it holds a verified copy). */
export const StorageAckRequest = struct('StorageAckRequest', { asset: bytes32, shardIndex: u8 })
export type StorageAckRequest = Infer<typeof StorageAckRequest>

export const AuditChallenge = struct('AuditChallenge', { asset: bytes32, shardIndex: u8, chunkIndex: u32 })
export type AuditChallenge = Infer<typeof AuditChallenge>

/** The challenged chunk and its Merkle path to the shard's chunk root (src/crypto merkleProof). */
export const AuditResponse = struct('AuditResponse', {
  chunk: bytes({ max: PROTOCOL_LIMITS.audit.maxChunkBytes }),
  path: list(bytes32, 64),
})
export type AuditResponse = Infer<typeof AuditResponse>

/** Decodes a peer's answer; one that does not decode is that peer's fault (BAD_MESSAGE), named by `what`. */
export function decodePeerAnswer<T>(codec: Codec<T>, bytes: Uint8Array, peer: string, what: string): T {
  try {
    return decode(codec, bytes)
  } catch (cause) {
    throw new NetError('BAD_MESSAGE', `undecodable ${what}`, { peer }, { cause })
  }
}
