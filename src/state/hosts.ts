import { decodeTrusted } from '../../blocks/codec.ts'
import type { Address } from '../../blocks/schema.ts'
import { concatBytes, u32be } from '../crypto/index.ts'
import { HostRecord, ReputationEvent, ReputationLog } from './records.ts'
import { hostKey, reputationLogKey, STATE_PREFIX } from './stateKeys.ts'
import type { StateOverlay } from './stateView.ts'

export function readHost(state: StateOverlay, address: Address): HostRecord | undefined {
  return state.read(HostRecord, hostKey(address))
}

/**
 * Reputation history lives in the state (so every validator holds the same, and a host's
 * operator can query why its reputation moved): key = prefix | host | height | index.
 */
export function reputationEventKey(host: Address, height: number, index: number): Uint8Array {
  return concatBytes(new Uint8Array([STATE_PREFIX.reputationEvent]), host, u32be(height), u32be(index))
}

/**
 * Records a reputation event and keeps only the host's last `limit` events in state (the oldest
 * leaves; blocks keep every event). The host's log of event keys makes that a direct delete, not a scan.
 */
export function recordReputationEvent(state: StateOverlay, host: Address, event: ReputationEvent, index: number, limit: number): void {
  state.write(ReputationEvent, reputationEventKey(host, event.height, index), event)
  const log = state.read(ReputationLog, reputationLogKey(host))?.events ?? []
  const events = [...log, { height: event.height, index }]
  while (events.length > Math.max(1, limit)) {
    const oldest = events.shift()!
    state.write(ReputationEvent, reputationEventKey(host, oldest.height, oldest.index), undefined)
  }
  state.write(ReputationLog, reputationLogKey(host), { events })
}

export function decodeReputationEvent(bytes: Uint8Array): ReputationEvent {
  return decodeTrusted(ReputationEvent, bytes)
}
