import { createHash } from 'node:crypto'

import { blobUploadSigningHash } from '../../../blocks/ids.ts'
import type { Hash } from '../../../blocks/schema.ts'
import { fromHex, toHex } from '../../crypto/bytes.ts'
import { hash, type KeyPair, sign } from '../../crypto/index.ts'
import { BLOB_AUTH_HEADER } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'
import { getChainStatus } from './getChainStatus.ts'

/** Bytes too large to hold: `open()` streams them (and may be called again for a retry). */
export interface StreamedBytes { size: number; open(): AsyncIterable<Uint8Array> }

export interface UploadBlobParameters {
  bytes: Uint8Array | StreamedBytes
  /** The bytes' data hash (crypto `hash`), which the upload is signed over: given for a stream (its manifest has it), computed for bytes when absent. */
  dataHash?: Hash
  /** The funded account that signs the upload (the node refuses unsigned or unfunded uploads). */
  account: KeyPair
  /** Fetched from the node when absent. */
  chainId?: string
  /** How long the signed authorization stays valid (default 5 minutes; nodes accept at most 10). */
  authValidForMs?: number
  timeoutMs?: number
  /** Called as bytes are handed to the socket (streamed in chunks); without it the body is sent in one piece. */
  onProgress?(sent: number, total: number): void
}
export interface UploadBlobReturnType { dataHash: Hash; size: number }

const PROGRESS_CHUNK = 256 * 1024
const DEFAULT_AUTH_VALID_MS = 5 * 60_000

/** The bytes as a stream of chunks that reports what the transport pulled (backpressure paces it). */
function progressStream(bytes: Uint8Array, onProgress: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes.length) {
        controller.close()
        return
      }
      const chunk = bytes.subarray(sent, Math.min(bytes.length, sent + PROGRESS_CHUNK))
      sent += chunk.length
      controller.enqueue(chunk)
      onProgress(sent, bytes.length)
    },
  }, { highWaterMark: 0 })
}

/** A streamed source as a request body, reporting what the transport pulled. */
function iterableStream(source: StreamedBytes, onProgress?: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  const it = source.open()[Symbol.asyncIterator]()
  let sent = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await it.next()
      if (r.done === true) {
        controller.close()
        return
      }
      sent += r.value.length
      controller.enqueue(r.value)
      onProgress?.(sent, source.size)
    },
    async cancel() {
      await it.return?.()
    },
  }, { highWaterMark: 0 })
}

/** The data hash of a stream, read once (a caller that has its manifest passes `dataHash` and skips this pass). */
async function hashStream(source: StreamedBytes): Promise<Hash> {
  const h = createHash('sha256')
  for await (const chunk of source.open()) h.update(chunk)
  return new Uint8Array(h.digest())
}

/** The signed `x-xsc-blob-auth` value: address, data hash and expiry, signed by the account. */
export function signBlobUpload(account: KeyPair, chainId: string, dataHash: Hash, expiresAtMs: number): string {
  const signature = sign(account.secretKey, blobUploadSigningHash(chainId, account.publicKey, dataHash, expiresAtMs))
  return `${toHex(account.publicKey)}:${toHex(dataHash)}:${expiresAtMs}:${toHex(signature)}`
}

/**
 * Raw bytes by HTTP PUT /blob (no base64 through JSON), signed by a funded account over their
 * data hash; the deploy tx then names the data hash. Refusals are typed: BLOB_UNAUTHORIZED with
 * data.reason BLOB_AUTH_MISSING / BLOB_AUTH_INVALID / BLOB_AUTH_EXPIRED / BLOB_ACCOUNT_UNFUNDED /
 * BLOB_HASH_MISMATCH, BLOB_QUOTA_EXCEEDED, BLOB_TOO_LARGE.
 */
export async function uploadBlob(client: Client, p: UploadBlobParameters): Promise<UploadBlobReturnType> {
  const url = `${client.transport.url}/blob`
  const chainId = p.chainId ?? (await getChainStatus(client)).chainId
  const dataHash = p.dataHash ?? (p.bytes instanceof Uint8Array ? hash(p.bytes) : await hashStream(p.bytes))
  const auth = signBlobUpload(p.account, chainId, dataHash, Date.now() + (p.authValidForMs ?? DEFAULT_AUTH_VALID_MS))
  let res: Response
  try {
    const bytes = p.bytes
    const streamed = !(bytes instanceof Uint8Array) || (p.onProgress !== undefined && bytes.length > 0)
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', [BLOB_AUTH_HEADER]: auth, ...(bytes instanceof Uint8Array ? {} : { 'content-length': String(bytes.size) }) },
      body: !(bytes instanceof Uint8Array) ? iterableStream(bytes, p.onProgress) : p.onProgress && bytes.length > 0 ? progressStream(bytes, p.onProgress) : bytes,
      // A 4 GiB upload outlasts any fixed deadline: two minutes plus one second per MiB.
      signal: AbortSignal.timeout(p.timeoutMs ?? 120_000 + Math.ceil((bytes instanceof Uint8Array ? bytes.length : bytes.size) / (1 << 20)) * 1_000),
    }
    // A streamed request body must say it is half-duplex (fetch standard; undici requires it).
    if (streamed) init.duplex = 'half'
    res = await fetch(url, init)
  } catch (cause) {
    throw new RpcClientError('TRANSPORT_FAILED', `upload to ${url} failed`, { url }, { cause })
  }
  const body = (await res.json().catch(() => undefined)) as { dataHash?: unknown; size?: unknown; error?: unknown } | undefined
  if (body === undefined) throw new RpcClientError('BAD_RESPONSE', `upload: HTTP ${res.status} without a JSON body`, { status: res.status })
  if (body.error !== undefined) throw fromRpcErrorObject(body.error)
  if (typeof body.dataHash !== 'string' || typeof body.size !== 'number') throw new RpcClientError('BAD_RESPONSE', 'upload: missing dataHash')
  const total = p.bytes instanceof Uint8Array ? p.bytes.length : p.bytes.size
  p.onProgress?.(total, total)
  return { dataHash: fromHex(body.dataHash, 32), size: body.size }
}
