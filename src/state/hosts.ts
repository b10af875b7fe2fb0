import type { Address } from '../../blocks/schema.ts'
import { HostRecord, ReputationEvent } from './records.ts'
import type { StateOverlay } from './stateView.ts'
import { TABLES } from './tables.ts'

export function readHost(state: StateOverlay, address: Address): HostRecord | undefined {
  return state.read(TABLES.host.at(address))
}

/**
 * Reputation history lives in the state (so every validator holds the same, and a host's
 * operator can query why its reputation moved): TABLES.reputationEvent, host ‖ height ‖ index.
 * Records a reputation event and keeps only the host's last `limit` events in state (the oldest
 * leaves; blocks keep every event). The host's log of event keys makes that a direct delete, not a scan.
 */
export function recordReputationEvent(state: StateOverlay, host: Address, event: ReputationEvent, index: number, limit: number): void {
  state.write(TABLES.reputationEvent.at(host, event.height, index), event)
  const log = state.read(TABLES.reputationLog.at(host))?.events ?? []
  const events = [...log, { height: event.height, index }]
  while (events.length > Math.max(1, limit)) {
    const oldest = events.shift()!
    state.write(TABLES.reputationEvent.at(host, oldest.height, oldest.index), undefined)
  }
  state.write(TABLES.reputationLog.at(host), { events })
}

