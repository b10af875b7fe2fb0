import type { Json } from '../../rpc/wire.ts'
import type { RpcClientError } from '../errors.ts'

/** How a client reaches a node. Params and results are wire JSON; formatting happens in createClient. */
export interface Transport {
  readonly type: 'http' | 'webSocket'
  /** HTTP base URL of the node (for PUT /blob); for a WebSocket transport, derived from its URL. */
  readonly url: string
  request(method: string, params: Json[]): Promise<Json>
  /**
   * Several calls in one round trip (a JSON-RPC batch), answered in order, each with its own
   * result or typed error; rejects only when the batch as a whole failed (transport, a refused
   * batch). HTTP: one POST per batch; WebSocket: one message per batch.
   */
  requestBatch?(calls: readonly BatchCall[]): Promise<BatchAnswer<Json>[]>
  /** Only on WebSocket transports. */
  subscribe?(spec: SubscriptionSpec): SubscriptionHandle
  close(): Promise<void>
}

export interface BatchCall { method: string; params: Json[] }
/** One call's outcome in a batch. */
export type BatchAnswer<T> = { ok: true; value: T } | { ok: false; error: RpcClientError }

export interface SubscriptionSpec {
  /** Called at every (re)subscribe: lets the caller resume from what it already saw. */
  params(): Json[]
  onResult(result: Json): void
  onError(error: Error): void
}

export interface SubscriptionHandle {
  unsubscribe(): Promise<void>
}
