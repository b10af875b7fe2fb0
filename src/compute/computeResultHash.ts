import type { KvWrite } from '../../blocks/schema.ts'
import { compareBytes, toHex } from '../crypto/index.ts'

// The hashes receipts and completion blocks carry live in the protocol layer (validators
// recompute them); re-exported so the runtime and the chain cannot disagree on them.
export { computeResultHash, computeWriteSetHash } from '../../blocks/executionHashes.ts'

/**
 * The canonical write set from a map of the last write per key: sorted by key bytes, one
 * entry per key (value undefined = delete). Map order never leaks into the result.
 */
export function computeWriteSet(lastWrites: Map<string, KvWrite>): KvWrite[] {
  return [...lastWrites.values()].sort((a, b) => compareBytes(a.key, b.key))
}

/** Applies a write set to a snapshot (a plain map keyed by hex), as a completion block does. */
export function computeAppliedState(snapshot: Map<string, Uint8Array>, writeSet: KvWrite[]): Map<string, Uint8Array> {
  const next = new Map(snapshot)
  for (const w of writeSet) {
    const k = toHex(w.key)
    if (w.value === undefined) next.delete(k)
    else next.set(k, w.value)
  }
  return next
}
