import type { Hash, Manifest } from '../../../blocks/schema.ts'
import { equalBytes, toHex } from '../../crypto/bytes.ts'
import { RPC_CODES } from '../../rpc/errors.ts'
import { BLOB_MAGIC, type BlobOwnerKey, decryptBlobStream, isEncryptedBlob } from '../../storage/blobCipher.ts'
import { BlobError } from '../../storage/errors.ts'
import { createIncrementalHash } from '../../storage/incrementalHash.ts'
import type { Client } from '../createClient.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'
import { getAsset } from './getAsset.ts'

export interface GetAssetDataParameters {
  id: Hash
  /** Bytes [start, end) of the stored bytes (the ciphertext for a private blob); no decryption, checked by the node only. */
  range?: { start: number; end: number }
  /** The owner's key: a private blob is decrypted with it (ignored for a public one). */
  key?: BlobOwnerKey
  /** Stored bytes received so far, and their total. */
  onProgress?(received: number, total: number): void
  timeoutMs?: number
}

export interface GetAssetDataStream {
  manifest: Manifest
  /** Whether the stored bytes are an encrypted blob (known once the first bytes arrived: read `data` first). */
  encrypted(): boolean | undefined
  /**
   * The asset's bytes, plaintext when `key` decrypts them. Ends normally only if the stored bytes
   * hash to the manifest's data hash (whole reads) and every encrypted segment authenticated; else
   * it throws BlobError (VERIFY_FAILED, AUTH_FAILED, NOT_ENCRYPTED) or RpcClientError: discard what
   * it yielded before.
   */
  data: AsyncIterable<Uint8Array>
}

async function openResponse(client: Client, id: Hash, range: GetAssetDataParameters['range'], timeoutMs: number): Promise<Response> {
  const url = `${client.transport.url}/assets/${toHex(id)}`
  const headers: Record<string, string> = {}
  if (range !== undefined) headers.range = `bytes=${range.start}-${range.end - 1}`
  let res: Response
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) })
  } catch (cause) {
    throw new RpcClientError('TRANSPORT_FAILED', `GET ${url} failed`, { url }, { cause })
  }
  if (res.status === 200 || res.status === 206) return res
  const body = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined
  if (body?.error !== undefined) throw fromRpcErrorObject(body.error)
  throw new RpcClientError('BAD_RESPONSE', `GET ${url}: HTTP ${res.status}`, { status: res.status })
}

/**
 * Reads a stored asset back through any node's `GET /assets/<id>` (the node rebuilds it from k
 * hosts' shards), streaming: memory stays at a segment or two whatever the size. The client
 * checks the bytes against the manifest itself (it does not trust the node) and decrypts a
 * private blob with the owner's key, which never leaves this process.
 */
export async function getAssetDataStream(client: Client, p: GetAssetDataParameters): Promise<GetAssetDataStream> {
  const info = await getAsset(client, { id: p.id })
  if (info === null) throw new RpcClientError('UNKNOWN_ASSET', `no asset ${toHex(p.id)}`, { rpcCode: RPC_CODES.UNKNOWN_ASSET, data: {} })
  const { manifest } = info.record
  const total = p.range ? p.range.end - p.range.start : Number(manifest.size)
  const timeoutMs = p.timeoutMs ?? 60_000 + Number(manifest.size >> 20n) * 1_000
  async function* stored(): AsyncGenerator<Uint8Array> {
    if (total === 0 && p.range !== undefined) return
    const res = await openResponse(client, p.id, p.range, timeoutMs)
    if (res.body === null) throw new RpcClientError('BAD_RESPONSE', 'asset response without a body')
    const hash = createIncrementalHash()
    let received = 0
    try {
      for await (const chunk of res.body) {
        received += chunk.length
        if (received > total) throw new BlobError('VERIFY_FAILED', `the node sent more than the ${total} bytes asked for`, { what: 'length' })
        hash.update(chunk)
        p.onProgress?.(received, total)
        yield chunk
      }
    } catch (err) {
      if (err instanceof BlobError) throw err
      throw new RpcClientError('TRANSPORT_FAILED', `the node cut the asset stream after ${received} of ${total} bytes`, { url: client.transport.url }, { cause: err })
    }
    if (received !== total) throw new BlobError('VERIFY_FAILED', `got ${received} of ${total} bytes`, { what: 'length' })
    if (p.range === undefined && !equalBytes(hash.digest(), manifest.dataHash)) throw new BlobError('VERIFY_FAILED', 'the bytes the node sent do not hash to the manifest data hash', { what: 'data hash' })
  }
  if (p.range !== undefined) return { manifest, encrypted: () => undefined, data: stored() }
  return { manifest, ...plaintextOf(stored(), p.key) }
}

/**
 * A whole asset's stored bytes as the user's bytes: a private blob (recognised by its header) is
 * decrypted with `key` segment by segment; anything else passes as is. `encrypted()` is known
 * once the first bytes went through.
 */
export function plaintextOf(stored: AsyncIterable<Uint8Array>, key: BlobOwnerKey | undefined): Pick<GetAssetDataStream, 'encrypted' | 'data'> {
  let encrypted: boolean | undefined
  async function* plain(): AsyncGenerator<Uint8Array> {
    const it = stored[Symbol.asyncIterator]()
    // Enough bytes to see the header's magic before choosing to decrypt.
    const head: Uint8Array[] = []
    let headBytes = 0
    let ended = false
    while (headBytes < BLOB_MAGIC.length) {
      const r = await it.next()
      if (r.done === true) {
        ended = true
        break
      }
      head.push(r.value)
      headBytes += r.value.length
    }
    encrypted = isEncryptedBlob(Buffer.concat(head))
    async function* all(): AsyncGenerator<Uint8Array> {
      yield* head
      if (!ended) for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value
    }
    if (key !== undefined && encrypted) yield* decryptBlobStream(all(), key)
    else yield* all()
  }
  return { encrypted: () => encrypted, data: plain() }
}

/** The whole asset in memory (small assets and tests); getAssetDataStream for large ones. */
export async function getAssetData(client: Client, p: GetAssetDataParameters): Promise<Uint8Array> {
  const { data } = await getAssetDataStream(client, p)
  const parts: Uint8Array[] = []
  for await (const chunk of data) parts.push(chunk)
  return new Uint8Array(Buffer.concat(parts))
}
