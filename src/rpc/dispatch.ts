import type { Logger } from 'pino'

import type { RpcBackend } from './backend.ts'
import { RPC_CODES, RpcError, type RpcErrorObject, toRpcErrorObject } from './errors.ts'
import { type CallContext, findMethod, parseParams } from './methods.ts'
import type { RpcMetrics } from './metrics.ts'

/**
 * Transport-independent JSON-RPC 2.0 processing: one text body in, one text response (or none,
 * for notifications) out. Never throws: every failure becomes an error object.
 */
export interface DispatchOpts {
  maxBatch: number
  callTimeoutMs: number
}

export interface DispatchModules {
  backend: RpcBackend
  metrics: RpcMetrics | undefined
  log: Logger
}

/** Takes `n` call tokens from the connection's budget; false means rate limited. */
export type TakeTokens = (n: number) => boolean

type Id = string | number | null

const MAX_ID_CHARS = 256

export async function dispatchRpcText(text: string, ctx: CallContext, take: TakeTokens, opts: DispatchOpts, mods: DispatchModules): Promise<string | undefined> {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    count(mods, 'parse', RPC_CODES.PARSE_ERROR)
    return errorText(null, new RpcError('PARSE_ERROR', 'Parse error').toObject())
  }
  if (Array.isArray(body)) {
    if (body.length === 0) {
      count(mods, 'batch', RPC_CODES.INVALID_REQUEST)
      return errorText(null, new RpcError('INVALID_REQUEST', 'Empty batch').toObject())
    }
    if (body.length > opts.maxBatch) {
      // Counted against the rate limit too, so oversized batches cannot be used to spin the server.
      take(1)
      count(mods, 'batch', RPC_CODES.BATCH_TOO_LARGE)
      return errorText(null, new RpcError('BATCH_TOO_LARGE', `Batch of ${body.length} exceeds ${opts.maxBatch}`, { max: opts.maxBatch, got: body.length }).toObject())
    }
    // One after the other, in order (as geth runs a batch): a wallet's consecutive nonces in one
    // batch are admitted in nonce order, whatever each admission has to load first.
    const present: string[] = []
    for (const item of body) {
      const part = await dispatchOne(item, ctx, take, opts, mods)
      if (part !== undefined) present.push(part)
    }
    return present.length === 0 ? undefined : `[${present.join(',')}]`
  }
  return dispatchOne(body, ctx, take, opts, mods)
}

function isValidId(id: unknown): id is Id {
  return id === null || (typeof id === 'string' && id.length <= MAX_ID_CHARS) || (typeof id === 'number' && Number.isFinite(id))
}

async function dispatchOne(req: unknown, ctx: CallContext, take: TakeTokens, opts: DispatchOpts, mods: DispatchModules): Promise<string | undefined> {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    take(1)
    count(mods, 'invalid', RPC_CODES.INVALID_REQUEST)
    return errorText(null, new RpcError('INVALID_REQUEST', 'Invalid request: expected an object').toObject())
  }
  const r = req as Record<string, unknown>
  const hasId = Object.hasOwn(r, 'id')
  const idOk = !hasId || isValidId(r.id)
  const id: Id = hasId && idOk ? (r.id as Id) : null
  if (!take(1)) {
    count(mods, 'limited', RPC_CODES.RATE_LIMITED)
    return hasId ? errorText(id, new RpcError('RATE_LIMITED', 'Rate limit exceeded').toObject()) : undefined
  }
  if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || !idOk || (r.params !== undefined && (typeof r.params !== 'object' || r.params === null))) {
    count(mods, 'invalid', RPC_CODES.INVALID_REQUEST)
    return errorText(id, new RpcError('INVALID_REQUEST', 'Invalid request: needs jsonrpc "2.0", a string method, params array/object, id string/number/null').toObject())
  }
  const def = findMethod(r.method)
  const label = def === undefined ? 'unknown' : def.method
  const started = performance.now()
  let out: string
  let code = 0
  try {
    if (def === undefined) throw new RpcError('METHOD_NOT_FOUND', `Method not found: ${r.method.slice(0, 64)}`)
    const params = parseParams(def, r.params)
    const result = await withTimeout(def.call(mods.backend, params, ctx), opts.callTimeoutMs)
    const json = def.result.wire.toJson(result)
    out = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(json)}}`
  } catch (err) {
    const obj = toRpcErrorObject(err)
    if (obj.code === RPC_CODES.INTERNAL_ERROR) mods.log.error({ err, method: label }, 'rpc handler failed')
    code = obj.code
    out = errorText(id, obj)
  }
  count(mods, label, code)
  mods.metrics?.seconds.observe({ method: label }, (performance.now() - started) / 1000)
  return hasId ? out : undefined
}

function count(mods: DispatchModules, method: string, code: number): void {
  mods.metrics?.requests.inc({ method, code: String(code) })
}

export function errorText(id: Id, error: RpcErrorObject): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":${JSON.stringify(error)}}`
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RpcError('TIMEOUT', `Call took longer than ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
