import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { fromHex, toHex } from '../../../src/crypto/index.ts'
import { StorageError } from '../../../src/state/storage/errors.ts'
import { FastCoder, getFastCoder } from '../../../src/storage/fastCoder.ts'
import { computeEncodingMatrix } from '../../../src/storage/gf256.ts'
import { loadReferenceCoder } from '../../../src/storage/referenceCoder.ts'

interface CoderVector { k: number; m: number; shardLength: number; shards: string[] }
const golden = JSON.parse(readFileSync(new URL('../../../fixtures/storage/golden-vectors.json', import.meta.url), 'utf8')) as { coder: CoderVector[] }

function bufferOf(v: CoderVector, dataOnly: boolean): Uint8Array {
  const buf = new Uint8Array((v.k + v.m) * v.shardLength)
  v.shards.forEach((hex, i) => {
    if (!dataOnly || i < v.k) buf.set(fromHex(hex), i * v.shardLength)
  })
  return buf
}

describe('erasure coders', () => {
  it('the fast coder reproduces the reference golden vectors byte for byte', () => {
    const coder = getFastCoder()
    expect(golden.coder.length).toBeGreaterThan(5)
    for (const v of golden.coder) {
      const buf = bufferOf(v, true)
      coder.encode(buf, v.k, v.m)
      const shards = Array.from({ length: v.k + v.m }, (_, i) => toHex(buf.subarray(i * v.shardLength, (i + 1) * v.shardLength)))
      expect(shards).toEqual(v.shards)
    }
  })

  it('the reference coder still produces the golden vectors (the fixture is not stale)', async () => {
    const reference = await loadReferenceCoder()
    for (const v of golden.coder) {
      const buf = bufferOf(v, true)
      reference.encode(buf, v.k, v.m)
      expect(toHex(buf)).toEqual(toHex(bufferOf(v, false)))
    }
  })

  it('the 4+2 matrix is systematic with the crate parity rows', () => {
    const matrix = computeEncodingMatrix(4, 2).map((row) => Array.from(row))
    expect(matrix.slice(0, 4)).toEqual([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    expect(matrix[4]).toEqual([27, 28, 18, 20])
  })

  it('both coders rebuild lost data and parity shards, repeatedly', async () => {
    const reference = await loadReferenceCoder()
    for (const coder of [new FastCoder(), reference]) {
      for (const v of golden.coder.filter((x) => x.m >= 2)) {
        const full = bufferOf(v, false)
        for (const lost of [[0, v.k], [v.k - 1, v.k + 1]]) {
          const buf = full.slice()
          const present = Array.from({ length: v.k + v.m }, (_, i) => !lost.includes(i))
          for (const i of lost) buf.fill(0xaa, i * v.shardLength, (i + 1) * v.shardLength)
          coder.reconstruct(buf, v.k, v.m, present)
          expect(toHex(buf)).toEqual(toHex(full))
        }
      }
    }
  })

  it('fewer than k shards is a typed error, and bad shapes are refused', () => {
    const coder = getFastCoder()
    const buf = new Uint8Array(6 * 8)
    expect(() => coder.reconstruct(buf, 4, 2, [true, true, true, false, false, false])).toThrow(expect.objectContaining({ code: 'TOO_FEW_SHARDS' }))
    expect(() => coder.encode(new Uint8Array(7), 4, 2)).toThrow(StorageError)
    expect(() => coder.encode(new Uint8Array(0), 4, 2)).toThrow(expect.objectContaining({ code: 'SHARD_SIZE_MISMATCH' }))
    expect(() => coder.encode(buf, 0, 2)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
    expect(() => coder.encode(new Uint8Array(256 * 2), 200, 56)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
  })
})
