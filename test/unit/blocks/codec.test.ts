import { describe, expect, it } from 'vitest'

import { decode, encode, u32, u128 } from '../../../blocks/codec.ts'
import { CodecError } from '../../../blocks/errors.ts'
import { SignedTx, TxBody } from '../../../blocks/schema.ts'
import { concatBytes, fromHex } from '../../../src/crypto/index.ts'

const body = { chainId: 'xsc-test', from: new Uint8Array(32).fill(1), nonce: 3, fee: 10n, payload: { type: 'transfer' as const, to: new Uint8Array(32).fill(2), amount: 5n } }
const tx = { body, signature: new Uint8Array(64).fill(3) }

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
    return undefined
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError)
    return (e as CodecError).code
  }
}

describe('codec rejections', () => {
  it('rejects trailing bytes', () => {
    expect(codeOf(() => decode(SignedTx, concatBytes(encode(SignedTx, tx), new Uint8Array([0]))))).toBe('TRAILING_BYTES')
  })
  it('rejects an unknown version', () => {
    const bytes = encode(SignedTx, tx)
    // [SignedTx=fixarray(2), TxBody=fixarray(6), version=1, ...]: change the version byte.
    expect(bytes[0]).toBe(0x92)
    expect(bytes[2]).toBe(1)
    const v2 = bytes.slice()
    v2[2] = 2
    expect(codeOf(() => decode(SignedTx, v2))).toBe('UNKNOWN_VERSION')
  })
  it('rejects an unknown tx type tag', () => {
    const wire = [[1, 'xsc-test', body.from, 3, new Uint8Array([10]), [99]], tx.signature]
    const { Packr } = require('msgpackr') as typeof import('msgpackr')
    const bytes = new Packr({ useRecords: false }).pack(wire)
    expect(codeOf(() => decode(SignedTx, bytes))).toBe('UNKNOWN_TAG')
  })
  it('rejects wrong types and out-of-range integers', () => {
    expect(codeOf(() => decode(u32, fromHex('0xa131')))).toBe('WRONG_TYPE') // "1" as a string
    expect(codeOf(() => decode(u32, fromHex('0xcf0000000100000000')))).toBe('WRONG_TYPE') // 2^32 as uint64 decodes as bigint
    expect(codeOf(() => decode(u32, fromHex('0xcb3ff8000000000000')))).toBe('WRONG_TYPE') // 1.5 float64
  })
  it('rejects non-minimal integer encodings', () => {
    expect(codeOf(() => decode(u32, fromHex('0xcc05')))).toBe('NON_CANONICAL') // 5 as uint8 instead of fixint
    expect(codeOf(() => decode(u128, fromHex('0xc4020005')))).toBe('NON_CANONICAL') // leading zero byte
    expect(decode(u128, fromHex('0xc40105'))).toBe(5n)
  })
  it('rejects amounts that do not fit u128 and refuses to encode negatives', () => {
    expect(codeOf(() => decode(u128, concatBytes(fromHex('0xc411'), new Uint8Array(17).fill(1))))).toBe('OUT_OF_RANGE')
    expect(codeOf(() => encode(u128, -1n))).toBe('OUT_OF_RANGE')
    expect(codeOf(() => encode(u128, 1n << 128n))).toBe('OUT_OF_RANGE')
  })
  it('rejects a map where an array is expected', () => {
    const { Packr } = require('msgpackr') as typeof import('msgpackr')
    expect(codeOf(() => decode(TxBody, new Packr({ useRecords: false }).pack({ a: 1 })))).toBe('WRONG_TYPE')
  })
})

describe('bigUint bytes (the 48-bit arithmetic path and the hex path agree)', () => {
  const reference = (v: bigint): string => (v === 0n ? '' : v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0'))
  it('encodes as minimal big-endian bytes and decodes back, at and around every byte boundary', () => {
    const values = [0n, 1n, 255n, 256n, (1n << 48n) - 1n, 1n << 48n, (1n << 48n) + 1n, (1n << 64n) - 1n, 123_456_789_012_345n]
    for (let bits = 1n; bits <= 64n; bits++) values.push((1n << bits) - 1n, 1n << bits)
    for (const v of values.filter((x) => x < 1n << 64n)) {
      const bytes = encode(u128, v)
      // msgpack bin8 header (0xc4, length), then the value's bytes.
      expect(Buffer.from(bytes.subarray(2)).toString('hex')).toBe(reference(v))
      expect(decode(u128, bytes)).toBe(v)
    }
  })
})
