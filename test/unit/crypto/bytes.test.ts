import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { bytesKey, fromHex, keyBytes, toHex } from '../../../src/crypto/index.ts'

const reference = (bytes: Uint8Array): string => '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

describe('toHex', () => {
  it('gives lowercase 0x-hex of every byte value, of empty and long inputs, and of views into larger buffers', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(toHex(all)).toBe(reference(all))
    expect(toHex(new Uint8Array(0))).toBe('0x')
    const big = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + 7) & 0xff)
    expect(toHex(big)).toBe(reference(big))
    const view = big.subarray(33, 65)
    expect(toHex(view)).toBe(reference(view))
    // A short input after a long one: nothing of the longer one's digits is left over.
    expect(toHex(new Uint8Array([0xab]))).toBe('0xab')
    expect(fromHex(toHex(view))).toEqual(new Uint8Array(view))
  })

  it('returns a string that does not change when the next call reuses its buffer', () => {
    const a = toHex(new Uint8Array(32).fill(0x11))
    toHex(new Uint8Array(32).fill(0xee))
    expect(a).toBe('0x' + '11'.repeat(32))
  })
})

describe('bytesKey', () => {
  // bytesKey calls Node's undocumented latin1Slice directly: pinned here to the documented path.
  const documented = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')

  it('is the latin1 string of the bytes, one char per byte, for views at any offset; keyBytes gives the bytes back', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.nat(40), (raw, from, cut) => {
      const view = raw.subarray(Math.min(from, raw.length), Math.max(Math.min(from, raw.length), raw.length - cut))
      const key = bytesKey(view)
      expect(key).toBe(documented(view))
      expect(key.length).toBe(view.length)
      const back = keyBytes(key)
      expect(back).toEqual(new Uint8Array(view))
      expect(back.constructor).toBe(Uint8Array)
    }))
  })

  it('keys distinct byte strings apart, including every byte value and a shorter prefix', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(bytesKey(all)).toBe(documented(all))
    expect(new Set([bytesKey(all), bytesKey(all.subarray(0, 255)), bytesKey(new Uint8Array(0)), bytesKey(Uint8Array.of(0))]).size).toBe(4)
  })
})
