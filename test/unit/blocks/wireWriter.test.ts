import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'

import { decode, encode, str } from '../../../blocks/codec.ts'
import { CodecError } from '../../../blocks/errors.ts'
import { Block, Receipt, SignedTx } from '../../../blocks/schema.ts'
import { writeWire } from '../../../blocks/wireWriter.ts'
import { block, receipt, signedTx } from '../../support/arbitraries.ts'

// encode writes wire values itself (wireWriter.ts); msgpackr, configured as blocks/codec.ts had it
// until session 17, is the reference: every id, signing hash and stored row depends on these bytes.
const msgpackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, structuredClone: false, mapsAsObjects: true })
const reference = (wire: unknown): Uint8Array => new Uint8Array(msgpackr.pack(wire))

const boundaryInts = [0, 1, 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000]
const wireInt = fc.oneof(fc.constantFrom(...boundaryInts), fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.integer({ min: 0, max: 0xffffffff }))
const wireBytes = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(0, 15, 16, 255, 256, 65535, 65536).map((n) => new Uint8Array(n).fill(n & 0xff)))
const wireString = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom(31, 32, 85, 86, 255, 256, 21845, 21846, 65535, 65536).map((n) => 'é€x'.repeat(Math.ceil(n / 3)).slice(0, n)))
const { wire } = fc.letrec((tie) => ({
  wire: fc.oneof({ depthSize: 'small' }, wireInt, wireBytes, wireString, fc.boolean(), tie('array')),
  array: fc.oneof(fc.array(tie('wire'), { maxLength: 20 }), fc.constantFrom(15, 16, 65535, 65536).map((n) => Array.from({ length: n }, (_, i) => i & 0x7f))),
}))

describe('writeWire', () => {
  it('writes the bytes msgpackr writes, for any wire tree (integers, byte arrays, strings, booleans, arrays at every head boundary)', () => {
    fc.assert(fc.property(wire, (w) => {
      expect(writeWire(w)).toEqual(reference(w))
    }), { numRuns: 500 })
  })

  it('encodes every schema value as msgpackr did: blocks of every kind, txs, receipts', () => {
    fc.assert(fc.property(block, signedTx, receipt, (b, tx, r) => {
      expect(encode(Block, b)).toEqual(reference(Block.toWire(b)))
      expect(encode(SignedTx, tx)).toEqual(reference(SignedTx.toWire(tx)))
      expect(encode(Receipt, r)).toEqual(reference(Receipt.toWire(r)))
      expect(decode(Block, encode(Block, b))).toEqual(b)
    }), { numRuns: 150 })
  })

  it('returns a fresh array each time, and takes values far larger than its scratch buffer', () => {
    const a = writeWire([1, new Uint8Array(3).fill(7)])
    const big = writeWire([new Uint8Array(3_000_000).fill(1), 'x'.repeat(200_000)])
    expect(a).toEqual(Uint8Array.from([0x92, 0x01, 0xc4, 0x03, 7, 7, 7]))
    expect(big).toEqual(reference([new Uint8Array(3_000_000).fill(1), 'x'.repeat(200_000)]))
    expect(writeWire(-1)).toEqual(Uint8Array.of(0xff))
  })

  it('refuses what has no wire form: nil, undefined, floats, integers beyond 32 bits, bigints, maps', () => {
    for (const v of [null, undefined, 1.5, 2 ** 32, -(2 ** 31) - 1, Number.NaN, 5n, { a: 1 }, [1, [null]]]) expect(() => writeWire(v), String(v)).toThrow(TypeError)
    // The failed write left nothing behind.
    expect(writeWire([2])).toEqual(Uint8Array.of(0x91, 0x02))
  })

  it('attack: a string with a lone surrogate has no encoding (the codec refuses it), and its raw surrogate bytes are not canonical', () => {
    const text = str(64)
    // The writer alone would write U+FFFD, so a node would sign another string than the one it holds: the codec refuses first.
    expect(writeWire('a\ud800')).toEqual(writeWire('a\ufffd'))
    for (const lone of ['a\ud800', '\udc00b', 'x\ud800\ud800']) expect(() => encode(text, lone), lone).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }))
    expect(encode(text, 'a\ud83d\ude00')).toEqual(reference('a\ud83d\ude00')) // a pair is one character
    // msgpackr writes a short lone surrogate as its raw three bytes (ED A0 80): no node accepts that spelling.
    expect(() => decode(text, reference('a\ud800'))).toThrow(CodecError)
  })
})
