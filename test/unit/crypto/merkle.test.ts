import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { EMPTY_ROOT, hash, leafHash, merkleProof, merkleRoot, verifyMerkleProof } from '../../../src/crypto/index.ts'

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i, i >> 8])))

describe('merkle', () => {
  it('has a fixed empty root and a one-leaf root equal to the leaf', () => {
    expect(merkleRoot([])).toEqual(EMPTY_ROOT)
    const l = leaves(1)
    expect(merkleRoot(l)).toEqual(l[0])
  })

  it('every leaf of every tree size proves against the root, and only at its own index', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (n, pick) => {
      const ls = leaves(n)
      const root = merkleRoot(ls)
      const i = pick % n
      const path = merkleProof(ls, i)
      expect(verifyMerkleProof(root, ls[i]!, i, n, path)).toBe(true)
      if (n > 1) expect(verifyMerkleProof(root, ls[i]!, (i + 1) % n, n, path)).toBe(false)
      expect(verifyMerkleProof(root, hash(ls[i]!), i, n, path)).toBe(false)
    }))
  })

  it('distinguishes a node from a leaf (second-preimage resistance by domain separation)', () => {
    const ls = leaves(4)
    const root = merkleRoot(ls)
    expect(merkleRoot(ls.slice(0, 2))).not.toEqual(root)
    expect(verifyMerkleProof(root, ls[0]!, 0, 4, merkleProof(ls, 0).slice(1))).toBe(false)
  })
})
