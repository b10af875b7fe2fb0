import type { Hash } from '../../../blocks/schema.ts'
import { fromHex } from '../../crypto/bytes.ts'
import type { Client } from '../createClient.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'

/** Bytes too large to hold: `open()` streams them (and may be called again for a retry). */
export interface StreamedBytes { size: number; open(): AsyncIterable<Uint8Array> }

export interface UploadBlobParameters {
  bytes: Uint8Array | StreamedBytes
  timeoutMs?: number
  /** Called as bytes are handed to the socket (streamed in chunks); without it the body is sent in one piece. */
  onProgress?(sent: number, total: number): void
}
export interface UploadBlobReturnType { dataHash: Hash; size: number }

const PROGRESS_CHUNK = 256 * 1024

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

/** Raw bytes by HTTP PUT /blob (no base64 through JSON); the deploy tx then names the data hash. */
export async function uploadBlob(client: Client, p: UploadBlobParameters): Promise<UploadBlobReturnType> {
  const url = `${client.transport.url}/blob`
  let res: Response
  try {
    const bytes = p.bytes
    const streamed = !(bytes instanceof Uint8Array) || (p.onProgress !== undefined && bytes.length > 0)
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', ...(bytes instanceof Uint8Array ? {} : { 'content-length': String(bytes.size) }) },
      body: !(bytes instanceof Uint8Array) ? iterableStream(bytes, p.onProgress) : p.onProgress && bytes.length > 0 ? progressStream(bytes, p.onProgress) : bytes,
      signal: AbortSignal.timeout(p.timeoutMs ?? 120_000),
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
