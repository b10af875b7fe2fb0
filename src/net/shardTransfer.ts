import { decode, encode } from '../../blocks/codec.ts'
import { equalBytes, toHex } from '../crypto/bytes.ts'
import { hash } from '../crypto/hash.ts'
import type { NetNode } from './createNetNode.ts'
import { NetError } from './errors.ts'
import { CHUNK_BYTES } from './framing.ts'
import { PROTOCOL_LIMITS, protocolId, PROTOCOLS, ShardGetRequest, ShardPutRequest } from './messages.ts'

const GET = PROTOCOL_LIMITS.shardGet
const PUT = PROTOCOL_LIMITS.shardPut

export interface ShardRef { asset: Uint8Array; shardIndex: number }

/**
 * The storage side of shard transfer, injected by the node.
 * - `getShard`: the stored shard bytes, or undefined if this host does not hold it.
 * - `expectedShardHash`: the hash the chain assigned to (asset, shardIndex) for this host (from the
 *   deployment's manifest and placement), or undefined if it did not assign it: an upload is
 *   refused before its body is read unless it matches.
 * - `putShard`: called only with bytes whose hash equals the expected hash.
 */
export interface ShardStore {
  getShard(ref: ShardRef, peer: string): Promise<Uint8Array | undefined>
  expectedShardHash(ref: ShardRef, peer: string): Promise<Uint8Array | undefined>
  putShard(ref: ShardRef & { shardHash: Uint8Array; data: Uint8Array }, peer: string): Promise<void>
}

async function* chunksOf(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += CHUNK_BYTES) yield data.subarray(o, Math.min(data.length, o + CHUNK_BYTES))
}

export async function serveShards(net: NetNode, store: ShardStore, limits: { maxShardBytes?: number } = {}): Promise<void> {
  const maxShardBytes = limits.maxShardBytes ?? PUT.maxBodyBytes
  await net.handle(protocolId(net.chainId, PROTOCOLS.shardGet), async (request, peer) => {
    const ref = decode(ShardGetRequest, request)
    const data = await store.getShard(ref, peer)
    if (data === undefined) throw new NetError('NOT_FOUND', `no shard ${ref.shardIndex} of ${toHex(ref.asset)}`)
    return chunksOf(data)
  }, { maxRequestBytes: GET.maxRequestBytes, maxBodyBytes: 0, timeoutMs: GET.timeoutMs })

  await net.handle(protocolId(net.chainId, PROTOCOLS.shardPut), async (request, peer, body) => {
    const header = decode(ShardPutRequest, request)
    const ref = { asset: header.asset, shardIndex: header.shardIndex }
    const expected = await store.expectedShardHash(ref, peer)
    if (expected === undefined) throw new NetError('NOT_FOUND', `shard ${header.shardIndex} of ${toHex(header.asset)} is not assigned here`)
    if (!equalBytes(expected, header.shardHash)) throw new NetError('HASH_MISMATCH', 'announced shard hash differs from the assigned one')
    if (header.size > BigInt(maxShardBytes)) throw new NetError('REQUEST_TOO_LARGE', `shard of ${header.size} bytes exceeds ${maxShardBytes}`)
    const size = Number(header.size)
    const data = new Uint8Array(size)
    let filled = 0
    for await (const chunk of body) {
      if (filled + chunk.length > size) throw new NetError('REQUEST_TOO_LARGE', `shard body exceeds its announced ${size} bytes`)
      data.set(chunk, filled)
      filled += chunk.length
    }
    if (filled !== size) throw new NetError('TRUNCATED', `shard body has ${filled} of ${size} bytes`)
    if (!equalBytes(hash(data), expected)) throw new NetError('HASH_MISMATCH', 'shard bytes do not match the assigned hash')
    await store.putShard({ ...ref, shardHash: expected, data }, peer)
    return new Uint8Array(0)
  }, { maxRequestBytes: PUT.maxRequestBytes, maxBodyBytes: maxShardBytes, timeoutMs: PUT.timeoutMs })
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
    maxResponseBytes: Math.min(opts.maxBytes ?? GET.maxResponseBytes, GET.maxResponseBytes),
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

/** Uploads a shard to `peer` in chunks; the receiver checks it against the hash the chain assigned. */
export async function putShard(net: NetNode, peer: string, shard: ShardRef & { data: Uint8Array; timeoutMs?: number }): Promise<void> {
  const header = encode(ShardPutRequest, { asset: shard.asset, shardIndex: shard.shardIndex, shardHash: hash(shard.data), size: BigInt(shard.data.length) })
  await net.request(peer, protocolId(net.chainId, PROTOCOLS.shardPut), header, {
    body: chunksOf(shard.data),
    timeoutMs: shard.timeoutMs ?? PUT.timeoutMs,
    maxResponseBytes: PUT.maxResponseBytes,
  })
}
