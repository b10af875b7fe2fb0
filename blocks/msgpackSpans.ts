/**
 * Byte spans of values inside a msgpack buffer, found without decoding them: a block's entries
 * are slices of the block's bytes, so what is hashed over an entry's or a tx's canonical encoding
 * can be hashed over its slice instead of encoding the decoded value again (ids.ts
 * `noteBlockBytes`). Throws RangeError on bytes that end early.
 */

/** The offset just after the msgpack value that starts at `at`. */
export function skipValue(b: Uint8Array, at: number): number {
  let pending = 1
  while (pending > 0) {
    pending--
    if (at >= b.length) throw new RangeError('msgpack value runs past the end')
    const t = b[at]!
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) at += 1
    else if (t <= 0x8f) { pending += 2 * (t & 0x0f); at += 1 }
    else if (t <= 0x9f) { pending += t & 0x0f; at += 1 }
    else if (t <= 0xbf) at += 1 + (t & 0x1f)
    else {
      const [size, count] = fixedPart(b, at, t)
      at += size
      pending += count
    }
  }
  if (at > b.length) throw new RangeError('msgpack value runs past the end')
  return at
}

/** The array length and the offset of its first item, or undefined when `at` holds no array. */
export function arrayHead(b: Uint8Array, at: number): { length: number; first: number } | undefined {
  const t = b[at]
  if (t === undefined) return undefined
  if (t >= 0x90 && t <= 0x9f) return { length: t & 0x0f, first: at + 1 }
  if (t === 0xdc) return { length: uint(b, at + 1, 2), first: at + 3 }
  if (t === 0xdd) return { length: uint(b, at + 1, 4), first: at + 5 }
  return undefined
}

function uint(b: Uint8Array, at: number, n: number): number {
  if (at + n > b.length) throw new RangeError('msgpack value runs past the end')
  let v = 0
  for (let i = 0; i < n; i++) v = v * 256 + b[at + i]!
  return v
}

/** For the 0xc1–0xdf formats: the bytes the value's own head and payload take, and how many values follow it (arrays and maps). */
function fixedPart(b: Uint8Array, at: number, t: number): [number, number] {
  switch (t) {
    case 0xc4: return [2 + uint(b, at + 1, 1), 0] // bin 8
    case 0xc5: return [3 + uint(b, at + 1, 2), 0]
    case 0xc6: return [5 + uint(b, at + 1, 4), 0]
    case 0xc7: return [3 + uint(b, at + 1, 1), 0] // ext 8 (+ type byte)
    case 0xc8: return [4 + uint(b, at + 1, 2), 0]
    case 0xc9: return [6 + uint(b, at + 1, 4), 0]
    case 0xca: return [5, 0] // float 32
    case 0xcb: return [9, 0]
    case 0xcc: case 0xd0: return [2, 0] // (u)int 8
    case 0xcd: case 0xd1: return [3, 0]
    case 0xce: case 0xd2: return [5, 0]
    case 0xcf: case 0xd3: return [9, 0]
    case 0xd4: return [3, 0] // fixext 1
    case 0xd5: return [4, 0]
    case 0xd6: return [6, 0]
    case 0xd7: return [10, 0]
    case 0xd8: return [18, 0]
    case 0xd9: return [2 + uint(b, at + 1, 1), 0] // str 8
    case 0xda: return [3 + uint(b, at + 1, 2), 0]
    case 0xdb: return [5 + uint(b, at + 1, 4), 0]
    case 0xdc: return [3, uint(b, at + 1, 2)] // array 16
    case 0xdd: return [5, uint(b, at + 1, 4)]
    case 0xde: return [3, 2 * uint(b, at + 1, 2)] // map 16
    case 0xdf: return [5, 2 * uint(b, at + 1, 4)]
    default: throw new RangeError(`msgpack type byte 0x${t.toString(16)} is never used`)
  }
}
