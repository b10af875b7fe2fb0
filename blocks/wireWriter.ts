/**
 * The canonical msgpack writer: the one byte form of a codec's wire value (blocks/codec.ts
 * `toWire`: arrays, integers from −2³¹ to 2³²−1, strings, booleans, byte arrays; nothing else).
 * Each value takes msgpack's shortest head, which is what msgpackr writes for the same values
 * (wireWriter.test.ts holds the two byte-identical over random wire trees and every schema's
 * values); msgpackr stays the reader. Written out here because packing our small values through
 * msgpackr cost ~1.5 µs a call before any byte was written (its entry checks, a typed-array
 * extension lookup and an allocation per byte array), and every id, signing hash, state row and
 * message is an encode.
 */
/** The scratch buffer's size at rest: after a value that grew it past 16× this (a big block), it is made this size again. */
const SCRATCH_BYTES = 64 * 1024
let buf = new Uint8Array(SCRATCH_BYTES)
let view = new DataView(buf.buffer)
let pos = 0
const utf8 = new TextEncoder()

function room(n: number): void {
  if (pos + n <= buf.length) return
  const bigger = new Uint8Array(Math.max(buf.length * 2, pos + n))
  bigger.set(buf.subarray(0, pos))
  buf = bigger
  view = new DataView(buf.buffer)
}

/**
 * A length head: the fix form `fix | n` when there is one (`fix` 0: none) and n < 16, else the
 * 16-bit form `format16` (array 16, bin 16, str 16) or the 32-bit form, whose format byte follows it.
 */
function head(fix: number, format16: number, n: number): void {
  if (fix !== 0 && n < 0x10) buf[pos++] = fix | n
  else if (n < 0x10000) {
    buf[pos++] = format16
    buf[pos++] = n >> 8
    buf[pos++] = n & 0xff
  } else {
    buf[pos++] = format16 + 1
    view.setUint32(pos, n)
    pos += 4
  }
}

function write(v: unknown): void {
  room(9)
  if (typeof v === 'number') {
    if (v >>> 0 === v) {
      if (v < 0x80) buf[pos++] = v
      else if (v < 0x100) {
        buf[pos++] = 0xcc
        buf[pos++] = v
      } else if (v < 0x10000) {
        buf[pos++] = 0xcd
        buf[pos++] = v >> 8
        buf[pos++] = v & 0xff
      } else {
        buf[pos++] = 0xce
        view.setUint32(pos, v)
        pos += 4
      }
    } else if (v >> 0 === v) {
      if (v >= -0x20) buf[pos++] = 0x100 + v
      else if (v >= -0x80) {
        buf[pos++] = 0xd0
        buf[pos++] = v + 0x100
      } else if (v >= -0x8000) {
        buf[pos++] = 0xd1
        view.setInt16(pos, v)
        pos += 2
      } else {
        buf[pos++] = 0xd2
        view.setInt32(pos, v)
        pos += 4
      }
    } else throw new TypeError(`wire value ${v} is not a 32-bit integer`)
  } else if (v instanceof Uint8Array) {
    const n = v.length
    room(5 + n)
    if (n < 0x100) {
      buf[pos++] = 0xc4
      buf[pos++] = n
    } else head(0, 0xc5, n)
    buf.set(v, pos)
    pos += n
  } else if (Array.isArray(v)) {
    head(0x90, 0xdc, v.length)
    for (const item of v) write(item)
  } else if (typeof v === 'string') {
    // Longest UTF-8 form is 3 bytes a UTF-16 unit; written after a 5-byte gap, then moved up to the shortest head.
    room(5 + 3 * v.length)
    const n = utf8.encodeInto(v, buf.subarray(pos + 5)).written
    const start = pos
    if (n < 0x20) buf[pos++] = 0xa0 | n
    else if (n < 0x100) {
      buf[pos++] = 0xd9
      buf[pos++] = n
    } else head(0, 0xda, n)
    if (pos !== start + 5) buf.copyWithin(pos, start + 5, start + 5 + n)
    pos += n
  } else if (typeof v === 'boolean') buf[pos++] = v ? 0xc3 : 0xc2
  else throw new TypeError(`wire value of type ${typeof v} has no canonical form`)
}

/** The canonical bytes of a wire value (a fresh array). Throws TypeError on a value with no wire form. */
export function writeWire(value: unknown): Uint8Array {
  pos = 0
  try {
    write(value)
    return buf.slice(0, pos)
  } finally {
    if (buf.length > 16 * SCRATCH_BYTES) {
      buf = new Uint8Array(SCRATCH_BYTES)
      view = new DataView(buf.buffer)
    }
  }
}
