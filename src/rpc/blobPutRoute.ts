import type { IncomingMessage, ServerResponse } from 'node:http'

import type { Logger } from 'pino'

import { toHex } from '../crypto/bytes.ts'
import { BLOB_AUTH_HEADER, type BlobUploadAuth, type RpcBackend } from './backend.ts'
import type { TakeTokens } from './dispatch.ts'
import { RPC_CODES, RpcError, toRpcErrorObject } from './errors.ts'
import type { RpcMetrics } from './metrics.ts'

export interface BlobPutRouteModules {
  backend: RpcBackend
  opts: { maxBlobBytes: number; requestTimeoutMs: number }
  metrics: RpcMetrics
  log: Logger
  takerFor: (socket: IncomingMessage['socket']) => TakeTokens
  send: (res: ServerResponse, status: number, body: string | undefined) => void
}

/**
 * `PUT /blob`: raw bytes streamed to the backend (to disk, hashed on the way) after the upload's
 * authorization header is checked; answers `{ dataHash, size }` or a JSON-RPC error object.
 */
export function createBlobPutRoute(m: BlobPutRouteModules): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { backend, opts, metrics, log, takerFor, send } = m
  return async (req, res) => {
    if (!takerFor(req.socket)(1)) {
      send(res, 429, JSON.stringify({ error: new RpcError('RATE_LIMITED', 'Rate limit exceeded').toObject() }))
      return
    }
    // Authorization first, so an unsigned or unfunded upload is refused before its body is held.
    let auth: BlobUploadAuth
    try {
      const header = req.headers[BLOB_AUTH_HEADER]
      const declared = Number(req.headers['content-length'])
      auth = await backend.authorizeBlobUpload(Array.isArray(header) ? header[0] : header, Number.isSafeInteger(declared) ? declared : undefined)
    } catch (err) {
      const error = toRpcErrorObject(err)
      metrics.requests.inc({ method: 'blob', code: String(error.code) })
      req.resume()
      send(res, error.code === -32603 ? 500 : error.code === RPC_CODES.BLOB_QUOTA_EXCEEDED ? 429 : 401, JSON.stringify({ error }))
      return
    }
    const declared = Number(req.headers['content-length'] ?? NaN)
    const tooLarge = (): string => JSON.stringify({ error: new RpcError('BLOB_TOO_LARGE', `Blob exceeds ${opts.maxBlobBytes} bytes`, { max: opts.maxBlobBytes }).toObject() })
    if (Number.isFinite(declared) && declared > opts.maxBlobBytes) {
      // Refused before a byte is read; the connection closes rather than drain gigabytes.
      res.setHeader('connection', 'close')
      send(res, 413, tooLarge())
      res.on('finish', () => req.destroy())
      return
    }
    // The body streams to the backend (to disk, hashed on the way): memory stays at a few socket
    // buffers whatever the size. The deadline grows with the declared size (1 s per MiB).
    const deadline = setTimeout(() => req.destroy(), opts.requestTimeoutMs + (Number.isFinite(declared) ? Math.ceil(declared / (1 << 20)) * 1_000 : 0))
    try {
      const { dataHash, size } = await backend.uploadBlob(req, auth)
      metrics.requests.inc({ method: 'blob', code: '0' })
      send(res, 200, JSON.stringify({ dataHash: toHex(dataHash), size }))
    } catch (err) {
      if (req.destroyed && !req.complete) return
      const error = toRpcErrorObject(err)
      if (error.code === -32603) log.error({ err }, 'blob upload failed')
      metrics.requests.inc({ method: 'blob', code: String(error.code) })
      if (!req.complete) {
        res.setHeader('connection', 'close')
        res.on('finish', () => req.destroy())
      }
      send(res, error.code === -32603 ? 500 : error.code === RPC_CODES.BLOB_TOO_LARGE ? 413 : 400, error.code === RPC_CODES.BLOB_TOO_LARGE ? tooLarge() : JSON.stringify({ error }))
    } finally {
      clearTimeout(deadline)
    }
  }
}
