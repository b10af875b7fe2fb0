import { type Address, type Hash, LIMITS, type StorageAck, type StorageAckEntry } from '../../../blocks/schema.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { applyStorageAcks } from '../../state/applyStorageAck.ts'
import { ASSET_STATUS } from '../../state/records.ts'
import { StateOverlay, type StateReader } from '../../state/stateView.ts'
import { readPlacementQueue } from '../../state/storage/placementQueue.ts'
import { readRow, TABLES } from '../../state/tables.ts'

/** One shard whose host has not acknowledged it yet. */
export interface StorageAckRequest { asset: Hash; shardIndex: number; host: Address }

/** Asks the hosts for their acks; returns the acks they gave (checked when the entry is built). */
export type StorageAckResponder = (requests: StorageAckRequest[]) => Promise<StorageAck[]>

/** Placements the proposer asks about per block (the oldest first; the queue is in deadline order). */
const MAX_PLACEMENTS_ASKED = 256

/** The unacknowledged shards of the oldest waiting placements. */
export function computeStorageAckRequests(state: StateReader): StorageAckRequest[] {
  const out: StorageAckRequest[] = []
  for (const asset of readPlacementQueue(state, MAX_PLACEMENTS_ASKED)) {
    const record = readRow(state, TABLES.asset.at(asset))
    if (record?.status !== ASSET_STATUS.placing) continue
    record.placement.forEach((host, shardIndex) => {
      if (record.acked[shardIndex] !== 1 && out.length < LIMITS.storageAcks) out.push({ asset, shardIndex, host })
    })
  }
  return out
}

/**
 * Asks the hosts of waiting placements for their acks. Waits on the network, so the proposer
 * calls it before taking the chain's lock. Empty when nothing waits or nobody answered.
 */
export async function gatherStorageAcks(state: StateReader, responder: StorageAckResponder): Promise<StorageAck[]> {
  const requests = computeStorageAckRequests(state)
  return requests.length === 0 ? [] : responder(requests)
}

/** The storage block entry: the gathered acks that still apply, in order, or undefined when none does. */
export function buildStorageAckEntry(state: StateReader, ctx: ApplyContext, acks: readonly StorageAck[]): StorageAckEntry | undefined {
  const overlay = new StateOverlay(state)
  const kept: StorageAck[] = []
  for (const ack of acks) {
    if (kept.length >= LIMITS.storageAcks) break
    const trial = overlay.child()
    try {
      applyStorageAcks(trial, { type: 'storageAck', acks: [ack] }, ctx)
    } catch {
      continue // forged, duplicate or late: leave it out
    }
    trial.mergeInto(overlay)
    kept.push(ack)
  }
  return kept.length > 0 ? { type: 'storageAck', acks: kept } : undefined
}
