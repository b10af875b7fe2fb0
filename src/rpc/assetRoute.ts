import type { IncomingMessage, ServerResponse } from 'node:http'

import type { Hash, Manifest } from '../../blocks/schema.ts'
import { fromHex, toHex } from '../crypto/bytes.ts'
import { BlobError } from '../storage/errors.ts'
import { RpcBackendError, RpcError, type RpcErrorObject, toRpcErrorObject } from './errors.ts'

/**
 * `GET /assets/<id>` (and HEAD): an asset's stored bytes over plain HTTP, rebuilt by the node
 * from its hosts' shards and checked against the manifest (src/storage/streamAsset.ts). Single
 * byte ranges (RFC 9110 §14): `bytes=a-b`, `bytes=a-`, `bytes=-n` give 206 with Content-Range;
 * a range past the end gives 416 with a Content-Range naming the size; several ranges or a
 * malformed header are ignored (200, the whole asset), as the RFC allows. A private blob's
 * bytes are its ciphertext: only the owner's key (xsc get --key) turns them into plaintext.
 */
export interface AssetSource {
  /** The asset's manifest and a reader of its bytes [start, end), or undefined for an unknown asset. */
  open(id: Hash): Promise<{ manifest: Manifest; read(start: number, end: number): AsyncIterable<Uint8Array> } | undefined>
  /**
   * The shard HTTP base URL of each placement slot's host (null: none known), for
   * `GET /assets/<id>/hosts`; undefined for an unknown asset. Unproven hints: a reader checks
   * every byte against the manifest it proved, so a wrong URL only costs a fallback.
   */
  shardUrls?(id: Hash): Promise<(string | null)[] | undefined>
  /** Releases kept-alive connections to hosts. */
  close?(): void
}

export interface AssetRouteOpts {
  /** Reads served at once; more get 503 (each holds up to depth × (k+1) shard windows: ~40 MiB for 4+2). */
  maxConcurrentReads: number
}

const ASSET_PATH = /^\/assets\/(0x)?([0-9a-fA-F]{64})(\/hosts)?$/

export function isAssetPath(path: string): boolean {
  return path.startsWith('/assets/')
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined

/** The one range a `Range` header asks for, in [start, end) form; undefined means "send it all". */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size }
  }
  const start = Number(m[1])
  const last = m[2] === '' ? Infinity : Number(m[2])
  if (!Number.isSafeInteger(start) || last < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end: Math.min(last, size - 1) + 1 }
}

function sendError(res: ServerResponse, status: number, err: unknown): void {
  const error: RpcErrorObject = toRpcErrorObject(err)
  const body = JSON.stringify({ error })
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** HTTP status of a read that failed before its first byte. */
function statusOf(err: unknown): number {
  if (!(err instanceof BlobError)) return 500
  if (err.code === 'UNAVAILABLE') return 503
  if (err.code === 'VERIFY_FAILED') return 502
  if (err.code === 'BAD_RANGE') return 416
  return 500
}

/** Bytes a response may queue before the reader waits for the socket: a few output chunks, not one wake-up per 256 KiB. */
const QUEUED_BYTES = 1024 * 1024

/** Writes with backpressure; false when the client went away. */
async function write(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed) return false
  if (res.write(chunk) || res.writableLength < QUEUED_BYTES) return true
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      resolve(ok)
    }
    const onDrain = done(true)
    const onClose = done(false)
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

export function createAssetRoute(source: AssetSource, opts: AssetRouteOpts = { maxConcurrentReads: 8 }) {
  let reading = 0
  /** GET /assets/<id>/hosts: `{ "shardUrls": [url | null, …] }` in placement order (xsc get reads the shards from there). */
  async function serveShardUrls(res: ServerResponse, id: Hash): Promise<void> {
    const urls = source.shardUrls === undefined ? undefined : await source.shardUrls(id).catch(() => undefined)
    if (urls === undefined) return sendError(res, 404, new RpcBackendError('UNKNOWN_ASSET', `no asset ${toHex(id)}`, { asset: id }))
    const body = JSON.stringify({ shardUrls: urls })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
    res.end(body)
  }
  return async function serveAsset(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    req.resume()
    const m = ASSET_PATH.exec(path)
    if (m === null) return sendError(res, 400, new RpcError('INVALID_PARAMS', 'GET /assets/<id>: the id is 32 bytes of hex (0x + 64 hex digits)'))
    const id = fromHex(`0x${m[2]!}`, 32)
    if (m[3] !== undefined) return serveShardUrls(res, id)
    const asset = await source.open(id)
    if (asset === undefined) return sendError(res, 404, new RpcBackendError('UNKNOWN_ASSET', `no asset ${toHex(id)}`, { asset: id }))
    const size = Number(asset.manifest.size)
    const range = parseByteRange(req.headers.range, size)
    const headers: Record<string, string | number> = {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      etag: `"${toHex(asset.manifest.dataHash)}"`,
      'x-xsc-data-hash': toHex(asset.manifest.dataHash),
      'x-content-type-options': 'nosniff',
    }
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 })
      res.end()
      return
    }
    const { start, end } = range ?? { start: 0, end: size }
    const status = range === undefined ? 200 : 206
    if (range !== undefined) headers['content-range'] = `bytes ${start}-${end - 1}/${size}`
    headers['content-length'] = end - start
    if (req.method === 'HEAD' || start === end) {
      res.writeHead(status, headers)
      res.end()
      return
    }
    if (reading >= opts.maxConcurrentReads) return sendError(res, 503, new RpcError('UNAVAILABLE', 'Too many asset reads at once; retry shortly'))
    reading++
    const it = asset.read(start, end)[Symbol.asyncIterator]()
    try {
      // Headers go out with the first verified bytes, so a read that fails early is a clean error status.
      let next: IteratorResult<Uint8Array>
      try {
        next = await it.next()
      } catch (err) {
        return sendError(res, statusOf(err), err)
      }
      res.writeHead(status, headers)
      try {
        for (; next.done !== true; next = await it.next()) {
          if (!(await write(res, next.value))) return
        }
        res.end()
      } catch {
        // Mid-stream failure: the status is gone, so cut the connection; the client sees a short body, never wrong bytes.
        res.destroy()
      }
    } finally {
      reading--
      void it.return?.(undefined).catch(() => undefined)
    }
  }
}
