import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { hashParts } from '../../../src/crypto/index.ts'
import { hashMerkleNode } from '../../../src/storage/hashMerkleNode.ts'

describe('hashMerkleNode', () => {
  it('is sha256(0x01 ‖ left ‖ right), at any offsets, also when the output overwrites an input', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(5), (left, right, pad) => {
      const expected = hashParts(new Uint8Array([1]), left, right)
      const buf = new Uint8Array(pad + 64)
      buf.set(left, pad)
      buf.set(right, pad + 32)
      const out = new Uint8Array(32)
      hashMerkleNode(buf, pad, buf, pad + 32, out, 0)
      expect(out).toEqual(expected)
      hashMerkleNode(buf, pad, buf, pad + 32, buf, pad + 16) // overlaps both inputs
      expect(buf.subarray(pad + 16, pad + 48)).toEqual(expected)
    }), { numRuns: 300 })
  })
})
