import { WireError } from '../rpc/errors.ts'
import { type MethodName, type MethodParams, type MethodResult, METHODS } from '../rpc/methods.ts'
import { type Json, type Wire } from '../rpc/wire.ts'
import { RpcClientError } from './errors.ts'
import type { BatchAnswer, Transport } from './transports/transport.ts'

export interface Client {
  readonly transport: Transport
  /** Typed call of any method in the table: domain values in, domain values out. */
  request<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>
  /**
   * Calls of one method in one round trip (a JSON-RPC batch: a POST on HTTP, a message on a
   * WebSocket; one call after another on transports without batches), answered in order, each with its own result or typed error.
   * Rejects only when the batch as a whole failed (transport, refused batch).
   */
  requestBatch<M extends MethodName>(method: M, params: readonly MethodParams<M>[]): Promise<BatchAnswer<MethodResult<M>>[]>
  close(): Promise<void>
}

export interface ClientConfig { transport: Transport }

type MethodDef = { params: { wire: Wire<unknown> }[]; result: { wire: Wire<unknown> } }

function paramsJson(def: MethodDef, params: unknown): Json[] {
  const values = params as unknown[]
  const json: Json[] = def.params.map((p, i) => p.wire.toJson(values[i]))
  while (json.length > 0 && json[json.length - 1] === null) json.pop()
  return json
}

function resultOf<M extends MethodName>(def: MethodDef, method: M, raw: Json): MethodResult<M> {
  try {
    return def.result.wire.fromJson(raw, 'result') as MethodResult<M>
  } catch (err) {
    if (err instanceof WireError) throw new RpcClientError('BAD_RESPONSE', `${method}: unexpected result (${err.message})`, err.details, { cause: err })
    throw err
  }
}

/** A client over a transport; actions (`getBalance(client, …)`) take it as first argument. */
export function createClient(config: ClientConfig): Client {
  const { transport } = config
  const defOf = (method: MethodName): MethodDef => METHODS[method] as unknown as MethodDef
  return {
    transport,
    request: async (method, params) => {
      const def = defOf(method)
      return resultOf(def, method, await transport.request(method, paramsJson(def, params)))
    },
    requestBatch: async <M extends MethodName>(method: M, list: readonly MethodParams<M>[]): Promise<BatchAnswer<MethodResult<M>>[]> => {
      const def = defOf(method)
      const calls = list.map((params) => ({ method, params: paramsJson(def, params) }))
      const answers = transport.requestBatch !== undefined
        ? await transport.requestBatch(calls)
        : await sequentially(calls.map((c) => () => transport.request(c.method, c.params)))
      return answers.map((a): BatchAnswer<MethodResult<M>> => {
        if (!a.ok) return a
        try {
          return { ok: true, value: resultOf(def, method, a.value) }
        } catch (err) {
          return { ok: false, error: err as RpcClientError }
        }
      })
    },
    close: () => transport.close(),
  }
}

/** Runs the calls one after another (in order, as a node runs a batch), each outcome kept. */
async function sequentially(calls: (() => Promise<Json>)[]): Promise<BatchAnswer<Json>[]> {
  const out: BatchAnswer<Json>[] = []
  for (const call of calls) {
    try {
      out.push({ ok: true, value: await call() })
    } catch (err) {
      if (!(err instanceof RpcClientError)) throw err
      out.push({ ok: false, error: err })
    }
  }
  return out
}
