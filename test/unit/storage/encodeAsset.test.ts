import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { Manifest } from '../../../blocks/schema.ts'
import { fromHex, hash, toHex } from '../../../src/crypto/index.ts'
import { decodeAsset, decodeAssetStream, rebuildShard } from '../../../src/storage/decodeAsset.ts'
import { AssetEncoder, type CodingParams, computeManifest, encodeAsset, encodeAssetStream } from '../../../src/storage/encodeAsset.ts'
import { createIncrementalHash } from '../../../src/storage/incrementalHash.ts'

interface AssetVector { size: number; k: number; m: number; segmentSize: number; chunkSize: number; data: string; manifest: string; shards: string[] }
const golden = JSON.parse(readFileSync(new URL('../../../fixtures/storage/golden-vectors.json', import.meta.url), 'utf8')) as { assets: AssetVector[] }

const P: CodingParams = { k: 4, m: 2, segmentSize: 4096, chunkSize: 256 }

describe('encodeAsset / decodeAsset', () => {
  it('reproduces the golden manifests and shards made with the reference coder', () => {
    for (const v of golden.assets) {
      const { manifest, shards } = encodeAsset(fromHex(v.data), { k: v.k, m: v.m, segmentSize: v.segmentSize, chunkSize: v.chunkSize })
      expect(toHex(encode(Manifest, manifest))).toBe(v.manifest)
      expect(shards.map(toHex)).toEqual(v.shards)
      expect(decode(Manifest, fromHex(v.manifest))).toEqual(manifest)
    }
  })

  it('round-trips 0 bytes, 1 byte, sizes not a multiple of k and multi-segment data', () => {
    for (const n of [0, 1, 2, 3, 5, 4095, 4096, 4097, 3 * 4096 + 7]) {
      const data = new Uint8Array(randomBytes(n))
      const { manifest, shards } = encodeAsset(data, P)
      expect(manifest.size).toBe(BigInt(n))
      expect(manifest.dataHash).toEqual(hash(data))
      expect(shards).toHaveLength(6)
      expect(decodeAsset(manifest, shards)).toEqual(data)
      expect(decodeAsset(manifest, [undefined, shards[1], undefined, shards[3], shards[4], shards[5]])).toEqual(data)
    }
  })

  it('fewer than k good shards is TOO_FEW_SHARDS, and a corrupt shard is not used', () => {
    const data = new Uint8Array(randomBytes(10_000))
    const { manifest, shards } = encodeAsset(data, P)
    expect(() => decodeAsset(manifest, [shards[0], undefined, undefined, shards[3], shards[4], undefined])).toThrow(expect.objectContaining({ code: 'TOO_FEW_SHARDS' }))
    const bad = shards[1]!.slice()
    bad[17]! ^= 1
    // With the corrupt shard ignored only 3 good remain: refused, never wrong bytes.
    expect(() => decodeAsset(manifest, [shards[0], bad, undefined, shards[3], shards[4], undefined])).toThrow(expect.objectContaining({ code: 'TOO_FEW_SHARDS' }))
    expect(decodeAsset(manifest, [shards[0], bad, shards[2], shards[3], shards[4], undefined])).toEqual(data)
  })

  it('a manifest whose data hash does not match is caught after rebuilding', () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(999)), P)
    const lying = { ...manifest, dataHash: new Uint8Array(32) }
    expect(() => decodeAsset(lying, shards)).toThrow(expect.objectContaining({ code: 'DATA_HASH_MISMATCH' }))
  })

  it('rebuildShard restores any single shard, data or parity', () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(9_999)), P)
    for (let t = 0; t < 6; t++) {
      const others = shards.map((s, i) => (i === t || i === (t + 1) % 6 ? undefined : s))
      expect(rebuildShard(manifest, others, t)).toEqual(shards[t])
    }
  })

  it('streaming encode gives the same manifest and shards as in-memory, and streaming decode the same bytes', async () => {
    const data = new Uint8Array(randomBytes(5 * 4096 + 123))
    const direct = encodeAsset(data, P)
    const parts: Uint8Array[][] = Array.from({ length: 6 }, () => [])
    const chunks = [data.subarray(0, 100), data.subarray(100, 9000), data.subarray(9000)]
    const manifest = await encodeAssetStream(chunks, P, (pieces) => pieces.forEach((p, i) => parts[i]!.push(p.slice())))
    expect(manifest).toEqual(direct.manifest)
    expect(parts.map((p) => Buffer.concat(p))).toEqual(direct.shards.map((s) => Buffer.from(s)))
    expect(computeManifest(data, P)).toEqual(manifest)
    const out: Buffer[] = []
    await decodeAssetStream(manifest, [1, 3, 4, 5], async (i, off, len) => direct.shards[i]!.subarray(off, off + len), (d) => void out.push(Buffer.from(d)))
    expect(new Uint8Array(Buffer.concat(out))).toEqual(data)
  })

  it('without chunk roots (the hand-off on a validator) the rest of the manifest and the shards are the same', async () => {
    const data = new Uint8Array(randomBytes(5 * 4096 + 123))
    const direct = encodeAsset(data, P)
    const parts: Uint8Array[][] = Array.from({ length: 6 }, () => [])
    const manifest = await encodeAssetStream([data], P, (pieces) => pieces.forEach((p, i) => parts[i]!.push(p.slice())), undefined, { chunkRoots: false })
    expect(manifest).toEqual({ ...direct.manifest, chunkRoots: [] })
    expect(parts.map((p) => Buffer.concat(p))).toEqual(direct.shards.map((s) => Buffer.from(s)))
  })

  it('the streaming decoder reports a corrupt shard at the end', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(3 * 4096)), P)
    const bad = shards[4]!.slice()
    bad[5]! ^= 0x80
    const all = [...shards.slice(0, 4), bad, shards[5]!]
    await expect(decodeAssetStream(manifest, [1, 2, 4, 5], async (i, off, len) => all[i]!.subarray(off, off + len), () => {}))
      .rejects.toMatchObject({ code: 'SHARD_HASH_MISMATCH' })
  })

  it('the encoder rejects bad parameters and misuse with typed errors', () => {
    expect(() => new AssetEncoder({ ...P, k: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
    expect(() => new AssetEncoder({ ...P, segmentSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
    const enc = new AssetEncoder(P)
    enc.write(new Uint8Array(4096))
    expect(() => enc.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
  })

  it('the incremental hash equals the project hash', () => {
    const data = new Uint8Array(randomBytes(100_000))
    const h = createIncrementalHash()
    h.update(data.subarray(0, 3))
    h.update(data.subarray(3))
    expect(h.digest()).toEqual(hash(data))
    expect(toHex(hash(data))).toBe('0x' + createHash('sha256').update(data).digest('hex'))
  })
})

describe('manifest shape', () => {
  it('rejects inconsistent manifests with INVALID_PARAMS', async () => {
    const { verifyManifestShape } = await import('../../../src/state/storage/computeChunkLeaves.ts')
    const { manifest } = encodeAsset(new Uint8Array(10_000), P)
    expect(() => verifyManifestShape(manifest)).not.toThrow()
    for (const bad of [
      { ...manifest, shardSize: manifest.shardSize + 1n },
      { ...manifest, k: 0 },
      { ...manifest, m: 300 },
      { ...manifest, shardHashes: manifest.shardHashes.slice(1) },
      { ...manifest, chunkSize: 0 },
      { ...manifest, segmentSize: 1, size: 1n << 20n, shardSize: 1n << 20n },
    ]) expect(() => verifyManifestShape(bad)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
  })
})
