/** Bytes helpers shared by every layer: 0x-hex, comparison, concatenation. */
import { Buffer } from 'node:buffer'

import { HexError } from './errors.ts'

/** Each byte's two lowercase hex digits as ASCII codes, low byte first. */
const HEX_CODES = Uint16Array.from({ length: 256 }, (_, i) => {
  const h = i.toString(16).padStart(2, '0')
  return h.charCodeAt(0) | (h.charCodeAt(1) << 8)
})
let hexScratch = Buffer.from('0x'.padEnd(2 + 2 * 64, '0'), 'latin1')

/**
 * Node's own latin1 decoder (what `buf.toString('latin1')` ends in), undocumented but on
 * Buffer.prototype since Node 0.x and accepting any Uint8Array: called directly, it skips the
 * Buffer view and the argument checks `toString` makes per call (~2.8x faster for a 33-65 byte key;
 * bytes.test.ts pins it to the documented path).
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice

/**
 * The bytes as a latin1 string, one char per byte: how byte strings key a Map or Set (state keys,
 * tree node hashes, signatures). Hot: every state read and write makes one.
 */
export function bytesKey(bytes: Uint8Array): string {
  return latin1Slice.call(bytes, 0, bytes.length)
}

/** The bytes a `bytesKey` string was made of (a fresh array). */
export function keyBytes(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'latin1'))
}

/**
 * Lowercase 0x-hex. The digits are written as ASCII into one reused buffer and read back as one flat
 * string: the earlier per-byte `s +=` built a 33-piece rope (~1 KB of garbage for a 32-byte hash,
 * ~14 % of an idle validator's allocation) that was flattened again when used as a Map key; ~2.7x
 * the CPU of this for toHex + Map.get.
 */
export function toHex(bytes: Uint8Array): `0x${string}` {
  const end = 2 + 2 * bytes.length
  if (end > hexScratch.length) {
    hexScratch = Buffer.allocUnsafe(2 * end)
    hexScratch[0] = 0x30
    hexScratch[1] = 0x78
  }
  const out = hexScratch
  for (let i = 0, o = 2; i < bytes.length; i++, o += 2) {
    const c = HEX_CODES[bytes[i]!]!
    out[o] = c & 0xff
    out[o + 1] = c >> 8
  }
  return latin1Slice.call(out, 0, end) as `0x${string}`
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
