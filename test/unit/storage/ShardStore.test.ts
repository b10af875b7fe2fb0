import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { equalBytes, hash, leafHash, utf8, verifyMerkleProof } from '../../../src/crypto/index.ts'
import { computeChunkCount } from '../../../src/state/storage/computeChunkLeaves.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { LEAF_PAGE_LEAVES, PIECE_BYTES, ShardStore } from '../../../src/storage/ShardStore.ts'

const dirs: string[] = []
const stores: ShardStore[] = []
async function openStore(capacityBytes: bigint, dir = mkdtempSync(join(tmpdir(), 'xsc-shards-'))): Promise<ShardStore> {
  dirs.push(dir)
  const s = await ShardStore.open(dir, { capacityBytes })
  stores.push(s)
  return s
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const P = { k: 4, m: 2, segmentSize: 64 * 1024, chunkSize: 1000 }
const asset = hash(utf8('asset-1'))

describe('ShardStore (classic-level)', () => {
  it('puts, gets, lists and deletes shards with usage accounting', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(300_000)), P)
    const store = await openStore(10_000_000n)
    await store.put(manifest, asset, 0, shards[0]!)
    await store.put(manifest, asset, 5, shards[5]!)
    await store.put(manifest, asset, 5, shards[5]!) // idempotent
    expect(store.usage().usedBytes).toBe(2n * manifest.shardSize)
    expect(await store.get(asset, 0)).toEqual(shards[0])
    expect(await store.get(asset, 1)).toBeNull()
    expect(await store.getRange(asset, 5, 10, 100)).toEqual(shards[5]!.subarray(10, 110))
    expect((await store.list()).map((s) => s.shardIndex)).toEqual([0, 5])
    expect(await store.delete(asset, 0)).toBe(true)
    expect(await store.delete(asset, 0)).toBe(false)
    expect(store.usage().usedBytes).toBe(manifest.shardSize)
    expect(await store.get(asset, 0)).toBeNull()
  })

  it('keeps shards larger than one piece intact', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(3 * PIECE_BYTES * 4 + 17)), { ...P, segmentSize: 1 << 20 })
    const store = await openStore(1n << 30n)
    await store.put(manifest, asset, 2, shards[2]!)
    expect(equalBytes((await store.get(asset, 2))!, shards[2]!)).toBe(true)
    const at = PIECE_BYTES - 5
    expect(await store.getRange(asset, 2, at, 20)).toEqual(shards[2]!.subarray(at, at + 20))
  })

  it('refuses a shard whose hash or size does not match the manifest', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(5000)), P)
    const store = await openStore(1_000_000n)
    const bad = shards[1]!.slice()
    bad[0]! ^= 1
    await expect(store.put(manifest, asset, 1, bad)).rejects.toMatchObject({ code: 'SHARD_HASH_MISMATCH' })
    await expect(store.put(manifest, asset, 1, shards[1]!.subarray(1))).rejects.toMatchObject({ code: 'SHARD_SIZE_MISMATCH' })
    await expect(store.put(manifest, asset, 2, shards[1]!)).rejects.toMatchObject({ code: 'SHARD_HASH_MISMATCH' })
    expect(await store.list()).toEqual([])
    expect(store.usage().usedBytes).toBe(0n)
  })

  it('a full store rejects with STORE_FULL and keeps what it had', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(40_000)), P)
    const store = await openStore(manifest.shardSize * 2n)
    await store.put(manifest, asset, 0, shards[0]!)
    await store.put(manifest, asset, 1, shards[1]!)
    await expect(store.put(manifest, asset, 2, shards[2]!)).rejects.toMatchObject({ code: 'STORE_FULL' })
    expect(store.usage().usedBytes).toBe(manifest.shardSize * 2n)
    expect(await store.get(asset, 0)).toEqual(shards[0])
    expect(await store.get(asset, 1)).toEqual(shards[1])
    expect(await store.get(asset, 2)).toBeNull()
  })

  it('concurrent puts never exceed capacity', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(40_000)), P)
    const store = await openStore(manifest.shardSize * 3n)
    const results = await Promise.allSettled(shards.map((s, i) => store.put(manifest, asset, i, s)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    expect(store.usage().usedBytes).toBe(manifest.shardSize * 3n)
    expect(await store.list()).toHaveLength(3)
  })

  it('drain mode refuses new shards but keeps serving, and survives a reopen with usage', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(20_000)), P)
    const dir = mkdtempSync(join(tmpdir(), 'xsc-shards-'))
    const store = await openStore(1_000_000n, dir)
    await store.put(manifest, asset, 0, shards[0]!)
    await store.setDraining(true)
    await expect(store.put(manifest, asset, 1, shards[1]!)).rejects.toMatchObject({ code: 'STORE_DRAINING' })
    expect(await store.get(asset, 0)).toEqual(shards[0])
    await store.close()
    const again = await openStore(1_000_000n, dir)
    expect(again.usage()).toEqual({ usedBytes: manifest.shardSize, capacityBytes: 1_000_000n, draining: true })
    expect(await again.get(asset, 0)).toEqual(shards[0])
  })

  it('a second open of the same directory is STORE_LOCKED; a closed store is STORE_CLOSED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsc-shards-'))
    const store = await openStore(1000n, dir)
    await expect(ShardStore.open(dir, { capacityBytes: 1000n })).rejects.toMatchObject({ code: 'STORE_LOCKED' })
    await store.close()
    await expect(store.get(asset, 0)).rejects.toMatchObject({ code: 'STORE_CLOSED' })
  })

  it('proves any chunk with a Merkle path to the manifest chunk root', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(50_001)), P)
    const store = await openStore(1_000_000n)
    await store.put(manifest, asset, 3, shards[3]!)
    const count = computeChunkCount(manifest.shardSize, manifest.chunkSize)
    for (const index of [0, 1, count - 1]) {
      const { chunk, path } = await store.proveChunk(asset, 3, index)
      expect(chunk).toEqual(shards[3]!.subarray(index * 1000, (index + 1) * 1000))
      expect(verifyMerkleProof(manifest.chunkRoots[3]!, leafHash(chunk), index, count, path)).toBe(true)
    }
    await expect(store.proveChunk(asset, 3, count)).rejects.toMatchObject({ code: 'CHUNK_OUT_OF_RANGE' })
    await expect(store.proveChunk(asset, 4, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})

describe('ShardStore streaming', () => {
  const big = { k: 4, m: 2, segmentSize: 1 << 20, chunkSize: 4096 }
  function* parts(bytes: Uint8Array, size: number): Generator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
  }
  async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const out: Uint8Array[] = []
    for await (const p of it) out.push(p.slice())
    return new Uint8Array(Buffer.concat(out))
  }

  it('putStream stores a multi-piece shard arriving in odd-sized parts; getStream serves it', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(5 * PIECE_BYTES + 12345)), big)
    const store = await openStore(1n << 30n)
    await store.putStream(manifest, asset, 1, parts(shards[1]!, 77_777))
    expect(store.usage().usedBytes).toBe(manifest.shardSize)
    expect(equalBytes((await store.get(asset, 1))!, shards[1]!)).toBe(true)
    expect(equalBytes(await collect(store.getStream(asset, 1)), shards[1]!)).toBe(true)
    const proof = await store.proveChunk(asset, 1, 3)
    expect(equalBytes(proof.chunk, shards[1]!.subarray(3 * 4096, 4 * 4096))).toBe(true)
  })

  it('proves chunks across several leaf pages, for put and putStream alike, and delete leaves no page behind', async () => {
    // 16-byte chunks: a ~200 KB shard has ~12.5k leaves, i.e. two leaf pages (the second partial).
    const small = { k: 4, m: 2, segmentSize: 1 << 20, chunkSize: 16 }
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(800_003)), small)
    const count = computeChunkCount(manifest.shardSize, manifest.chunkSize)
    expect(count).toBeGreaterThan(LEAF_PAGE_LEAVES)
    const store = await openStore(1n << 30n)
    await store.put(manifest, asset, 0, shards[0]!)
    await store.putStream(manifest, asset, 5, parts(shards[5]!, 9_999))
    for (const i of [0, 5]) {
      for (const index of [0, LEAF_PAGE_LEAVES - 1, LEAF_PAGE_LEAVES, count - 1]) {
        const { chunk, path } = await store.proveChunk(asset, i, index)
        expect(chunk).toEqual(shards[i]!.subarray(index * 16, (index + 1) * 16))
        expect(verifyMerkleProof(manifest.chunkRoots[i]!, leafHash(chunk), index, count, path)).toBe(true)
      }
    }
    await store.delete(asset, 0)
    await store.delete(asset, 5)
    expect(await store.sweepOrphanPieces()).toBe(0)
  })

  it('a stream with wrong bytes or length is refused and leaves nothing behind', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(3 * PIECE_BYTES)), big)
    const store = await openStore(1n << 30n)
    const bad = shards[0]!.slice()
    bad[bad.length - 1]! ^= 1
    await expect(store.putStream(manifest, asset, 0, parts(bad, 100_000))).rejects.toMatchObject({ code: 'SHARD_HASH_MISMATCH' })
    await expect(store.putStream(manifest, asset, 0, parts(shards[0]!.subarray(1), 100_000))).rejects.toMatchObject({ code: 'SHARD_SIZE_MISMATCH' })
    await expect(store.putStream(manifest, asset, 0, [shards[0]!, new Uint8Array(1)])).rejects.toMatchObject({ code: 'SHARD_SIZE_MISMATCH' })
    expect(store.usage().usedBytes).toBe(0n)
    expect(await store.get(asset, 0)).toBeNull()
    await store.putStream(manifest, asset, 0, parts(shards[0]!, 100_000))
    expect(equalBytes((await store.get(asset, 0))!, shards[0]!)).toBe(true)
  })

  it('streams in flight reserve capacity, so two cannot overfill the store', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(2 * PIECE_BYTES)), big)
    const store = await openStore(manifest.shardSize + 10n)
    const results = await Promise.allSettled([
      store.putStream(manifest, asset, 0, parts(shards[0]!, 50_000)),
      store.putStream(manifest, asset, 1, parts(shards[1]!, 50_000)),
      store.put(manifest, asset, 2, shards[2]!),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected'])
    expect(store.usage().usedBytes).toBe(manifest.shardSize)
  })
})

describe('ShardStore crash recovery', () => {
  it('pieces without a shard record (a crash mid-stream) are swept on open; held shards are kept', async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(2 * PIECE_BYTES)), { k: 4, m: 2, segmentSize: 1 << 20, chunkSize: 4096 })
    const dir = mkdtempSync(join(tmpdir(), 'xsc-shards-'))
    const store = await openStore(1n << 30n, dir)
    await store.put(manifest, asset, 0, shards[0]!)
    await store.close()
    const { ClassicLevel } = await import('classic-level')
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await raw.open()
    const orphan = (p: number) => { const k = new Uint8Array(38); k[0] = 0x02; k.set(asset, 1); k[33] = 3; new DataView(k.buffer).setUint32(34, p); return k }
    await raw.batch([0, 1, 2].map((p) => ({ type: 'put' as const, key: orphan(p), value: new Uint8Array(10) })))
    await raw.close()
    const again = await openStore(1n << 30n, dir)
    expect(await again.sweepOrphanPieces()).toBe(0) // already swept by open
    expect(equalBytes((await again.get(asset, 0))!, shards[0]!)).toBe(true)
    await again.close()
    const check = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await check.open()
    expect(await check.get(orphan(0))).toBeUndefined()
    await check.close()
  })
})
