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
 * A length head in its shortest form: the fix form `fix | n` below `fixLimit` (0: none), else the
 * 8-bit form `format8` (0: none), else the 16-bit form, else the 32-bit one whose format byte
 * follows it (`format16 + 1`).
 */
function head(n: number, fix: number, fixLimit: number, format8: number, format16: number): void {
  if (n < fixLimit) buf[pos++] = fix | n
  else if (format8 !== 0 && n < 0x100) {
    buf[pos++] = format8
    buf[pos++] = n
  } else if (n < 0x10000) {
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
    head(n, 0, 0, 0xc4, 0xc5) // bin 8/16/32
    buf.set(v, pos)
    pos += n
  } else if (Array.isArray(v)) {
    head(v.length, 0x90, 0x10, 0, 0xdc) // fixarray, array 16/32
    for (const item of v) write(item)
  } else if (typeof v === 'string') {
    // Longest UTF-8 form is 3 bytes a UTF-16 unit; written after a 5-byte gap, then moved up to the shortest head.
    room(5 + 3 * v.length)
    const n = utf8.encodeInto(v, buf.subarray(pos + 5)).written
    const start = pos
    head(n, 0xa0, 0x20, 0xd9, 0xda) // fixstr, str 8/16/32
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
