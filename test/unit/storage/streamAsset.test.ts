import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import type { Address } from '../../../blocks/schema.ts'
import { ChunkLeafHasher } from '../../../src/storage/ChunkLeafHasher.ts'
import { type CodingParams, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { BlobError } from '../../../src/storage/errors.ts'
import { LEAF_PAGE_LEAVES } from '../../../src/storage/ShardStore.ts'
import { type ReadShardRange, streamAsset, type StreamAssetOpts } from '../../../src/storage/streamAsset.ts'

const P: CodingParams = { k: 4, m: 2, segmentSize: 4096, chunkSize: 256 }
const hosts: Address[] = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 1))
/** Two segments (1024 shard bytes each) per window. */
const WINDOW = 2048

type Behaviour = 'ok' | 'refuse' | { failFrom: number } | { flipAt: number } | { serve: Uint8Array } | { delayMs: number }
interface Served { shardIndex: number; offset: number; length: number }
/** Shard ranges from in-memory shards; a host may refuse, fail from some offset on, flip a byte, serve other bytes, or be slow. */
function serve(shards: Uint8Array[], behaviour: Behaviour[] = [], log: Served[] = []): ReadShardRange {
  return async (_host, i, offset, length) => {
    log.push({ shardIndex: i, offset, length })
    const b = behaviour[i] ?? 'ok'
    await Promise.resolve()
    if (b === 'refuse') throw new Error(`host ${i} is down`)
    if (typeof b === 'object' && 'failFrom' in b && offset >= b.failFrom) throw new Error(`host ${i} died`)
    if (typeof b === 'object' && 'delayMs' in b) await new Promise((r) => setTimeout(r, b.delayMs))
    const source = typeof b === 'object' && 'serve' in b ? b.serve : shards[i]!
    const out = source.slice(offset, offset + length)
    if (typeof b === 'object' && 'flipAt' in b && b.flipAt >= offset && b.flipAt < offset + length) out[b.flipAt - offset]! ^= 1
    return out
  }
}
const manifests = new Map<Uint8Array, ReturnType<typeof encodeAsset>['manifest']>()
async function read(data: Uint8Array, reader: ReadShardRange, opts: StreamAssetOpts = {}, got: Uint8Array[] = []): Promise<Uint8Array> {
  const manifest = manifests.get(data) ?? encodeAsset(data, P).manifest
  manifests.set(data, manifest)
  for await (const p of streamAsset(manifest, hosts, reader, { windowBytes: WINDOW, ...opts })) got.push(p)
  return new Uint8Array(Buffer.concat(got))
}
/** Byte equality by memcmp (vitest's toEqual walks a typed array element by element: seconds per MiB). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe('streamAsset: ranged windows from k+1 hosts, bounded memory', () => {
  const data = new Uint8Array(randomBytes(5 * 4096 + 123))
  const { shards } = encodeAsset(data, P)

  it('gives the exact bytes from the data shards plus one parity shard, one request per shard per window', async () => {
    const log: Served[] = []
    expect(await read(data, serve(shards, [], log))).toEqual(data)
    expect([...new Set(log.map((s) => s.shardIndex))].sort()).toEqual([0, 1, 2, 3, 4])
    // 6 segments of 1024 shard bytes (the last 31) in windows of two: 3 windows × 5 shards.
    expect(log.length).toBe(15)
    expect(log.every((s) => s.length <= WINDOW)).toBe(true)
  })

  it('reuses window buffers (the reader writes into `into`) without a yielded byte changing afterwards, even when a host is dropped mid-read', async () => {
    const big = new Uint8Array(randomBytes(40 * 4096 + 7))
    const bigShards = encodeAsset(big, P).shards
    const given = new Set<ArrayBufferLike>()
    // Honours `into` the way fetchShardRange does; host 1 serves a flipped byte in its third window, so its buffers leave the pool's rotation.
    const reader: ReadShardRange = async (_host, i, offset, length, into) => {
      await new Promise((r) => setTimeout(r, (i * 3 + offset) % 4))
      const out = into ?? new Uint8Array(length)
      if (into !== undefined) given.add(into.buffer)
      out.set(bigShards[i]!.subarray(offset, offset + length))
      if (i === 1 && offset === 2 * WINDOW) out[5]! ^= 1
      return out
    }
    const got: Uint8Array[] = []
    const copies: Uint8Array[] = []
    const manifest = encodeAsset(big, P).manifest
    for await (const chunk of streamAsset(manifest, hosts, reader, { windowBytes: WINDOW, depth: 3 })) {
      got.push(chunk)
      copies.push(chunk.slice())
    }
    // Every chunk still holds what it held when it was yielded, and the whole is the data.
    got.forEach((chunk, j) => expect(same(chunk, copies[j]!)).toBe(true))
    expect(same(new Uint8Array(Buffer.concat(got)), big)).toBe(true)
    // 20 windows × 5 shards read through far fewer buffers: they were reused.
    expect(given.size).toBeGreaterThan(0)
    expect(given.size).toBeLessThan(6 * 3 + 4)
  })

  it('random ranges equal the same bytes of the original and read only the windows they overlap', async () => {
    for (let t = 0; t < 25; t++) {
      const a = Math.floor(Math.random() * (data.length + 1))
      const b = Math.floor(Math.random() * (data.length + 1))
      const [start, end] = a <= b ? [a, b] : [b, a]
      const log: Served[] = []
      expect(await read(data, serve(shards, [], log), { start, end })).toEqual(data.subarray(start, end))
      const segments = start === end ? 0 : Math.floor((end - 1) / 4096) - Math.floor(start / 4096) + 1
      const windows = Math.ceil(segments / 2)
      expect(log.length).toBe(windows * 5)
    }
    for (const [start, end] of [[0, 1], [4095, 4097], [data.length - 1, data.length], [7, 7]] as const) {
      expect(await read(data, serve(shards), { start, end })).toEqual(data.subarray(start, end))
    }
  })

  it('two hosts down, or two dying mid-read, still give the exact bytes from the others', async () => {
    const bad: number[] = []
    expect(await read(data, serve(shards, ['refuse', 'ok', 'refuse']), { onBad: (r) => bad.push(r.shardIndex) })).toEqual(data)
    expect(bad.sort()).toEqual([0, 2])
    expect(await read(data, serve(shards, [{ failFrom: 1024 }, 'ok', 'ok', { failFrom: 3000 }]))).toEqual(data)
    expect(await read(data, serve(shards, ['ok', { failFrom: 2048 }, 'ok', 'ok', { failFrom: 0 }]), { start: 5000, end: 20000 })).toEqual(data.subarray(5000, 20000))
  })

  it('hosts failing for a moment (three at once, under load) are taken back and the read completes', async () => {
    const inner = serve(shards)
    const failedOnce = new Set<number>()
    const flaky: ReadShardRange = async (host, i, offset, length) => {
      if (i < 3 && !failedOnce.has(i)) {
        failedOnce.add(i)
        throw new Error(`host ${i} timed out`)
      }
      return inner(host, i, offset, length)
    }
    expect(await read(data, flaky)).toEqual(data)
  })

  it('three hosts down is UNAVAILABLE naming what was tried', async () => {
    const err = await failure(read(data, serve(shards, ['refuse', 'refuse', 'ok', 'refuse'])))
    if (!(err instanceof BlobError) || err.code !== 'UNAVAILABLE') throw err
    expect(err.details.tried.map((t) => t.shardIndex).sort()).toEqual([0, 1, 3])
  })

  it('a host serving wrong bytes is caught in the window it corrupts, dropped, and the read still returns the exact bytes', async () => {
    for (const [victim, at] of [[0, 10], [2, 3000], [4, 5100], [1, 5150]] as const) {
      const bad: { shardIndex: number; reason: string }[] = []
      expect(await read(data, serve(shards, Object.assign([], { [victim]: { flipAt: at } })), { onBad: (r) => bad.push(r) })).toEqual(data)
      expect(bad.map((b) => b.shardIndex)).toEqual([victim])
      expect(bad[0]!.reason).toMatch(/wrong bytes/)
      // and for a range inside the corrupted window
      expect(await read(data, serve(shards, Object.assign([], { [victim]: { flipAt: at } })), { start: 100, end: 9000 })).toEqual(data.subarray(100, 9000))
    }
  })

  it('two colluding hosts serving one consistent wrong codeword fail a whole read before the last window is released', async () => {
    const forged = data.slice()
    forged[10]! ^= 1
    const { shards: fake } = encodeAsset(forged, P)
    const got: Uint8Array[] = []
    const err = await failure(read(data, serve(shards, [{ serve: fake[0]! }, 'ok', 'ok', 'ok', { serve: fake[4]! }]), {}, got))
    expect((err as BlobError).code).toBe('VERIFY_FAILED')
    expect(Buffer.concat(got).length).toBeLessThan(data.length)
  })

  it('a host that stalls behind the rest of its window is replaced by the next shard', async () => {
    const bad: { shardIndex: number; reason: string }[] = []
    const t0 = Date.now()
    expect(await read(data, serve(shards, ['ok', { delayMs: 5_000 }]), { slowAfterMs: 100, onBad: (r) => bad.push(r) })).toEqual(data)
    expect(Date.now() - t0).toBeLessThan(4_000)
    expect(bad.map((b) => b.shardIndex)).toEqual([1])
    expect(bad[0]!.reason).toMatch(/slower/)
  })

  it('never has more than depth windows of requests out at once', async () => {
    let out = 0
    let peak = 0
    const inner = serve(shards)
    const counting: ReadShardRange = async (...args) => {
      out++
      peak = Math.max(peak, out)
      try {
        await new Promise((r) => setTimeout(r, 2))
        return await inner(...args)
      } finally {
        out--
      }
    }
    const big = new Uint8Array(randomBytes(40 * 4096))
    const enc = encodeAsset(big, P)
    const got: Uint8Array[] = []
    const inner2 = serve(enc.shards)
    let out2 = 0
    let peak2 = 0
    for await (const p of streamAsset(enc.manifest, hosts, async (...args) => {
      out2++
      peak2 = Math.max(peak2, out2)
      try {
        await new Promise((r) => setTimeout(r, 2))
        return await inner2(...args)
      } finally {
        out2--
      }
    }, { windowBytes: WINDOW, depth: 2 })) got.push(p)
    expect(same(new Uint8Array(Buffer.concat(got)), big)).toBe(true)
    expect(peak2).toBeLessThanOrEqual(2 * 5)
    expect(await read(data, counting, { depth: 1 })).toEqual(data)
    expect(peak).toBeLessThanOrEqual(5)
  })

  it('ranges outside the asset are BAD_RANGE; an empty asset reads as nothing', async () => {
    for (const [start, end] of [[-1, 3], [0, data.length + 1], [10, 5]] as const) {
      const err = await failure(read(data, serve(shards), { start, end }))
      expect((err as BlobError).code).toBe('BAD_RANGE')
    }
    expect(await read(new Uint8Array(0), serve([]))).toEqual(new Uint8Array(0))
  })

  describe('ranges checked page by page against the chunk roots', () => {
    // 512 KiB pages (8192 chunks of 64 bytes): shards of ~768 KiB have two pages; windows of one page.
    const Q: CodingParams = { k: 4, m: 2, segmentSize: 256 * 1024, chunkSize: 64 }
    const big = new Uint8Array(randomBytes(3 * (1 << 20) + 777))
    const enc = encodeAsset(big, Q)
    const pageBytes = LEAF_PAGE_LEAVES * Q.chunkSize
    const rootsOf = (shard: Uint8Array): Uint8Array => {
      const out: Uint8Array[] = []
      for (let at = 0; at < shard.length; at += pageBytes) {
        const h = new ChunkLeafHasher(Q.chunkSize)
        h.update(shard.subarray(at, at + pageBytes))
        out.push(h.finish())
      }
      return new Uint8Array(Buffer.concat(out))
    }
    const roots = enc.shards.map(rootsOf)
    const readBig = async (reader: ReadShardRange, opts: StreamAssetOpts): Promise<Uint8Array> => {
      const got: Uint8Array[] = []
      for await (const p of streamAsset(enc.manifest, hosts, reader, { windowBytes: 512 * 1024, readPageRoots: async (_h, i) => roots[i]!, ...opts })) got.push(p)
      return new Uint8Array(Buffer.concat(got))
    }

    it('a range reads k shards only, each piece checked; a host flipping a byte there is dropped and the range is still exact', async () => {
      const log: Served[] = []
      const [start, end] = [700_000, 2_300_000]
      expect(same(await readBig(serve(enc.shards, [], log), { start, end }), big.subarray(start, end))).toBe(true)
      expect([...new Set(log.map((s) => s.shardIndex))].sort()).toEqual([0, 1, 2, 3])
      // Requests cover whole pages (or run to the shard's end).
      expect(log.every((s) => s.offset % pageBytes === 0 && (s.length % pageBytes === 0 || s.offset + s.length === enc.shards[0]!.length))).toBe(true)
      const bad: { shardIndex: number; reason: string }[] = []
      expect(same(await readBig(serve(enc.shards, ['ok', 'ok', { flipAt: 600_000 }]), { start, end, onBad: (r) => bad.push(r) }), big.subarray(start, end))).toBe(true)
      expect(bad.map((b) => b.shardIndex)).toEqual([2])
      expect(bad[0]!.reason).toMatch(/chunk root/)
    })

    it('two colluding hosts serving one consistent forgery are both caught on a range (the k+1 check alone would pass them)', async () => {
      const forged = big.slice()
      // Segment 4's piece of shard 0 (a forgery of data shard 0 and parity shard 4 together).
      forged[4 * 256 * 1024 + 1000]! ^= 1
      const fake = encodeAsset(forged, Q).shards
      const bad: number[] = []
      const colluding = serve(enc.shards, [{ serve: fake[0]! }, 'ok', 'ok', 'ok', { serve: fake[4]! }])
      const [start, end] = [1_000_000, 1_200_000]
      expect(same(await readBig(colluding, { start, end, onBad: (r) => bad.push(r.shardIndex) }), big.subarray(start, end))).toBe(true)
      expect(bad).toContain(0)
      // Without page roots the same range passes the forgery: why ranges are checked page by page.
      const got: Uint8Array[] = []
      for await (const p of streamAsset(enc.manifest, hosts, colluding, { start, end, windowBytes: 512 * 1024 })) got.push(p)
      expect(same(new Uint8Array(Buffer.concat(got)), big.subarray(start, end))).toBe(false)
    })

    it('a whole read with one host down and one flipping a byte (too few to outvote) blames it by its pages and stays exact', async () => {
      const bad: number[] = []
      expect(same(await readBig(serve(enc.shards, ['ok', { flipAt: 300_000 }, 'ok', 'ok', 'ok', 'refuse']), { onBad: (r) => bad.push(r.shardIndex) }), big)).toBe(true)
      expect(bad.sort()).toEqual([1, 5])
      // Without page roots the same read cannot tell which shard lies: it fails rather than guess.
      const err = await failure((async () => {
        for await (const _ of streamAsset(enc.manifest, hosts, serve(enc.shards, ['ok', { flipAt: 300_000 }, 'ok', 'ok', 'ok', 'refuse']), { windowBytes: 512 * 1024 })) void _
      })())
      expect((err as BlobError).code).toBe('VERIFY_FAILED')
    })

    it('with exactly k hosts left each window is checked by its pages: a liar among them fails the read before any wrong byte is yielded', async () => {
      const got: Uint8Array[] = []
      const err = await failure((async () => {
        for await (const p of streamAsset(enc.manifest, hosts, serve(enc.shards, ['ok', { flipAt: 600_000 }, 'ok', 'ok', 'refuse', 'refuse']), { windowBytes: 512 * 1024, readPageRoots: async (_h, i) => roots[i]! })) got.push(p)
      })())
      expect((err as BlobError).code).toBe('UNAVAILABLE')
      const prefix = new Uint8Array(Buffer.concat(got))
      expect(same(prefix, big.subarray(0, prefix.length))).toBe(true)
    })

    it('page roots that do not fold to the chunk root drop that host', async () => {
      const bad: number[] = []
      const got: Uint8Array[] = []
      const lying = roots.map((r, i) => (i === 1 ? new Uint8Array(r.length) : r))
      for await (const p of streamAsset(enc.manifest, hosts, serve(enc.shards), { start: 10, end: 900_000, windowBytes: 512 * 1024, readPageRoots: async (_h, i) => lying[i]!, onBad: (r) => bad.push(r.shardIndex) })) got.push(p)
      expect(same(new Uint8Array(Buffer.concat(got)), big.subarray(10, 900_000))).toBe(true)
      expect(bad).toEqual([1])
    })
  })
})
