import { txId } from '../../blocks/ids.ts'
import { COMPLETION_STATUS, type Hash } from '../../blocks/schema.ts'
import type { ReputationEvent } from '../state/records.ts'
import { isEventMatch, RpcBackendError, type EventFilter, type RpcEvent, type RpcEventSource, type StoredBlock } from './backend.ts'

/**
 * Ready-made parts for a node's `RpcBackend.events`:
 * - `computeBlockEvents(block)` derives a block's events from the block alone (new head,
 *   execution stages, host joins/updates/leaves and reputation changes);
 * - `createEventHub()` is an `RpcEventSource` that numbers events per height, fans them out to
 *   listeners and keeps the last `historyBlocks` blocks of them for `replay`.
 * A node calls `hub.publish(computeBlockEvents(stored))` after storing each block,
 * `hub.publish([{ topic: 'finalizedHeads', … }])` when finality advances, and at start-up
 * publishes the last blocks again so replays reach back across a restart.
 */

/** An event before the hub numbers it. */
export type UnnumberedEvent = RpcEvent extends infer E ? (E extends RpcEvent ? Omit<E, 'index'> : never) : never

export function computeBlockEvents(stored: StoredBlock): UnnumberedEvent[] {
  const { header, entries } = stored.block
  const height = header.height
  const out: UnnumberedEvent[] = [{ topic: 'newHeads', height, hash: stored.hash, header }]
  const reputation = (changes: { host: Hash; before: number; after: number; cause: number }[], subject: Hash): void => {
    for (const c of changes) {
      const event: ReputationEvent = { height, cause: c.cause, before: c.before, after: c.after, subject }
      out.push({ topic: 'hostEvents', height, host: c.host, kind: 'reputation', reputation: event })
    }
  }
  for (const entry of entries) {
    switch (entry.type) {
      case 'tx': {
        const p = entry.tx.body.payload
        const kind = p.type === 'host.join' ? 'joined' : p.type === 'host.update' ? 'updated' : p.type === 'host.leave' ? 'left' : undefined
        if (kind !== undefined) out.push({ topic: 'hostEvents', height, host: entry.tx.body.from, kind, reputation: undefined })
        break
      }
      case 'execution':
        out.push({ topic: 'execution', height, executionId: txId(entry.tx), stage: 'scheduled', host: undefined })
        break
      case 'completion':
        for (const r of entry.receipts) out.push({ topic: 'execution', height, executionId: entry.executionId, stage: 'receipt', host: r.body.host })
        out.push({ topic: 'execution', height, executionId: entry.executionId, stage: entry.status === COMPLETION_STATUS.agreed ? 'completed' : 'failed', host: undefined })
        reputation(entry.reputation, entry.executionId)
        break
      case 'audit':
        reputation(entry.reputation, stored.hash)
        break
      default:
        break
    }
  }
  return out
}

export interface EventHub extends RpcEventSource {
  /** Numbers the events ((height, index), index counting per height) and delivers them. Heights must not go back except for finalizedHeads. */
  publish(events: UnnumberedEvent[]): void
}

export function createEventHub(opts: { historyBlocks?: number } = {}): EventHub {
  const historyBlocks = opts.historyBlocks ?? 10_000
  const listeners = new Set<(e: RpcEvent) => void>()
  const history: RpcEvent[] = []
  const nextIndex = new Map<number, number>()
  let top = -1
  let oldest = 0
  let start = 0

  const prune = (): void => {
    const floor = top - historyBlocks
    if (floor <= oldest) return
    oldest = floor
    while (start < history.length && history[start]!.height < floor) start++
    if (start > 4096 && start * 2 > history.length) {
      history.splice(0, start)
      start = 0
    }
    for (const h of nextIndex.keys()) if (h < floor) nextIndex.delete(h)
  }

  return {
    publish: (events) => {
      for (const u of events) {
        const index = nextIndex.get(u.height) ?? 0
        nextIndex.set(u.height, index + 1)
        const e = { ...u, index } as RpcEvent
        if (e.height > top) top = e.height
        history.push(e)
        for (const l of listeners) l(e)
      }
      prune()
    },
    listen: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    replay: async (filter: EventFilter, fromHeight: number) => {
      if (fromHeight < oldest) throw new RpcBackendError('HISTORY_UNAVAILABLE', `events before height ${oldest} are no longer held`, { oldest })
      const out: RpcEvent[] = []
      for (let i = start; i < history.length; i++) {
        const e = history[i]!
        if (e.height >= fromHeight && isEventMatch(filter, e)) out.push(e)
      }
      return out
    },
  }
}
