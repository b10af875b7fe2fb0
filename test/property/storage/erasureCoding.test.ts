import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { equalBytes } from '../../../src/crypto/index.ts'
import { computeChunkCount, computeChunkProof } from '../../../src/state/storage/computeChunkLeaves.ts'
import { isValidChunkProof } from '../../../src/state/storage/verifyAuditResult.ts'
import { computeUsableShards, decodeAsset } from '../../../src/storage/decodeAsset.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { getFastCoder } from '../../../src/storage/fastCoder.ts'
import { loadReferenceCoder } from '../../../src/storage/referenceCoder.ts'

const coding = fc.record({
  k: fc.integer({ min: 1, max: 8 }),
  m: fc.integer({ min: 1, max: 4 }),
  segmentSize: fc.integer({ min: 1, max: 3000 }),
  chunkSize: fc.integer({ min: 1, max: 700 }),
})

/** A subset of 0..n-1 given as a bit mask. */
const pick = (n: number, mask: number): number[] => Array.from({ length: n }, (_, i) => i).filter((i) => (mask >> i) & 1)

describe('erasure coding properties', () => {
  it('any k or more present shards rebuild the exact bytes; fewer is TOO_FEW_SHARDS', () => {
    fc.assert(fc.property(coding, fc.uint8Array({ maxLength: 12_000 }), fc.nat(), (p, data, mask) => {
      const { manifest, shards } = encodeAsset(data, p)
      const n = p.k + p.m
      const present = pick(n, mask % (1 << n))
      const given = shards.map((s, i) => (present.includes(i) ? s : undefined))
      if (present.length >= p.k || data.length === 0) {
        expect(equalBytes(decodeAsset(manifest, given), data)).toBe(true)
      } else {
        expect(() => decodeAsset(manifest, given)).toThrow(expect.objectContaining({ code: 'TOO_FEW_SHARDS' }))
      }
    }), { numRuns: 150 })
  })

  it('the fast coder is byte-identical to the reference for encode and reconstruct', async () => {
    const reference = await loadReferenceCoder()
    const fast = getFastCoder()
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 300 }), fc.nat(), fc.integer({ min: 0, max: 1 << 30 }),
      async (k, m, len, mask, seed) => {
        const a = new Uint8Array((k + m) * len)
        let x = seed | 1
        for (let i = 0; i < k * len; i++) {
          x = (x * 1103515245 + 12345) >>> 0
          a[i] = x >>> 24
        }
        const b = a.slice()
        reference.encode(a, k, m)
        fast.encode(b, k, m)
        expect(equalBytes(a, b)).toBe(true)
        // drop up to m shards, rebuild with both
        const lost = pick(k + m, mask).slice(0, m)
        const present = Array.from({ length: k + m }, (_, i) => !lost.includes(i))
        const c = a.slice()
        const d = a.slice()
        for (const i of lost) {
          c.fill(0, i * len, (i + 1) * len)
          d.fill(0, i * len, (i + 1) * len)
        }
        fast.reconstruct(c, k, m, present)
        reference.reconstruct(d, k, m, present)
        expect(equalBytes(c, a)).toBe(true)
        expect(equalBytes(d, a)).toBe(true)
      }), { numRuns: 120 })
  })

  it('any corruption of a shard is caught by its hash', () => {
    fc.assert(fc.property(coding, fc.uint8Array({ minLength: 1, maxLength: 6000 }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (p, data, si, bi, flip) => {
      const { manifest, shards } = encodeAsset(data, p)
      const s = si % shards.length
      const bad = shards[s]!.slice()
      bad[bi % bad.length]! ^= flip
      const given = shards.map((x, i) => (i === s ? bad : x))
      expect(computeUsableShards(manifest, given)).not.toContain(s)
      expect(computeUsableShards(manifest, given)).toHaveLength(shards.length - 1)
    }), { numRuns: 150 })
  })

  it('any corruption of an audited chunk or its Merkle path is caught', () => {
    fc.assert(fc.property(coding, fc.uint8Array({ minLength: 1, maxLength: 6000 }), fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (p, data, si, ci, bi, flip, inPath) => {
      const { manifest, shards } = encodeAsset(data, p)
      const s = si % shards.length
      const count = computeChunkCount(manifest.shardSize, manifest.chunkSize)
      const c = ci % count
      const proof = computeChunkProof(shards[s]!, manifest.chunkSize, c)
      expect(isValidChunkProof(manifest, s, c, proof)).toBe(true)
      if (inPath && proof.path.length > 0) {
        const path = proof.path.map((h) => h.slice())
        const j = bi % path.length
        path[j]![bi % 32]! ^= flip
        expect(isValidChunkProof(manifest, s, c, { chunk: proof.chunk, path })).toBe(false)
      } else {
        const chunk = proof.chunk.slice()
        chunk[bi % chunk.length]! ^= flip
        expect(isValidChunkProof(manifest, s, c, { chunk, path: proof.path })).toBe(false)
      }
      // The right chunk under another index does not pass either (unless both chunks are equal).
      const other = (c + 1) % count
      if (count > 1 && !equalBytes(computeChunkProof(shards[s]!, manifest.chunkSize, other).chunk, proof.chunk)) {
        expect(isValidChunkProof(manifest, s, other, proof)).toBe(false)
      }
    }), { numRuns: 150 })
  })
})
