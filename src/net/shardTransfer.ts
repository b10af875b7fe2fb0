import { decode, encode } from '../../blocks/codec.ts'
import { equalBytes, toHex } from '../crypto/bytes.ts'
import { hash } from '../crypto/hash.ts'
import { isShardHttpUrl } from '../storage/shardHttpReader.ts'
import type { NetNode } from './createNetNode.ts'
import { NetError } from './errors.ts'
import { CHUNK_BYTES } from './framing.ts'
import { PROTOCOL_LIMITS, protocolId, PROTOCOLS, ShardGetRequest, ShardPutRequest, ShardRangeRequest } from './messages.ts'

const GET = PROTOCOL_LIMITS.shardGet
const PUT = PROTOCOL_LIMITS.shardPut
const RANGE = PROTOCOL_LIMITS.shardRange
const ROOTS = PROTOCOL_LIMITS.shardRoots

export interface ShardRef { asset: Uint8Array; shardIndex: number }

/**
 * The storage side of shard transfer, injected by the node. Shards may be a GiB: both
 * directions are streams, never one buffer.
 * - `openShard`: the stored shard as a stream of parts, or undefined if this host does not hold it.
 * - `readShardRange`: a window of a held shard (shard/range, what reads use: a few MiB per request).
 * - `expectedShardHash`: the hash the chain assigned to (asset, shardIndex) for this host (from the
 *   deployment's manifest and placement), or undefined if it did not assign it: an upload is
 *   refused before its body is read unless it matches.
 * - `putShardStream`: stores the body as it arrives and must check it against the expected hash
 *   (ShardStore.putStream does: length, hash and chunk root), throwing on a mismatch. The body
 *   is already cut at the announced size.
 */
export interface ShardStore {
  openShard(ref: ShardRef, peer: string): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined>
  /**
   * `length` bytes at `offset` of a held shard (a read's window), undefined if not held; a range
   * past the shard's end throws. May be the store's pieces in order (ShardStore.getRangeParts).
   * The bytes are sent as they are, never copied or joined, so they must be the caller's to give
   * (fresh buffers or views of them, never a buffer it reuses).
   */
  readShardRange?(ref: ShardRef & { offset: number; length: number }, peer: string): Promise<Uint8Array | Uint8Array[] | undefined>
  /** The held shard's page roots (ShardStore.pageRoots), undefined if not held. */
  readPageRoots?(ref: ShardRef, peer: string): Promise<Uint8Array | undefined>
  expectedShardHash(ref: ShardRef, peer: string): Promise<Uint8Array | undefined>
  putShardStream(ref: ShardRef & { shardHash: Uint8Array; size: number; body: AsyncIterable<Uint8Array> }, peer: string): Promise<void>
}

/** Largest shard either direction carries: a 4 GiB blob (plus encryption overhead and padding) in 4+2 has ~1 GiB shards. */
export const MAX_SHARD_BYTES = 2 * 1024 * 1024 * 1024
/** Serving or taking one shard may take this long (2 GiB at 0.6 MiB/s); the requester's own deadline scales with the size. */
const SHARD_HANDLER_TIMEOUT_MS = 60 * 60_000
/**
 * A requester's deadline for a shard of `bytes`: 30 s plus 2 s per MiB. An upload goes at the
 * pace the receiver stores it (backpressure), which on a loaded host is a few MiB/s, and a
 * transfer cut by its deadline starts again from its first byte.
 */
export function shardTransferTimeoutMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / (1024 * 1024)) * 2_000
}

/**
 * A shard upload that moves no byte for this long, either side, is aborted with NetError STALLED
 * (the validator's hand-off then retries at once, not at a deadline sized for a GiB). A loaded
 * host stores a few MiB/s; 30 s without taking one 256 KiB frame is a stuck transfer.
 */
export const SHARD_PUT_IDLE_MS = 30_000

async function* chunksOf(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += CHUNK_BYTES) yield data.subarray(o, Math.min(data.length, o + CHUNK_BYTES))
}

/** Parts of any size as frames of at most CHUNK_BYTES (a store's 256 KiB pieces, a file's 1 MiB reads). */
async function* rechunk(parts: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const part of parts) yield* chunksOf(part)
}

export async function serveShards(net: NetNode, store: ShardStore, limits: { maxShardBytes?: number; idleTimeoutMs?: number } = {}): Promise<void> {
  const maxShardBytes = limits.maxShardBytes ?? MAX_SHARD_BYTES
  await net.handle(protocolId(net.chainId, PROTOCOLS.shardGet), async (request, peer) => {
    const ref = decode(ShardGetRequest, request)
    const parts = await store.openShard(ref, peer)
    if (parts === undefined) throw new NetError('NOT_FOUND', `no shard ${ref.shardIndex} of ${toHex(ref.asset)}`)
    return rechunk(parts)
  }, { maxRequestBytes: GET.maxRequestBytes, maxBodyBytes: 0, timeoutMs: SHARD_HANDLER_TIMEOUT_MS })

  if (store.readShardRange !== undefined) {
    const readShardRange = store.readShardRange.bind(store)
    await net.handle(protocolId(net.chainId, PROTOCOLS.shardRange), async (request, peer) => {
      const req = decode(ShardRangeRequest, request)
      if (req.length > RANGE.maxResponseBytes) throw new NetError('REQUEST_TOO_LARGE', `range of ${req.length} bytes exceeds ${RANGE.maxResponseBytes}`)
      if (req.offset > BigInt(maxShardBytes)) throw new NetError('REQUEST_TOO_LARGE', `offset ${req.offset} is past any shard`)
      const bytes = await readShardRange({ asset: req.asset, shardIndex: req.shardIndex, offset: Number(req.offset), length: req.length }, peer)
      if (bytes === undefined) throw new NetError('NOT_FOUND', `no shard ${req.shardIndex} of ${toHex(req.asset)}`)
      return bytes instanceof Uint8Array ? [bytes] : bytes
    }, { maxRequestBytes: RANGE.maxRequestBytes, maxBodyBytes: 0, timeoutMs: RANGE.timeoutMs })
  }

  if (store.readPageRoots !== undefined) {
    const readPageRoots = store.readPageRoots.bind(store)
    await net.handle(protocolId(net.chainId, PROTOCOLS.shardRoots), async (request, peer) => {
      const ref = decode(ShardGetRequest, request)
      const roots = await readPageRoots(ref, peer)
      if (roots === undefined) throw new NetError('NOT_FOUND', `no shard ${ref.shardIndex} of ${toHex(ref.asset)}`)
      return roots
    }, { maxRequestBytes: ROOTS.maxRequestBytes, maxBodyBytes: 0, timeoutMs: ROOTS.timeoutMs })
  }

  await net.handle(protocolId(net.chainId, PROTOCOLS.shardPut), async (request, peer, body) => {
    const header = decode(ShardPutRequest, request)
    const ref = { asset: header.asset, shardIndex: header.shardIndex }
    const expected = await store.expectedShardHash(ref, peer)
    if (expected === undefined) throw new NetError('NOT_FOUND', `shard ${header.shardIndex} of ${toHex(header.asset)} is not assigned here`)
    if (!equalBytes(expected, header.shardHash)) throw new NetError('HASH_MISMATCH', 'announced shard hash differs from the assigned one')
    if (header.size > BigInt(maxShardBytes)) throw new NetError('REQUEST_TOO_LARGE', `shard of ${header.size} bytes exceeds ${maxShardBytes}`)
    const size = Number(header.size)
    // Written to the store as it arrives (the store checks hash and chunk root before the shard
    // becomes visible); a body longer or shorter than announced fails here.
    async function* bounded(): AsyncGenerator<Uint8Array> {
      let filled = 0
      for await (const chunk of body) {
        if (filled + chunk.length > size) throw new NetError('REQUEST_TOO_LARGE', `shard body exceeds its announced ${size} bytes`)
        filled += chunk.length
        yield chunk
      }
      if (filled !== size) throw new NetError('TRUNCATED', `shard body has ${filled} of ${size} bytes`)
    }
    await store.putShardStream({ ...ref, shardHash: expected, size, body: bounded() }, peer)
    return new Uint8Array(0)
  }, { maxRequestBytes: PUT.maxRequestBytes, maxBodyBytes: maxShardBytes, timeoutMs: SHARD_HANDLER_TIMEOUT_MS, idleTimeoutMs: limits.idleTimeoutMs ?? SHARD_PUT_IDLE_MS })
}

export interface FetchShardOpts extends ShardRef {
  /** The shard hash from the deployment manifest; the bytes are checked against it. */
  expectedHash: Uint8Array
  /** Upper bound on the shard size (the manifest's shardSize); the stream is cut beyond it. */
  maxBytes?: number
  timeoutMs?: number
}

/**
 * Streams a shard from `peer` and checks it against `expectedHash`. Throws NetError
 * HASH_MISMATCH for corrupted or substituted data, RESPONSE_TOO_LARGE beyond `maxBytes`,
 * REMOTE_ERROR (remoteCode NOT_FOUND) when the peer does not hold it, TIMEOUT.
 */
export async function fetchShard(net: NetNode, peer: string, opts: FetchShardOpts): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let n = 0
  const stream = net.requestStream(peer, protocolId(net.chainId, PROTOCOLS.shardGet), encode(ShardGetRequest, { asset: opts.asset, shardIndex: opts.shardIndex }), {
    timeoutMs: opts.timeoutMs ?? GET.timeoutMs,
    maxResponseBytes: Math.min(opts.maxBytes ?? GET.maxResponseBytes, MAX_SHARD_BYTES),
  })
  for await (const chunk of stream) {
    chunks.push(chunk)
    n += chunk.length
  }
  const out = new Uint8Array(n)
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  // One pass over the assembled bytes (not hashParts(...chunks): a peer sending millions of tiny
  // frames would overflow the argument list).
  const got = hash(out)
  if (!equalBytes(got, opts.expectedHash)) {
    throw new NetError('HASH_MISMATCH', `shard ${opts.shardIndex} of ${toHex(opts.asset)} from ${peer} does not match its hash`, { got: toHex(got), expected: toHex(opts.expectedHash), peer })
  }
  return out
}

export interface FetchShardRangeOpts extends ShardRef {
  offset: number
  length: number
  timeoutMs?: number
  /**
   * Where to put the bytes (at least `length` long, e.g. a reader's reused window buffer): the
   * answer is copied in frame by frame instead of being joined into a fresh buffer. The result
   * is then `into.subarray(0, length)`. If the request fails, `into` holds garbage.
   */
  into?: Uint8Array
}

/**
 * `length` bytes at `offset` of a shard from `peer` (shard/range). Only the length is checked
 * here: the caller verifies the bytes (streamAsset checks each window across shards). Throws
 * NetError TRUNCATED on a short answer, RESPONSE_TOO_LARGE, REMOTE_ERROR (NOT_FOUND), TIMEOUT.
 */
export async function fetchShardRange(net: NetNode, peer: string, opts: FetchShardRangeOpts): Promise<Uint8Array> {
  if (opts.length > RANGE.maxResponseBytes) throw new NetError('REQUEST_TOO_LARGE', `range of ${opts.length} bytes exceeds ${RANGE.maxResponseBytes}`)
  if (opts.into !== undefined && opts.into.length < opts.length) throw new NetError('REQUEST_TOO_LARGE', `buffer of ${opts.into.length} bytes for a range of ${opts.length}`)
  const out = opts.into?.subarray(0, opts.length) ?? new Uint8Array(opts.length)
  let filled = 0
  // maxResponseBytes makes the exchange cut a longer answer before it is copied.
  for await (const chunk of net.requestStream(peer, protocolId(net.chainId, PROTOCOLS.shardRange), encode(ShardRangeRequest, { asset: opts.asset, shardIndex: opts.shardIndex, offset: BigInt(opts.offset), length: opts.length }), {
    timeoutMs: opts.timeoutMs ?? RANGE.timeoutMs,
    maxResponseBytes: opts.length,
  })) {
    out.set(chunk, filled)
    filled += chunk.length
  }
  if (filled !== opts.length) throw new NetError('TRUNCATED', `shard range has ${filled} of ${opts.length} bytes`)
  return out
}

/**
 * A whole shard as a stream of `rangeBytes` windows fetched one after another over shard/range:
 * never more than one window in memory, however far ahead the host could send (a whole-shard
 * shard/get response is queued by libp2p without backpressure). For repairs and hand-overs,
 * whose consumer checks the bytes (ShardStore.putStream: length, hash, chunk root).
 */
export async function* streamShardByRanges(net: NetNode, peer: string, ref: ShardRef & { size: number; rangeBytes?: number; timeoutMs?: number }): AsyncGenerator<Uint8Array> {
  const step = Math.min(ref.rangeBytes ?? 2 * 1024 * 1024, RANGE.maxResponseBytes)
  for (let offset = 0; offset < ref.size; offset += step) {
    yield await fetchShardRange(net, peer, { asset: ref.asset, shardIndex: ref.shardIndex, offset, length: Math.min(step, ref.size - offset), ...(ref.timeoutMs !== undefined ? { timeoutMs: ref.timeoutMs } : {}) })
  }
}

/** A shard's page roots from `peer` (shard/roots), unchecked: the caller folds them to the manifest's chunk root. */
export async function fetchShardPageRoots(net: NetNode, peer: string, ref: ShardRef, timeoutMs = ROOTS.timeoutMs): Promise<Uint8Array> {
  const bytes = await net.request(peer, protocolId(net.chainId, PROTOCOLS.shardRoots), encode(ShardGetRequest, ref), { timeoutMs, maxResponseBytes: ROOTS.maxResponseBytes })
  if (bytes.length % 32 !== 0) throw new NetError('TRUNCATED', `page roots of ${bytes.length} bytes are not whole hashes`)
  return bytes
}

export type PutShardParams = ShardRef & { timeoutMs?: number; idleTimeoutMs?: number } & (
  | { data: Uint8Array }
  /** A streamed shard: its hash and size (from the manifest) go in the header before the body. */
  | { shardHash: Uint8Array; size: number; body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> }
)

/**
 * Uploads a shard to `peer` in chunks; the receiver checks it against the hash the chain assigned.
 * Throws NetError STALLED when no byte moves for `idleTimeoutMs` (SHARD_PUT_IDLE_MS).
 */
export async function putShard(net: NetNode, peer: string, shard: PutShardParams): Promise<void> {
  const streamed = !('data' in shard)
  const size = streamed ? shard.size : shard.data.length
  const header = encode(ShardPutRequest, { asset: shard.asset, shardIndex: shard.shardIndex, shardHash: streamed ? shard.shardHash : hash(shard.data), size: BigInt(size) })
  await net.request(peer, protocolId(net.chainId, PROTOCOLS.shardPut), header, {
    body: streamed ? rechunk(shard.body) : chunksOf(shard.data),
    timeoutMs: shard.timeoutMs ?? Math.max(PUT.timeoutMs, shardTransferTimeoutMs(size)),
    idleTimeoutMs: shard.idleTimeoutMs ?? SHARD_PUT_IDLE_MS,
    maxResponseBytes: PUT.maxResponseBytes,
  })
}

const HTTP_URL = PROTOCOL_LIMITS.shardHttp

/** A host answers shard/http with the base URL of its shard HTTP server (src/node/shardHttpServer.ts), or nothing. */
export async function serveShardHttpUrl(net: NetNode, url: () => string | undefined): Promise<void> {
  await net.handle(protocolId(net.chainId, PROTOCOLS.shardHttp), () => new TextEncoder().encode(url() ?? ''), { maxRequestBytes: 0, maxBodyBytes: 0, timeoutMs: HTTP_URL.timeoutMs })
}

/**
 * The shard HTTP base URL `peer` announces, undefined when it has none. Trusting it costs
 * nothing: every byte read from it is checked against the asset's manifest.
 */
export async function fetchShardHttpUrl(net: NetNode, peer: string, timeoutMs: number = HTTP_URL.timeoutMs): Promise<string | undefined> {
  const bytes = await net.request(peer, protocolId(net.chainId, PROTOCOLS.shardHttp), new Uint8Array(0), { timeoutMs, maxResponseBytes: HTTP_URL.maxResponseBytes })
  const url = new TextDecoder().decode(bytes)
  return isShardHttpUrl(url) ? url : undefined
}

