import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { leafHash, merkleProof, merkleRoot, verifyMerkleProof } from '../../../src/crypto/index.ts'
import { computeChunkLeaves, computeChunkRoot } from '../../../src/state/storage/computeChunkLeaves.ts'
import { ChunkLeafHasher, MerkleAccumulator } from '../../../src/storage/ChunkLeafHasher.ts'

function leavesOf(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i & 255, i >> 8])))
}

describe('MerkleAccumulator', () => {
  it('gives merkleRoot for every leaf count from 0 to 70', () => {
    for (let n = 0; n <= 70; n++) {
      const acc = new MerkleAccumulator()
      for (const l of leavesOf(n)) acc.push(l)
      expect(acc.root(), `n=${n}`).toEqual(merkleRoot(leavesOf(n)))
    }
  })
})

describe('ChunkLeafHasher', () => {
  it('gives computeChunkRoot (the reference over the whole shard) however the bytes are fed', () => {
    fc.assert(fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 1, max: 300 }),
      fc.array(fc.nat(3000), { maxLength: 12 }),
      (data, chunkSize, cuts) => {
        const hasher = new ChunkLeafHasher(chunkSize)
        let at = 0
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          if (cut <= at || cut >= data.length) continue
          hasher.update(data.subarray(at, cut))
          at = cut
        }
        hasher.update(data.subarray(at))
        expect(hasher.finish()).toEqual(computeChunkRoot(data, chunkSize))
        expect(hasher.leafCount).toBe(Math.ceil(data.length / chunkSize))
      },
    ), { numRuns: 300 })
  })
})

describe('ChunkLeafHasher pages', () => {
  it('page path + page-root path is the whole tree path, for full and partial last pages', () => {
    const chunkSize = 4
    for (const n of [1, 7, 8, 9, 16, 23, 33]) {
      const data = new Uint8Array(n * chunkSize - 1).map((_, i) => (i * 31) & 255)
      const pages: Uint8Array[][] = []
      const roots: Uint8Array[] = []
      const hasher = new ChunkLeafHasher(chunkSize, { pageLeaves: 8, onPage: (leaves, root) => { pages.push(split(leaves)); roots.push(root) } })
      // Fed in uneven parts, as a network stream arrives.
      for (let at = 0; at < data.length; at += 5) hasher.update(data.subarray(at, at + 5))
      const root = hasher.finish()
      const all = computeChunkLeaves(data, chunkSize)
      expect(root).toEqual(merkleRoot(all))
      expect(pages.flat()).toEqual(all)
      pages.forEach((page, p) => expect(roots[p]).toEqual(merkleRoot(page)))
      for (let i = 0; i < all.length; i++) {
        const path = [...merkleProof(pages[i >> 3]!, i & 7), ...merkleProof(roots, i >> 3)]
        expect(path).toEqual(merkleProof(all, i))
        expect(verifyMerkleProof(root, all[i]!, i, all.length, path)).toBe(true)
      }
    }
  })

  it('refuses a page size that is not a power of two', () => {
    expect(() => new ChunkLeafHasher(4, { pageLeaves: 6 })).toThrow(RangeError)
  })
})

function split(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += 32) out.push(bytes.slice(i, i + 32))
  return out
}
