import type { HostIndex } from '../router/index.ts'
import type { HostRecord } from '../state/records.ts'
import type { StateWrite } from '../state/stateView.ts'
import { idOfKey, isKeyOf, TABLES } from '../state/tables.ts'

/** The router's index follows a committed write set: each host row written is upserted or removed. */
export function applyHostWrites(index: HostIndex, writes: readonly StateWrite[]): void {
  for (const w of writes) {
    if (!isKeyOf(TABLES.host, w.key)) continue
    const address = idOfKey(TABLES.host, w.key)
    if (w.value === undefined) index.remove(address)
    // The transition's own object when it has one; a write set taken from a peer is decoded.
    else index.upsert(address, w.row?.codec === TABLES.host.codec ? (w.row.value as HostRecord) : TABLES.host.codec.decode(w.value))
  }
}
