import { decodeTrusted } from '../../blocks/codec.ts'
import type { Address } from '../../blocks/schema.ts'
import { concatBytes, u32be } from '../crypto/index.ts'
import { HostRecord, ReputationEvent } from './records.ts'
import { hostKey, STATE_PREFIX } from './stateKeys.ts'
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

export function recordReputationEvent(state: StateOverlay, host: Address, event: ReputationEvent, index: number): void {
  state.write(ReputationEvent, reputationEventKey(host, event.height, index), event)
}

export function decodeReputationEvent(bytes: Uint8Array): ReputationEvent {
  return decodeTrusted(ReputationEvent, bytes)
}
