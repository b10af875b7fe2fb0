import WebSocket from 'ws'

import type { Json } from '../../rpc/wire.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'
import { DEFAULT_MAX_BATCH } from './http.ts'
import type { BatchAnswer, BatchCall, SubscriptionHandle, SubscriptionSpec, Transport } from './transport.ts'

export interface WebSocketTransportOpts {
  timeoutMs?: number
  /** First delay before reconnecting after a dropped connection (doubling up to 5 s); subscriptions are then resumed. */
  reconnectDelayMs?: number
  /** Most calls one message of `requestBatch` carries (the node's cap, 100 by default); longer lists go as several, in order. */
  maxBatch?: number
}

type Answer = { id?: unknown; result?: Json; error?: unknown }
/** A call waiting for its answer: `settle` gets the answer object, `reject` a transport failure. */
interface Pending { settle(msg: Answer): void; reject(err: Error): void; timer: NodeJS.Timeout | undefined }
interface ActiveSub { spec: SubscriptionSpec; serverId: string | undefined; active: boolean }

/**
 * JSON-RPC over one WebSocket. When the connection drops, pending calls fail with CLOSED and
 * the transport reconnects and re-subscribes every live subscription with `spec.params()`, so a
 * subscriber that passes its last seen height misses nothing.
 */
export function webSocket(url: string, opts: WebSocketTransportOpts = {}): Transport {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const reconnectDelayMs = opts.reconnectDelayMs ?? 250
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH
  let nextId = 1
  let socket: WebSocket | undefined
  let connecting: Promise<WebSocket> | undefined
  let closed = false
  let reconnectTimer: NodeJS.Timeout | undefined
  const pending = new Map<number, Pending>()
  const subs = new Set<ActiveSub>()

  const answer = (msg: Answer): void => {
    if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') return
    const p = pending.get(msg.id)
    if (p === undefined) return
    pending.delete(msg.id)
    clearTimeout(p.timer)
    p.settle(msg)
  }

  const onMessage = (data: WebSocket.RawData): void => {
    let msg: Answer & { method?: unknown; params?: { subscription?: unknown; result?: Json; error?: unknown } }
    try {
      msg = JSON.parse(data.toString()) as typeof msg
    } catch {
      return
    }
    // A batch's answers come as one array (docs/rpc.md), each matched to its call by id.
    if (Array.isArray(msg)) {
      for (const m of msg as Answer[]) answer(m)
      return
    }
    if (msg.method === 'xsc_subscription' && msg.params !== undefined) {
      for (const sub of subs) {
        if (sub.serverId === undefined || sub.serverId !== msg.params.subscription) continue
        if (msg.params.error !== undefined) {
          subs.delete(sub)
          sub.active = false
          sub.spec.onError(fromRpcErrorObject(msg.params.error))
        } else sub.spec.onResult(msg.params.result ?? null)
      }
      return
    }
    answer(msg)
  }

  const connect = (): Promise<WebSocket> => {
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket)
    if (connecting !== undefined) return connecting
    connecting = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.on('message', onMessage)
      ws.once('open', () => {
        socket = ws
        connecting = undefined
        resolve(ws)
      })
      ws.once('error', (err) => {
        if (socket !== ws) {
          connecting = undefined
          reject(new RpcClientError('TRANSPORT_FAILED', `WebSocket ${url}: ${err.message}`, { url }, { cause: err }))
        }
      })
      ws.once('close', () => {
        if (socket === ws) socket = undefined
        for (const [id, p] of pending) {
          pending.delete(id)
          clearTimeout(p.timer)
          p.reject(new RpcClientError('CLOSED', 'WebSocket closed before the answer came'))
        }
        for (const sub of subs) sub.serverId = undefined
        if (!closed && subs.size > 0) scheduleReconnect()
      })
    })
    return connecting
  }

  // Exponential backoff from reconnectDelayMs, capped at 5 s, reset once connected.
  let attempts = 0
  const scheduleReconnect = (): void => {
    if (reconnectTimer !== undefined || closed) return
    const delay = Math.min(reconnectDelayMs * 2 ** attempts, Math.max(reconnectDelayMs, 5000))
    attempts++
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined
      connect()
        .then(() => {
          attempts = 0
          for (const sub of subs) startSub(sub)
        })
        .catch(() => scheduleReconnect())
    }, delay)
  }

  /** `onSync` runs inside the message handler, before any later frame is processed. */
  const send = async (method: string, params: Json[], onSync?: (result: Json) => void): Promise<Json> => {
    const ws = await connect()
    const id = nextId++
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new RpcClientError('TIMEOUT', `${method}: timed out`))
      }, timeoutMs)
      pending.set(id, {
        settle: (msg) => {
          let r: Json
          try {
            r = unwrap(msg)
          } catch (err) {
            reject(err as Error)
            return
          }
          onSync?.(r)
          resolve(r)
        },
        reject,
        timer,
      })
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  }

  /**
   * At most maxBatch calls as one JSON-RPC batch message: one round trip, run by the node in
   * order. A dropped connection or the timeout fails the whole batch; each call's own error is its answer.
   */
  const sendBatch = async (calls: readonly BatchCall[]): Promise<BatchAnswer<Json>[]> => {
    const ws = await connect()
    const first = nextId
    nextId += calls.length
    const what = `batch of ${calls.length} (${calls[0]!.method}${calls.length > 1 ? ', ...' : ''})`
    return new Promise<BatchAnswer<Json>[]>((resolve, reject) => {
      const out: BatchAnswer<Json>[] = new Array<BatchAnswer<Json>>(calls.length)
      let left = calls.length
      const fail = (err: Error): void => {
        clearTimeout(timer)
        for (let i = 0; i < calls.length; i++) pending.delete(first + i)
        reject(err)
      }
      const timer = setTimeout(() => fail(new RpcClientError('TIMEOUT', `${what}: timed out`)), timeoutMs)
      calls.forEach((c, i) => {
        pending.set(first + i, {
          settle: (msg) => {
            try {
              out[i] = { ok: true, value: unwrap(msg) }
            } catch (err) {
              out[i] = { ok: false, error: err instanceof RpcClientError ? err : new RpcClientError('BAD_RESPONSE', `${c.method}: ${String(err)}`) }
            }
            if (--left === 0) {
              clearTimeout(timer)
              resolve(out)
            }
          },
          reject: fail,
          timer: undefined,
        })
      })
      ws.send(JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params }))))
    })
  }

  const startSub = (sub: ActiveSub): void => {
    send('xsc_subscribe', sub.spec.params(), (r) => {
      if (typeof r === 'string') sub.serverId = r
    }).catch((err: Error) => {
      if (err instanceof RpcClientError && err.code === 'CLOSED') return // the reconnect resubscribes
      subs.delete(sub)
      sub.active = false
      sub.spec.onError(err)
    })
  }

  return {
    type: 'webSocket',
    url: url.replace(/^ws/, 'http').replace(/\/+$/, ''),
    request: (method, params) => send(method, params),
    requestBatch: async (calls) => {
      const out: BatchAnswer<Json>[] = []
      for (let i = 0; i < calls.length; i += maxBatch) out.push(...(await sendBatch(calls.slice(i, i + maxBatch))))
      return out
    },
    subscribe: (spec): SubscriptionHandle => {
      const sub: ActiveSub = { spec, serverId: undefined, active: true }
      subs.add(sub)
      startSub(sub)
      return {
        unsubscribe: async () => {
          subs.delete(sub)
          sub.active = false
          if (sub.serverId !== undefined && socket !== undefined) await send('xsc_unsubscribe', [sub.serverId]).catch(() => false)
        },
      }
    },
    close: async () => {
      closed = true
      clearTimeout(reconnectTimer)
      subs.clear()
      const ws = socket ?? (connecting ? await connecting.catch(() => undefined) : undefined)
      if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          ws.once('close', () => resolve())
          ws.close()
        })
      }
    },
  }
}

function unwrap(msg: Answer): Json {
  if (msg.error !== undefined) throw fromRpcErrorObject(msg.error)
  if (!Object.hasOwn(msg, 'result')) throw new RpcClientError('BAD_RESPONSE', 'response has neither result nor error')
  return msg.result as Json
}
