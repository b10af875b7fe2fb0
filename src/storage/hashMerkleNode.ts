import { compressSha256, SHA256_IV, writeSha256State } from '../crypto/sha256Compress.ts'

const state = new Int32Array(8)
const w = new Int32Array(64)

/**
 * The src/crypto Merkle node sha256(0x01 ‖ left ‖ right) of two 32-byte hashes, written to
 * `out[outAt..outAt+32)` (which may overlap the inputs: they are read first). The 65-byte message
 * is two compression blocks with fixed padding; running them here on preallocated words avoids
 * node:crypto's per-call cost (an object and a native call per hash, ~2-3 µs against ~1 µs),
 * which is what a chunk tree of 256-byte chunks pays once per chunk. Same digests (tested).
 */
export function hashMerkleNode(left: Uint8Array, leftAt: number, right: Uint8Array, rightAt: number, out: Uint8Array, outAt: number): void {
  state.set(SHA256_IV)
  // Block 1: 0x01, left[0..32), right[0..31): each word takes the byte before it from the previous field.
  w[0] = (1 << 24) | (left[leftAt]! << 16) | (left[leftAt + 1]! << 8) | left[leftAt + 2]!
  for (let i = 1; i < 8; i++) w[i] = (left[leftAt + 4 * i - 1]! << 24) | (left[leftAt + 4 * i]! << 16) | (left[leftAt + 4 * i + 1]! << 8) | left[leftAt + 4 * i + 2]!
  w[8] = (left[leftAt + 31]! << 24) | (right[rightAt]! << 16) | (right[rightAt + 1]! << 8) | right[rightAt + 2]!
  for (let i = 9; i < 16; i++) w[i] = (right[rightAt + 4 * (i - 8) - 1]! << 24) | (right[rightAt + 4 * (i - 8)]! << 16) | (right[rightAt + 4 * (i - 8) + 1]! << 8) | right[rightAt + 4 * (i - 8) + 2]!
  const lastByte = right[rightAt + 31]!
  compressSha256(state, w)
  // Block 2: right[31], the 0x80 padding bit, zeros, the message length in bits (65 × 8 = 520).
  w[0] = (lastByte << 24) | (0x80 << 16)
  w.fill(0, 1, 15)
  w[15] = 520
  compressSha256(state, w)
  writeSha256State(state, out, outAt)
}
