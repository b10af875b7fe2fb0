import type { Json } from '../../rpc/wire.ts'

/** How a client reaches a node. Params and results are wire JSON; formatting happens in createClient. */
export interface Transport {
  readonly type: 'http' | 'webSocket'
  /** HTTP base URL of the node (for PUT /blob); for a WebSocket transport, derived from its URL. */
  readonly url: string
  request(method: string, params: Json[]): Promise<Json>
  /** Only on WebSocket transports. */
  subscribe?(spec: SubscriptionSpec): SubscriptionHandle
  close(): Promise<void>
}

export interface SubscriptionSpec {
  /** Called at every (re)subscribe: lets the caller resume from what it already saw. */
  params(): Json[]
  onResult(result: Json): void
  onError(error: Error): void
}

export interface SubscriptionHandle {
  unsubscribe(): Promise<void>
}
