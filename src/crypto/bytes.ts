/** Bytes helpers shared by every layer: 0x-hex, comparison, concatenation. */
import { HexError } from './errors.ts'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function toHex(bytes: Uint8Array): `0x${string}` {
  let s = '0x'
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]
  return s as `0x${string}`
}

/** Parses lowercase-or-uppercase 0x-hex; `length` (in bytes) is checked when given. */
export function fromHex(hex: string, length?: number): Uint8Array {
  if (typeof hex !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new HexError('BAD_HEX', 'expected 0x-prefixed hex with an even number of digits')
  const out = new Uint8Array((hex.length - 2) / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16)
  if (length !== undefined && out.length !== length) throw new HexError('BAD_HEX', `expected ${length} bytes, got ${out.length}`, { expected: length, got: out.length })
  return out
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lexicographic byte order: the one order used for every deterministic sort. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

export function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

export function u64be(n: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}

/** First 8 bytes of a hash as an unsigned bigint: the project's way to turn a seed into a number. */
export function seedToBigInt(seed: Uint8Array): bigint {
  return new DataView(seed.buffer, seed.byteOffset, 8).getBigUint64(0)
}
