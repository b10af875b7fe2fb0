import type { EventFilter, RpcEvent } from '../../rpc/backend.ts'
import { Filter, fromEventView, RpcEvent as RpcEventWire } from '../../rpc/formats.ts'
import { type Json, u32 } from '../../rpc/wire.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'

export interface WatchEventsParameters {
  filter: EventFilter
  /** Replay stored events from this height first. */
  fromHeight?: number
  onEvent(event: RpcEvent): void
  onError?(error: Error): void
}
export interface WatchEventsReturnType { unsubscribe(): Promise<void> }

/**
 * Subscribes over a WebSocket transport. After a dropped connection the transport resubscribes
 * from the last height seen, and events at or before the last (height, index) delivered are
 * dropped here: the caller sees every event once, in order.
 */
export function watchEvents(client: Client, p: WatchEventsParameters): WatchEventsReturnType {
  const subscribe = client.transport.subscribe
  if (subscribe === undefined) throw new RpcClientError('TRANSPORT_FAILED', 'watchEvents needs a webSocket transport')
  let last: { height: number; index: number } | undefined
  const subject = p.filter.topic === 'execution' ? p.filter.executionId : p.filter.topic === 'hostEvents' ? p.filter.host : p.filter.topic === 'transaction' ? p.filter.txId : p.filter.topic === 'asset' ? p.filter.asset : undefined
  const filterJson = Filter.toJson({ topic: p.filter.topic, subject })
  return subscribe.call(client.transport, {
    params: (): Json[] => {
      const from = last !== undefined ? last.height : p.fromHeight
      return from === undefined ? [filterJson] : [filterJson, u32.toJson(from)]
    },
    onResult: (json) => {
      let event: RpcEvent
      try {
        event = fromEventView(RpcEventWire.fromJson(json, 'event'))
      } catch (err) {
        p.onError?.(new RpcClientError('BAD_RESPONSE', `bad event: ${(err as Error).message}`))
        return
      }
      if (last !== undefined && (event.height < last.height || (event.height === last.height && event.index <= last.index))) return
      last = { height: event.height, index: event.index }
      p.onEvent(event)
    },
    onError: (err) => p.onError?.(err),
  })
}
