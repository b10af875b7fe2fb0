import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { CodecError } from '../../../blocks/errors.ts'
import { Block, Receipt, SignedTx } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { block, receipt, signedTx } from '../../support/arbitraries.ts'

// msgpackr attaches a `dataView` property to buffers it reads: compare bytes as hex.
const hex = (b: Uint8Array): string => toHex(b)

const cases = [
  { name: 'SignedTx', codec: SignedTx, arb: signedTx },
  { name: 'Receipt', codec: Receipt, arb: receipt },
  { name: 'Block', codec: Block, arb: block },
] as const

describe('canonical codec', () => {
  for (const c of cases) {
    it(`${c.name}: decode(encode(x)) = x and encode(decode(b)) = b`, () => {
      fc.assert(fc.property(c.arb as fc.Arbitrary<never>, (x) => {
        const bytes = encode(c.codec as never, x)
        const back = decode(c.codec as never, bytes)
        expect(back).toEqual(x)
        expect(hex(encode(c.codec as never, back))).toBe(hex(bytes))
      }), { numRuns: 200 })
    })

    it(`${c.name}: any single-byte change or truncation is rejected or decodes to a different value, never crashes`, () => {
      fc.assert(fc.property(c.arb as fc.Arbitrary<never>, fc.nat(), fc.integer({ min: 1, max: 255 }), (x, at, flip) => {
        const bytes = encode(c.codec as never, x)
        const mutated = bytes.slice()
        const i = at % mutated.length
        mutated[i]! ^= flip
        for (const input of [mutated, bytes.slice(0, i), new Uint8Array([...bytes, 0])]) {
          try {
            const v = decode(c.codec as never, input)
            // Accepted only if it is itself canonical, and then it cannot be the original value.
            expect(hex(encode(c.codec as never, v))).toBe(hex(input))
            expect(hex(input)).not.toBe(hex(bytes))
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError)
          }
        }
      }), { numRuns: 300 })
    })
  }

  it('random bytes never crash the decoder: a value or a CodecError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      for (const codec of [SignedTx, Block, Receipt]) {
        try {
          decode(codec as never, bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError)
        }
      }
    }), { numRuns: 2000 })
  })
})
