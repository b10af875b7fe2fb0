import { WireError } from '../rpc/errors.ts'
import { type MethodName, type MethodParams, type MethodResult, METHODS } from '../rpc/methods.ts'
import { type Json, type Wire } from '../rpc/wire.ts'
import { RpcClientError } from './errors.ts'
import type { Transport } from './transports/transport.ts'

export interface Client {
  readonly transport: Transport
  /** Typed call of any method in the table: domain values in, domain values out. */
  request<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>
  close(): Promise<void>
}

export interface ClientConfig { transport: Transport }

/** A client over a transport; actions (`getBalance(client, …)`) take it as first argument. */
export function createClient(config: ClientConfig): Client {
  const { transport } = config
  return {
    transport,
    request: async (method, params) => {
      const def = METHODS[method] as unknown as { params: { wire: Wire<unknown> }[]; result: { wire: Wire<unknown> } }
      const values = params as unknown[]
      const json: Json[] = def.params.map((p, i) => p.wire.toJson(values[i]))
      while (json.length > 0 && json[json.length - 1] === null) json.pop()
      const raw = await transport.request(method, json)
      try {
        return def.result.wire.fromJson(raw, 'result') as MethodResult<typeof method>
      } catch (err) {
        if (err instanceof WireError) throw new RpcClientError('BAD_RESPONSE', `${method}: unexpected result (${err.message})`, err.details, { cause: err })
        throw err
      }
    },
    close: () => transport.close(),
  }
}
