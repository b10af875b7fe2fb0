import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import { XscError } from '../../blocks/errors.ts'
import type { Hash } from '../../blocks/schema.ts'
import { fromHex, toHex } from '../crypto/bytes.ts'
import { computeConnectionsCheckingInterval } from '../rpc/httpServerTimeouts.ts'

/**
 * Errors a shard HTTP server answers with: a status and a JSON body `{ error: { code, message } }`.
 * Every one is the reader's fault or a limit, never a crash of the host.
 */
export type ShardHttpErrorPayloads = {
  BAD_PATH: { path: string }
  BAD_RANGE: { range?: string; shardSize?: number }
  RANGE_TOO_LARGE: { length: number; max: number }
  NOT_FOUND: { asset: string; shardIndex: number }
  METHOD_NOT_ALLOWED: { method: string }
  TOO_MANY_REQUESTS: { limit: number }
  BUSY: { limit: number }
  INTERNAL: {}
}
export class ShardHttpError extends XscError<ShardHttpErrorPayloads> {}

const STATUS: Record<keyof ShardHttpErrorPayloads, number> = {
  BAD_PATH: 400,
  BAD_RANGE: 416,
  RANGE_TOO_LARGE: 413,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOO_MANY_REQUESTS: 429,
  BUSY: 503,
  INTERNAL: 500,
}

/** What the server reads from: the host's store, gated by the chain (only shards placed on this host of assets active on chain). */
export interface ShardHttpSource {
  /** The shard's size if this host serves (asset, shardIndex) now, else undefined (unknown, deleted, expired, moved away, not held). */
  servable(asset: Hash, shardIndex: number): Promise<number | undefined>
  /** `length` bytes at `offset` as the store's pieces (views; sent as they are). */
  readRange(asset: Hash, shardIndex: number, offset: number, length: number): Promise<Uint8Array[]>
  pageRoots(asset: Hash, shardIndex: number): Promise<Uint8Array | undefined>
}

export interface ShardHttpLimits {
  /** Largest range one request may ask (default 16 MiB, as shard/range). */
  maxRangeBytes: number
  /** Requests one IP may have in flight (default 32). */
  maxConcurrentPerIp: number
  /** Requests in flight from all IPs together (default 256; 503 beyond). */
  maxConcurrent: number
  /** Bytes per second one IP is sent, summed over its requests (default 1 GiB/s); bursts up to one second's worth. */
  bytesPerSecondPerIp: number
  /** A request's headers must arrive within this (default 10 s): slowloris. */
  headersTimeoutMs: number
  /** A whole request (headers; GET has no body) within this (default 20 s). */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this (default 10 s). */
  keepAliveTimeoutMs: number
  /** A response the reader stops taking is cut after this without progress (default 30 s). */
  idleResponseMs: number
}

export const DEFAULT_SHARD_HTTP_LIMITS: ShardHttpLimits = {
  maxRangeBytes: 16 * 1024 * 1024,
  maxConcurrentPerIp: 32,
  maxConcurrent: 256,
  bytesPerSecondPerIp: 1024 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  keepAliveTimeoutMs: 10_000,
  idleResponseMs: 30_000,
}

/** GET /shards/<asset hex>/<index> (a `Range: bytes=a-b` window) and GET /shards/<asset hex>/<index>/roots (page roots). */
const SHARD_PATH = /^\/shards\/(?:0x)?([0-9a-fA-F]{64})\/(\d{1,3})(\/roots)?$/

/** Store bytes read per step of a response: what one request holds at a time, whatever its range. */
const STEP_BYTES = 1024 * 1024

/** One IP's requests in flight and its byte budget (a token bucket refilled at bytesPerSecondPerIp). */
interface IpState { inFlight: number; tokens: number; refilledAt: number }

export interface ShardHttpServer {
  /** http://host:port the server answers on (the bound address: 0.0.0.0 when listening on all). */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

function sendError(res: ServerResponse, err: ShardHttpError): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ error: { code: err.code, message: err.message, data: err.details } })
  res.writeHead(STATUS[err.code], { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' })
  res.end(body)
}

/** The [start, end) a single `bytes=a-b` / `bytes=a-` range asks of a shard of `size` bytes; no header means the whole shard. */
export function parseShardRange(header: string | undefined, size: number): { start: number; end: number } {
  if (header === undefined) return { start: 0, end: size }
  const m = /^bytes=(\d{1,16})-(\d{0,16})$/.exec(header.trim())
  if (m === null) throw new ShardHttpError('BAD_RANGE', 'Range must be one bytes=START-END (or START-)', { range: header.slice(0, 64), shardSize: size })
  const start = Number(m[1])
  const end = m[2] === '' ? size : Number(m[2]) + 1
  if (start >= end || end > size) throw new ShardHttpError('BAD_RANGE', `range ${start}-${end - 1} is outside a shard of ${size} bytes`, { range: header.slice(0, 64), shardSize: size })
  return { start, end }
}

/**
 * A host's shard windows over plain HTTP (no transport security needed: a reader checks every
 * window against the asset's manifest, proven against a finalized header, and private blobs are
 * ciphertext). Streams the store's pieces with backpressure, never a whole shard. Defences: a
 * range cap, a per-IP cap on requests in flight and on bytes per second, header/request/idle
 * timeouts (slowloris), typed 4xx JSON errors for bad paths, ids and ranges, and only shards the
 * chain still places on this host (`source.servable`).
 */
export async function startShardHttpServer(source: ShardHttpSource, listen: { host: string; port: number }, limitsIn: Partial<ShardHttpLimits> = {}): Promise<ShardHttpServer> {
  const limits = { ...DEFAULT_SHARD_HTTP_LIMITS, ...limitsIn }
  const ips = new Map<string, IpState>()
  let inFlight = 0
  const burst = limits.bytesPerSecondPerIp

  /** Waits until `ip` may be sent `n` more bytes (its bucket may go negative by one piece: pieces are ≤ 256 KiB). */
  async function takeTokens(state: IpState, n: number): Promise<void> {
    const now = performance.now()
    state.tokens = Math.min(burst, state.tokens + ((now - state.refilledAt) * limits.bytesPerSecondPerIp) / 1000)
    state.refilledAt = now
    state.tokens -= n
    if (state.tokens < 0) await new Promise((r) => setTimeout(r, Math.ceil((-state.tokens * 1000) / limits.bytesPerSecondPerIp)))
  }

  async function write(res: ServerResponse, piece: Uint8Array): Promise<boolean> {
    if (res.destroyed) return false
    if (res.write(piece)) return true
    return new Promise((resolve) => {
      const done = (ok: boolean) => (): void => {
        clearTimeout(timer)
        res.off('drain', onDrain)
        res.off('close', onClose)
        resolve(ok)
      }
      const onDrain = done(true)
      const onClose = done(false)
      // A reader that stops taking bytes holds a slot and the pieces: cut it.
      const timer = setTimeout(() => {
        res.destroy()
        onClose()
      }, limits.idleResponseMs)
      res.once('drain', onDrain)
      res.once('close', onClose)
    })
  }

  async function serve(req: IncomingMessage, res: ServerResponse, state: IpState): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ShardHttpError('METHOD_NOT_ALLOWED', `${String(req.method).slice(0, 16)} is not served; use GET`, { method: String(req.method).slice(0, 16) })
    const path = (req.url ?? '').split('?')[0]!
    const m = SHARD_PATH.exec(path)
    if (m === null) throw new ShardHttpError('BAD_PATH', 'paths are /shards/<asset id: 64 hex digits>/<shard index>[/roots]', { path: path.slice(0, 128) })
    const asset = fromHex(`0x${m[1]!}`, 32)
    const shardIndex = Number(m[2])
    const size = shardIndex < 256 ? await source.servable(asset, shardIndex) : undefined
    if (size === undefined) throw new ShardHttpError('NOT_FOUND', `shard ${shardIndex} of ${toHex(asset)} is not served here`, { asset: toHex(asset), shardIndex })
    if (m[3] !== undefined) {
      const roots = await source.pageRoots(asset, shardIndex)
      if (roots === undefined) throw new ShardHttpError('NOT_FOUND', `shard ${shardIndex} of ${toHex(asset)} is not served here`, { asset: toHex(asset), shardIndex })
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': roots.length })
      res.end(req.method === 'HEAD' ? undefined : roots)
      return
    }
    const { start, end } = parseShardRange(req.headers.range, size)
    if (end - start > limits.maxRangeBytes) throw new ShardHttpError('RANGE_TOO_LARGE', `a request may ask at most ${limits.maxRangeBytes} bytes (asked ${end - start}); use Range`, { length: end - start, max: limits.maxRangeBytes })
    const headers = { 'content-type': 'application/octet-stream', 'content-length': end - start, 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end - 1}/${size}` }
    if (req.method === 'HEAD') {
      res.writeHead(req.headers.range === undefined ? 200 : 206, headers)
      res.end()
      return
    }
    // Read and sent a step at a time: a request holds ~1 MiB of store pieces plus what the socket queued, not its range.
    let pieces = await source.readRange(asset, shardIndex, start, Math.min(STEP_BYTES, end - start))
    res.writeHead(req.headers.range === undefined ? 200 : 206, headers)
    for (let at = start; ;) {
      for (const piece of pieces) {
        await takeTokens(state, piece.length)
        if (!(await write(res, piece))) return
      }
      at += Math.min(STEP_BYTES, end - at)
      if (at >= end) break
      pieces = await source.readRange(asset, shardIndex, at, Math.min(STEP_BYTES, end - at))
    }
    res.end()
  }

  const server: Server = createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs, connectionsCheckingInterval: computeConnectionsCheckingInterval(limits.headersTimeoutMs) }, (req, res) => {
    req.resume()
    const ip = req.socket.remoteAddress ?? '?'
    let state = ips.get(ip)
    if (state === undefined) {
      state = { inFlight: 0, tokens: burst, refilledAt: performance.now() }
      ips.set(ip, state)
    }
    if (inFlight >= limits.maxConcurrent) {
      sendError(res, new ShardHttpError('BUSY', `at most ${limits.maxConcurrent} requests in flight; retry shortly`, { limit: limits.maxConcurrent }))
      return
    }
    if (state.inFlight >= limits.maxConcurrentPerIp) {
      sendError(res, new ShardHttpError('TOO_MANY_REQUESTS', `at most ${limits.maxConcurrentPerIp} requests in flight per address`, { limit: limits.maxConcurrentPerIp }))
      return
    }
    state.inFlight++
    inFlight++
    const s = state
    serve(req, res, s)
      .catch((err: unknown) => sendError(res, err instanceof ShardHttpError ? err : new ShardHttpError('INTERNAL', 'the shard could not be read')))
      .finally(() => {
        inFlight--
        s.inFlight--
        // Forget idle addresses with a full bucket (nothing to remember), so the map stays small.
        if (s.inFlight === 0 && ips.size > 1024) ips.delete(ip)
      })
  })
  server.listen({ host: listen.host, port: listen.port })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * The URL readers are told: the bound address, or, for a server on all interfaces (0.0.0.0, ::),
 * the IP of the node's first announced multiaddr (/ip4/… or /ip6/…) with the bound port.
 */
export function advertisedShardHttpUrl(server: ShardHttpServer, multiaddr: string | undefined): string | undefined {
  const bound = new URL(server.url).hostname
  if (bound !== '0.0.0.0' && bound !== '[::]') return server.url
  const m = /^\/(ip4|ip6)\/([^/]+)\//.exec(multiaddr ?? '')
  if (m === null) return undefined
  return m[1] === 'ip6' ? `http://[${m[2]!}]:${server.port}` : `http://${m[2]!}:${server.port}`
}
