import type { Json } from '../../rpc/wire.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'
import type { BatchAnswer, BatchCall, Transport } from './transport.ts'

export interface HttpTransportOpts {
  timeoutMs?: number
  /** Most calls one POST of `requestBatch` carries (the node's cap, 100 by default); longer lists go as several POSTs, in order. */
  maxBatch?: number
}

/** The node's default cap on batch entries (docs/rpc.md, Limits). */
export const DEFAULT_MAX_BATCH = 100

/** JSON-RPC over HTTP POST (fetch keeps connections alive). */
export function http(url: string, opts: HttpTransportOpts = {}): Transport {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH
  let nextId = 1
  const post = async (what: string, body: unknown): Promise<unknown> => {
    let res: Response
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
      throw new RpcClientError(timedOut ? 'TIMEOUT' : 'TRANSPORT_FAILED', `${what}: ${timedOut ? 'timed out' : 'request failed'} (${url})`, { url }, { cause })
    }
    try {
      return await res.json()
    } catch (cause) {
      throw new RpcClientError('BAD_RESPONSE', `${what}: HTTP ${res.status} without a JSON body`, { status: res.status }, { cause })
    }
  }
  /** One POST of at most maxBatch calls: each answer matched to its call by id. */
  const postBatch = async (calls: readonly BatchCall[]): Promise<BatchAnswer<Json>[]> => {
    const first = nextId
    nextId += calls.length
    const what = `batch of ${calls.length} (${calls[0]!.method}${calls.length > 1 ? ', ...' : ''})`
    const body = await post(what, calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params })))
    // A batch refused as a whole (too large, rate limited, unparsable) is one error object, not a list.
    if (!Array.isArray(body)) throw unwrapError(what, body)
    const byId = new Map<unknown, unknown>()
    for (const r of body) if (typeof r === 'object' && r !== null) byId.set((r as { id?: unknown }).id, r)
    return calls.map((c, i): BatchAnswer<Json> => {
      const r = byId.get(first + i)
      if (r === undefined) return { ok: false, error: new RpcClientError('BAD_RESPONSE', `${c.method}: no answer in the batch response`) }
      try {
        return { ok: true, value: unwrapResponse(c.method, r) }
      } catch (err) {
        return { ok: false, error: err instanceof RpcClientError ? err : new RpcClientError('BAD_RESPONSE', `${c.method}: ${String(err)}`) }
      }
    })
  }
  return {
    type: 'http',
    url: url.replace(/\/+$/, ''),
    request: async (method, params) => unwrapResponse(method, await post(method, { jsonrpc: '2.0', id: nextId++, method, params })),
    requestBatch: async (calls) => {
      const out: BatchAnswer<Json>[] = []
      for (let i = 0; i < calls.length; i += maxBatch) out.push(...(await postBatch(calls.slice(i, i + maxBatch))))
      return out
    },
    close: async () => {},
  }
}

export function unwrapResponse(method: string, body: unknown): Json {
  if (typeof body !== 'object' || body === null) throw new RpcClientError('BAD_RESPONSE', `${method}: response is not an object`)
  const r = body as { result?: Json; error?: unknown }
  if (r.error !== undefined) throw fromRpcErrorObject(r.error)
  if (!Object.hasOwn(r, 'result')) throw new RpcClientError('BAD_RESPONSE', `${method}: response has neither result nor error`)
  return r.result as Json
}

function unwrapError(what: string, body: unknown): RpcClientError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined
  return error === undefined ? new RpcClientError('BAD_RESPONSE', `${what}: response is neither a list nor an error`) : fromRpcErrorObject(error)
}
