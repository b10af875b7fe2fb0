import type { Json } from '../../rpc/wire.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'
import type { Transport } from './transport.ts'

export interface HttpTransportOpts {
  timeoutMs?: number
}

/** JSON-RPC over HTTP POST (fetch keeps connections alive). */
export function http(url: string, opts: HttpTransportOpts = {}): Transport {
  const timeoutMs = opts.timeoutMs ?? 30_000
  let nextId = 1
  return {
    type: 'http',
    url: url.replace(/\/+$/, ''),
    request: async (method, params) => {
      const id = nextId++
      let res: Response
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (cause) {
        const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
        throw new RpcClientError(timedOut ? 'TIMEOUT' : 'TRANSPORT_FAILED', `${method}: ${timedOut ? 'timed out' : 'request failed'} (${url})`, { url }, { cause })
      }
      let body: unknown
      try {
        body = await res.json()
      } catch (cause) {
        throw new RpcClientError('BAD_RESPONSE', `${method}: HTTP ${res.status} without a JSON body`, { status: res.status }, { cause })
      }
      return unwrapResponse(method, body)
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
