import { hash } from '../src/crypto/index.ts'
import { bytes, encode, list, struct, u8 } from './codec.ts'
import { type Hash, KvWrite, LIMITS } from './schema.ts'

/**
 * The hashes receipts and completion entries carry, in the protocol layer because hosts produce
 * them and validators recompute them. Fuel is not inside resultHash: receipts carry it as its
 * own field and agreement is on both.
 */
const ExecutionResult = struct('ExecutionResult', {
  outcome: u8,
  output: bytes({ max: LIMITS.output }),
})
const WriteSet = list(KvWrite, LIMITS.writeSet)

/** hash(canonical [outcome, output]). */
export function computeResultHash(outcome: number, output: Uint8Array): Hash {
  return hash(encode(ExecutionResult, { outcome, output }))
}

/** hash(canonical write set); the write set must be sorted by key with one write per key. */
export function computeWriteSetHash(writeSet: KvWrite[]): Hash {
  return hash(encode(WriteSet, writeSet))
}
