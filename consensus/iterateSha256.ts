import { compressSha256, SHA256_IV, writeSha256State } from '../src/crypto/sha256Compress.ts'
import { ConsensusError } from './errors.ts'

/**
 * x ← sha256(x), `iterations` times, for a 32-byte x: the sequential work of the `time` scheme.
 * node:crypto costs ~2–4 µs per call on 32 bytes (object creation and a native call each time);
 * this runs the compression function on preallocated words (the message of a 32-byte input is one
 * block whose padding never changes), ~3× faster per step (measured 0.9 vs 2.6 µs). Same results as `hash` (tested).
 */
export function iterateSha256(start: Uint8Array, iterations: number): Uint8Array {
  if (start.length !== 32) throw new ConsensusError('MALFORMED_PROOF', 'time: a hash chain starts from 32 bytes', { scheme: 'time', got: start.length, expected: 32 })
  const w = new Int32Array(64)
  const state = new Int32Array(8)
  for (let i = 0; i < 8; i++) w[i] = (start[4 * i]! << 24) | (start[4 * i + 1]! << 16) | (start[4 * i + 2]! << 8) | start[4 * i + 3]!
  for (let n = 0; n < iterations; n++) {
    // The padding of a 32-byte message: a 1 bit, zeros, the length in bits (256).
    w[8] = 0x80000000 | 0
    w.fill(0, 9, 15)
    w[15] = 256
    state.set(SHA256_IV)
    compressSha256(state, w)
    w.set(state)
  }
  const out = new Uint8Array(32)
  // After the loop the chain's value is in w[0..8) (the start itself after 0 iterations).
  writeSha256State(w, out, 0)
  return out
}
