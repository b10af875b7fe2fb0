import type { Hash } from '../../../blocks/schema.ts'
import { concatBytes, u32be } from '../../crypto/index.ts'
import { STATE_PREFIX } from '../stateKeys.ts'
import type { StateOverlay, StateReader } from '../stateView.ts'

/**
 * Placements waiting for their storage acks, as a FIFO queue in state. Every placement gets the
 * same ack window (storageAckBlocks), so deadlines grow with insertion order and each block pops
 * only the placements whose deadline passed: work per block follows the placements due, never
 * the number of assets. A placement that completes early stays queued and is skipped when popped.
 *   [0x0f, 0] → u32be(head) || u32be(tail),  [0x0f, 1, u32be(seq)] → asset id
 */
const BOUNDS_KEY = new Uint8Array([STATE_PREFIX.placementQueue, 0])
const itemKey = (seq: number): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.placementQueue, 1]), u32be(seq))

function readBounds(state: StateReader): { head: number; tail: number } {
  const b = state.get(BOUNDS_KEY)
  if (b === undefined) return { head: 0, tail: 0 }
  const v = new DataView(b.buffer, b.byteOffset, 8)
  return { head: v.getUint32(0), tail: v.getUint32(4) }
}

function writeBounds(state: StateOverlay, head: number, tail: number): void {
  state.set(BOUNDS_KEY, head === tail ? undefined : concatBytes(u32be(head), u32be(tail)))
}

export function enqueuePlacement(state: StateOverlay, asset: Hash): void {
  const { head, tail } = readBounds(state)
  state.set(itemKey(tail), asset)
  writeBounds(state, head, tail + 1)
}

/** The queued asset ids from the oldest, at most `max`. */
export function readPlacementQueue(state: StateReader, max = Infinity): Hash[] {
  const { head, tail } = readBounds(state)
  const out: Hash[] = []
  for (let seq = head; seq < tail && out.length < max; seq++) out.push(state.get(itemKey(seq))!)
  return out
}

/** Removes and returns the oldest queued asset id. */
export function popPlacement(state: StateOverlay): Hash | undefined {
  const { head, tail } = readBounds(state)
  if (head === tail) return undefined
  const asset = state.get(itemKey(head))!
  state.set(itemKey(head), undefined)
  writeBounds(state, head + 1, tail)
  return asset
}
