import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

import { type Logger, pino } from 'pino'
import { type WebSocket, WebSocketServer } from 'ws'

import { toHex } from '../crypto/bytes.ts'
import { type AssetSource, createAssetRoute, isAssetPath } from './assetRoute.ts'
import { type EventFilter, isEventMatch, type RpcBackend, type RpcEvent } from './backend.ts'
import { createBlobPutRoute } from './blobPutRoute.ts'
import { type DispatchOpts, dispatchRpcText, errorText, type TakeTokens } from './dispatch.ts'
import { RpcError, toRpcErrorObject } from './errors.ts'
import { RpcEvent as RpcEventWire, toEventView } from './formats.ts'
import { isProbePath, type ReadinessOpts, serveProbe } from './healthProbes.ts'
import { computeConnectionsCheckingInterval } from './httpServerTimeouts.ts'
import type { SubscriptionHost } from './methods.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { createBodyReader } from './readRequestBody.ts'
import { createTokenTaker } from './tokenBucket.ts'

/**
 * JSON-RPC 2.0 over HTTP POST and WebSocket on one port, plus `PUT /blob` (raw bytes → data
 * hash), `GET /metrics` (Prometheus) and, when given `staticFiles`, GET of a fixed table of files
 * (the explorer). Limits are per connection; every refusal is a JSON-RPC
 * error object; handler failures never reach the socket as anything but -32603 without details.
 */
export interface RpcServerOpts {
  /** Interface to bind; 127.0.0.1 unless told otherwise. */
  host: string
  /** 0 picks a free port. */
  port: number
  maxBodyBytes: number
  maxBlobBytes: number
  maxBatch: number
  /** Token bucket per connection (HTTP keep-alive socket or WebSocket): calls per second and burst. */
  ratePerSecond: number
  rateBurst: number
  maxSubscriptions: number
  /** Oldest replay allowed, in blocks below the head. */
  maxReplayBlocks: number
  /** Live events buffered per subscription while its replay runs. */
  maxPendingEvents: number
  callTimeoutMs: number
  /** Whole-request deadline on HTTP (slow senders). */
  requestTimeoutMs: number
  /**
   * How long an idle HTTP keep-alive connection stays open. It must outlast the clients' own idle timeout, so that the
   * client always closes first: a server that closes while a client reuses the socket cuts that request
   * (ECONNRESET). fetch follows the server's `Keep-Alive: timeout` hint (minus 2 s); clients that ignore it keep their
   * own idle timeout (Go's net/http 90 s). node:http's default is 5 s. At `maxConnections`, idle sockets are closed to
   * make room.
   */
  idleTimeoutMs: number
  /** WebSocket connections whose unsent data exceeds this are closed (slow consumers). */
  maxWsBufferedBytes: number
  /** Request bodies (JSON and blobs) held in memory at once, over all connections; past it, 503 UNAVAILABLE. */
  maxBufferedBytes: number
  /** WebSocket messages being processed at once per socket; more are answered RATE_LIMITED. */
  maxInFlightPerSocket: number
  /** Open TCP connections (HTTP and WebSocket) beyond which new ones are refused. */
  maxConnections: number
  /** Origins allowed by CORS; empty = CORS off (no Access-Control headers). '*' allows any. */
  corsOrigins: string[]
  /** What GET /ready requires (healthProbes.ts). */
  readiness?: Partial<ReadinessOpts>
}

export const DEFAULT_RPC_OPTS: RpcServerOpts = {
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 4 * 1024 * 1024,
  // Uploads stream to disk: a 4 GiB blob plus its encryption header and tags (16 bytes per MiB).
  maxBlobBytes: 4 * 1024 * 1024 * 1024 + 1024 * 1024,
  maxBatch: 100,
  ratePerSecond: 2000,
  rateBurst: 4000,
  maxSubscriptions: 32,
  maxReplayBlocks: 10_000,
  maxPendingEvents: 10_000,
  callTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // geth's HTTP IdleTimeout.
  idleTimeoutMs: 120_000,
  maxWsBufferedBytes: 16 * 1024 * 1024,
  maxConnections: 1024,
  maxInFlightPerSocket: 256,
  maxBufferedBytes: 320 * 1024 * 1024,
  corsOrigins: [],
}

/** A file the server sends on GET/HEAD (the explorer's pages and scripts). */
export interface StaticFile { body: Buffer; contentType: string; etag: string; cacheControl: string; headers?: Record<string, string> }
/** Looks a request path up in a fixed table: an exact match on the raw path, never a file system path. */
export type StaticRoute = (path: string) => StaticFile | undefined

export interface RpcServerModules {
  backend: RpcBackend
  metrics?: Metrics
  log?: Logger
  /** Static files served on GET (e.g. src/explorer/explorerRoute.ts). */
  staticFiles?: StaticRoute
  /** Stored assets served on GET /assets/<id> (src/rpc/assetRoute.ts). */
  assets?: AssetSource
}

/**
 * True when a WebSocket's Origin is the page this very server served (`http://<Host>`), and the
 * Host is an IP literal or localhost: a DNS-rebinding page has a name of its own in both Origin
 * and Host, so names other than localhost are never trusted this way (list them in corsOrigins).
 */
export function isSameOriginLocal(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin !== `http://${host}`) return false
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')
  return name === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || /^\[[0-9a-fA-F:.]+\]$/.test(name)
}

export interface RpcServer {
  readonly url: string
  readonly wsUrl: string
  readonly port: number
  readonly metrics: Metrics
  close(): Promise<void>
}

interface Subscription {
  id: string
  filter: EventFilter
  conn: WsConn
  /** Live events held back until the replay (or the subscribe response) has gone out. */
  pending: RpcEvent[] | undefined
  fromHeight: number | undefined
}

function isAfter(a: RpcEvent, b: RpcEvent): boolean {
  return a.height > b.height || (a.height === b.height && a.index > b.index)
}

interface WsConn { ws: WebSocket; subs: Map<string, Subscription>; toStart: Subscription[]; alive: boolean }

export async function startRpcServer(partial: Partial<RpcServerOpts>, modules: RpcServerModules): Promise<RpcServer> {
  const opts: RpcServerOpts = { ...DEFAULT_RPC_OPTS, ...partial }
  const { backend } = modules
  const metrics = modules.metrics ?? createMetrics()
  const log = modules.log ?? pino({ level: 'silent' })
  const dispatchOpts: DispatchOpts = { maxBatch: opts.maxBatch, callTimeoutMs: opts.callTimeoutMs }
  const mods = { backend, metrics: metrics.rpc, log }
  const buckets = new WeakMap<Socket, TakeTokens>()
  const takerFor = (socket: Socket): TakeTokens => {
    let t = buckets.get(socket)
    if (t === undefined) {
      t = createTokenTaker(opts.ratePerSecond, opts.rateBurst)
      buckets.set(socket, t)
    }
    return t
  }
  const httpCtx = { subscriptions: undefined }

  // ---------- HTTP ----------

  const cors = (req: IncomingMessage, res: ServerResponse): void => {
    if (opts.corsOrigins.length === 0) return
    const origin = req.headers.origin
    if (opts.corsOrigins.includes('*')) res.setHeader('access-control-allow-origin', '*')
    else if (origin !== undefined && opts.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin)
      res.setHeader('vary', 'origin')
    } else return
    res.setHeader('access-control-allow-methods', 'POST, PUT, GET, OPTIONS')
    res.setHeader('access-control-allow-headers', 'content-type')
    res.setHeader('access-control-max-age', '600')
  }

  const send = (res: ServerResponse, status: number, body: string | undefined, type = 'application/json'): void => {
    if (res.headersSent || res.destroyed) return
    if (body === undefined) {
      res.writeHead(status === 200 ? 204 : status)
      res.end()
      return
    }
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  const busyError = (): RpcError => new RpcError('UNAVAILABLE', 'Server busy: too many request bodies in memory; retry shortly')

  const readBody = createBodyReader(opts)
  const handleBlobPut = createBlobPutRoute({ backend, opts, metrics: metrics.rpc, log, takerFor, send })

  const handleRpcPost = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, opts.maxBodyBytes)
    if (body === 'aborted') return
    if (body === 'tooLarge' || body === 'busy') {
      takerFor(req.socket)(1)
      const err = body === 'busy' ? busyError() : new RpcError('REQUEST_TOO_LARGE', `Body exceeds ${opts.maxBodyBytes} bytes`, { max: opts.maxBodyBytes })
      metrics.rpc.requests.inc({ method: body === 'busy' ? 'busy' : 'oversized', code: String(err.toObject().code) })
      send(res, body === 'busy' ? 503 : 413, errorText(null, err.toObject()))
      return
    }
    const out = await dispatchRpcText(body.toString('utf8'), httpCtx, takerFor(req.socket), dispatchOpts, mods)
    send(res, 200, out)
  }

  const sendStatic = (req: IncomingMessage, res: ServerResponse, file: StaticFile): void => {
    req.resume()
    const headers: Record<string, string | number> = { etag: file.etag, 'cache-control': file.cacheControl, 'x-content-type-options': 'nosniff', ...file.headers }
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    res.writeHead(200, { ...headers, 'content-type': file.contentType, 'content-length': file.body.length })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  }

  const serveAsset = modules.assets === undefined ? undefined : createAssetRoute(modules.assets)
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    cors(req, res)
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'POST' && (path === '/' || path === '/rpc')) return handleRpcPost(req, res)
    if (req.method === 'PUT' && path === '/blob') return handleBlobPut(req, res)
    if (req.method === 'GET' && isProbePath(path)) return serveProbe(path, res, backend, opts.readiness)
    if ((req.method === 'GET' || req.method === 'HEAD') && serveAsset !== undefined && path !== undefined && isAssetPath(path)) return serveAsset(req, res, path)
    if (req.method === 'GET' && path === '/metrics') {
      send(res, 200, await metrics.registry.metrics(), metrics.registry.contentType)
      return
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && modules.staticFiles !== undefined) {
      const file = modules.staticFiles(path ?? '/')
      if (file !== undefined) return sendStatic(req, res, file)
      req.resume()
      send(res, 404, errorText(null, new RpcError('INVALID_REQUEST', 'Not found').toObject()))
      return
    }
    if (req.method === 'OPTIONS') {
      send(res, opts.corsOrigins.length === 0 ? 405 : 204, undefined)
      return
    }
    req.resume()
    send(res, 405, errorText(null, new RpcError('INVALID_REQUEST', 'Use POST / (JSON-RPC), PUT /blob, GET /metrics, GET / (explorer) or a WebSocket upgrade').toObject()))
  }

  // requestTimeout 0: node's whole-request deadline would cut a 4 GiB upload; readBody and the
  // blob route set their own (a JSON body within requestTimeoutMs, a blob by its size).
  const headersTimeout = Math.min(opts.requestTimeoutMs, 10_000)
  const connectionsCheckingInterval = computeConnectionsCheckingInterval(headersTimeout)
  const server: Server = createServer({ requestTimeout: 0, headersTimeout, connectionsCheckingInterval, keepAliveTimeout: opts.idleTimeoutMs }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'rpc http handler failed')
      send(res, 500, errorText(null, { code: -32603, message: 'Internal error' }))
    })
  })
  server.maxConnections = opts.maxConnections
  // At the cap a new connection is dropped; idle keep-alive sockets (kept for minutes: idleTimeoutMs) then give way, so
  // the next one gets in instead of waiting for them to time out.
  server.on('drop', () => server.closeIdleConnections())
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    else socket.destroy()
  })

  // ---------- WebSocket ----------

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxBodyBytes })
  const conns = new Set<WsConn>()

  const sendWs = (conn: WsConn, text: string): void => {
    if (conn.ws.readyState !== conn.ws.OPEN) return
    if (conn.ws.bufferedAmount > opts.maxWsBufferedBytes) {
      conn.ws.close(1013, 'slow consumer')
      return
    }
    conn.ws.send(text)
  }

  // One event goes to many subscribers: format it once.
  const eventJson = new WeakMap<RpcEvent, string>()
  const notification = (sub: Subscription, e: RpcEvent): string => {
    let json = eventJson.get(e)
    if (json === undefined) {
      json = JSON.stringify(RpcEventWire.toJson(toEventView(e)))
      eventJson.set(e, json)
    }
    return `{"jsonrpc":"2.0","method":"xsc_subscription","params":{"subscription":"${sub.id}","result":${json}}}`
  }

  const dropSub = (sub: Subscription, error: unknown): void => {
    sub.conn.subs.delete(sub.id)
    sendWs(sub.conn, `{"jsonrpc":"2.0","method":"xsc_subscription","params":{"subscription":"${sub.id}","error":${JSON.stringify(toRpcErrorObject(error))}}}`)
  }

  const unlisten = backend.events.listen((e) => {
    try {
      deliver(e)
    } catch (err) {
      // Never throw into the node's event loop.
      log.error({ err }, 'event delivery failed')
    }
  })

  function deliver(e: RpcEvent): void {
    for (const conn of conns) {
      for (const sub of conn.subs.values()) {
        if (!isEventMatch(sub.filter, e)) continue
        if (sub.pending !== undefined) {
          if (sub.pending.length >= opts.maxPendingEvents) dropSub(sub, new RpcError('HISTORY_UNAVAILABLE', 'Too many events while replaying; resubscribe from a newer height'))
          else sub.pending.push(e)
        } else sendWs(conn, notification(sub, e))
      }
    }
  }

  /** After the subscribe response went out: replay, then the held live events past the last replayed one, then live. */
  const startSub = async (sub: Subscription): Promise<void> => {
    try {
      let last: RpcEvent | undefined
      if (sub.fromHeight !== undefined) {
        const replay = await backend.events.replay(sub.filter, sub.fromHeight)
        for (const e of replay) if (sub.conn.subs.has(sub.id)) sendWs(sub.conn, notification(sub, e))
        last = replay[replay.length - 1]
      }
      const held = sub.pending ?? []
      sub.pending = undefined
      if (!sub.conn.subs.has(sub.id)) return
      for (const e of held) if (last === undefined || isAfter(e, last)) sendWs(sub.conn, notification(sub, e))
    } catch (err) {
      log.warn({ err }, 'subscription replay failed')
      dropSub(sub, err)
    }
  }

  const subscriptionHost = (conn: WsConn): SubscriptionHost => ({
    subscribe: async (filter, fromHeight) => {
      if (conn.subs.size >= opts.maxSubscriptions) throw new RpcError('TOO_MANY_SUBSCRIPTIONS', `At most ${opts.maxSubscriptions} subscriptions per connection`, { max: opts.maxSubscriptions })
      if (fromHeight !== undefined) {
        const head = (await backend.chainStatus()).head.height
        if (fromHeight + opts.maxReplayBlocks < head) throw new RpcError('HISTORY_UNAVAILABLE', `fromHeight ${fromHeight} is more than ${opts.maxReplayBlocks} blocks below the head ${head}`, { oldest: head - opts.maxReplayBlocks })
      }
      const sub: Subscription = { id: toHex(randomBytes(8)), filter, conn, pending: [], fromHeight }
      conn.subs.set(sub.id, sub)
      conn.toStart.push(sub)
      return sub.id
    },
    unsubscribe: (id) => conn.subs.delete(id),
  })

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const conn: WsConn = { ws, subs: new Map(), toStart: [], alive: true }
    conns.add(conn)
    const takeRate = takerFor(req.socket)
    // Calls still running on this socket; past the cap new ones are refused like rate-limited ones.
    let inFlight = 0
    const take: TakeTokens = (n) => inFlight <= opts.maxInFlightPerSocket && takeRate(n)
    const ctx = { subscriptions: subscriptionHost(conn) }
    ws.on('pong', () => {
      conn.alive = true
    })
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')
      inFlight++
      dispatchRpcText(text, ctx, take, dispatchOpts, mods)
        .finally(() => inFlight--)
        .then((out) => {
          if (out !== undefined) sendWs(conn, out)
          const starts = conn.toStart.splice(0)
          for (const sub of starts) void startSub(sub)
        })
        .catch((err: unknown) => log.error({ err }, 'rpc ws dispatch failed'))
    })
    ws.on('error', (err) => log.debug({ err }, 'ws error'))
    ws.on('close', () => {
      conn.subs.clear()
      conns.delete(conn)
    })
  })

  const heartbeat = setInterval(() => {
    for (const conn of conns) {
      if (!conn.alive) {
        conn.ws.terminate()
        continue
      }
      conn.alive = false
      conn.ws.ping()
    }
  }, 30_000)
  heartbeat.unref()

  server.on('upgrade', (req, socket, head) => {
    // Browsers always send Origin and cannot be stopped by CORS on a WebSocket: a page the user
    // visits could otherwise drive the local node. Only the configured origins may connect.
    const origin = req.headers.origin
    if (origin !== undefined && !opts.corsOrigins.includes('*') && !opts.corsOrigins.includes(origin) && !isSameOriginLocal(origin, req.headers.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  log.info({ host: opts.host, port }, 'rpc listening')

  return {
    url: `http://${hostForUrl}:${port}`,
    wsUrl: `ws://${hostForUrl}:${port}`,
    port,
    metrics,
    close: async () => {
      clearInterval(heartbeat)
      unlisten()
      for (const conn of conns) conn.ws.terminate()
      conns.clear()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
