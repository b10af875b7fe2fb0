import type { Address } from '../../blocks/schema.ts'
import type { HostRecord, ReputationEvent } from './records.ts'
import type { StateOverlay } from './stateView.ts'
import { TABLES } from './tables.ts'

export function readHost(state: StateOverlay, address: Address): HostRecord | undefined {
  return state.read(TABLES.host.at(address))
}

/**
 * Reputation history lives in the state (so every validator holds the same, and a host's
 * operator can query why its reputation moved): one row per host, TABLES.reputationHistory, its
 * last `limit` events oldest first (blocks keep every event). One row rather than one per event:
 * a block moving a host's reputation several times rewrites one state-tree leaf per host (the
 * overlay keeps the decoded list), not an insert and a delete per event.
 */
export function recordReputationEvent(state: StateOverlay, host: Address, event: ReputationEvent, limit: number): void {
  const row = TABLES.reputationHistory.at(host)
  const held = state.read(row)?.events ?? []
  // One copy of the list per event (rows are immutable values: the overlay may hold the old one).
  const events = held.slice(Math.max(0, held.length + 1 - Math.max(1, limit)))
  events.push(event)
  state.write(row, { events })
}
