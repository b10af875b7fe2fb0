import type { Hash } from '../../../blocks/schema.ts'
import type { StateOverlay, StateReader } from '../stateView.ts'
import { readRow, TABLES } from '../tables.ts'

/**
 * Placements waiting for their storage acks, as a FIFO queue in state. Every placement gets the
 * same ack window (storageAckBlocks), so deadlines grow with insertion order and each block pops
 * only the placements whose deadline passed: work per block follows the placements due, never
 * the number of assets. A placement that completes early stays queued and is skipped when popped.
 * Tables placementQueueBounds → (head, tail) and placementQueueItem (seq) → asset id.
 */

function readBounds(state: StateReader): { head: number; tail: number } {
  const [head, tail] = readRow(state, TABLES.placementQueueBounds.at()) ?? [0, 0]
  return { head, tail }
}

function writeBounds(state: StateOverlay, head: number, tail: number): void {
  state.write(TABLES.placementQueueBounds.at(), head === tail ? undefined : [head, tail])
}

export function enqueuePlacement(state: StateOverlay, asset: Hash): void {
  const { head, tail } = readBounds(state)
  state.write(TABLES.placementQueueItem.at(tail), asset)
  writeBounds(state, head, tail + 1)
}

/** The queued asset ids from the oldest, at most `max`. */
export function readPlacementQueue(state: StateReader, max = Infinity): Hash[] {
  const { head, tail } = readBounds(state)
  const out: Hash[] = []
  for (let seq = head; seq < tail && out.length < max; seq++) out.push(readRow(state, TABLES.placementQueueItem.at(seq))!)
  return out
}

/** Removes and returns the oldest queued asset id. */
export function popPlacement(state: StateOverlay): Hash | undefined {
  const { head, tail } = readBounds(state)
  if (head === tail) return undefined
  const asset = state.read(TABLES.placementQueueItem.at(head))!
  state.write(TABLES.placementQueueItem.at(head), undefined)
  writeBounds(state, head + 1, tail)
  return asset
}
