import { bytes, encode, list, struct, u8 } from '../../blocks/codec.ts'
import { KvWrite, LIMITS, type Hash } from '../../blocks/schema.ts'
import { compareBytes, hash, toHex } from '../crypto/index.ts'

/**
 * The hashes receipts and completion blocks carry. Pure: the same outcome and output give the
 * same resultHash on every host, the same writes the same writeSetHash. Fuel is not inside
 * resultHash because receipts carry it as its own field (agreement is on both).
 */
const ExecutionResult = struct<{ outcome: number; output: Uint8Array }>('ExecutionResult', {
  outcome: u8,
  output: bytes({ max: LIMITS.output }),
})
const WriteSet = list(KvWrite, LIMITS.writeSet)

/** hash(canonical [outcome, output]). */
export function computeResultHash(outcome: number, output: Uint8Array): Hash {
  return hash(encode(ExecutionResult, { outcome, output }))
}

/** hash(canonical sorted write set); the input must already be sorted and deduplicated. */
export function computeWriteSetHash(writeSet: KvWrite[]): Hash {
  return hash(encode(WriteSet, writeSet))
}

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
