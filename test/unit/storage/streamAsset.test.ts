import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import type { Address } from '../../../blocks/schema.ts'
import { type CodingParams, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { BlobError } from '../../../src/storage/errors.ts'
import { type OpenShardStream, streamAsset, type StreamAssetOpts } from '../../../src/storage/streamAsset.ts'

const P: CodingParams = { k: 4, m: 2, segmentSize: 4096, chunkSize: 256 }
const hosts: Address[] = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 1))

type Behaviour = 'ok' | 'refuse' | { failAfter: number } | { flip: number }
/** Shards served in odd-sized chunks; a host may refuse, die after some bytes, or flip a byte. */
function serve(shards: Uint8Array[], behaviour: Behaviour[] = [], opened: number[] = []): OpenShardStream {
  return async function* (_host, i, signal) {
    opened.push(i)
    const b = behaviour[i] ?? 'ok'
    if (b === 'refuse') throw new Error(`host ${i} is down`)
    const shard = typeof b === 'object' && 'flip' in b ? shards[i]!.slice() : shards[i]!
    if (typeof b === 'object' && 'flip' in b) shard[b.flip]! ^= 1
    for (let at = 0, step = 333; at < shard.length; at += step, step = step === 333 ? 1000 : 333) {
      if (signal.aborted) return
      if (typeof b === 'object' && 'failAfter' in b && at >= b.failAfter) throw new Error(`host ${i} died`)
      await Promise.resolve()
      yield shard.subarray(at, Math.min(shard.length, at + step))
    }
  }
}
async function read(data: Uint8Array, open: OpenShardStream, opts: StreamAssetOpts = {}, got: Uint8Array[] = []): Promise<Uint8Array> {
  const { manifest } = encodeAsset(data, P)
  for await (const p of streamAsset(manifest, hosts, open, opts)) got.push(p)
  return new Uint8Array(Buffer.concat(got))
}

describe('streamAsset: read back from hosts with bounded memory', () => {
  const data = new Uint8Array(randomBytes(5 * 4096 + 123))
  const { shards } = encodeAsset(data, P)

  it('gives the exact bytes, whole and for ranges, from data shards only when all answer', async () => {
    const opened: number[] = []
    expect(await read(data, serve(shards, [], opened))).toEqual(data)
    expect(opened).toEqual([0, 1, 2, 3])
    for (const [start, end] of [[0, 1], [4095, 4097], [100, 9000], [data.length - 1, data.length], [7, 7], [0, data.length]] as const) {
      expect(await read(data, serve(shards), { start, end })).toEqual(data.subarray(start, end))
    }
  })

  it('two hosts down, or two dying mid-stream, still rebuild the exact bytes from parity', async () => {
    const bad: number[] = []
    expect(await read(data, serve(shards, ['refuse', 'ok', 'refuse']), { onBad: (r) => bad.push(r.shardIndex) })).toEqual(data)
    expect(bad.sort()).toEqual([0, 2])
    expect(await read(data, serve(shards, [{ failAfter: 1500 }, 'ok', 'ok', { failAfter: 3000 }]))).toEqual(data)
    expect(await read(data, serve(shards, ['ok', { failAfter: 2000 }, 'ok', 'ok', { failAfter: 10 }]), { start: 5000, end: 15000 })).toEqual(data.subarray(5000, 15000))
  })

  it('three hosts down is UNAVAILABLE naming what was tried', async () => {
    const err = await read(data, serve(shards, ['refuse', 'refuse', 'ok', 'refuse'])).then(() => undefined, (e: unknown) => e)
    if (!(err instanceof BlobError) || err.code !== 'UNAVAILABLE') throw err
    expect(err.details.tried.map((t) => t.shardIndex).sort()).toEqual([0, 1, 3])
  })

  it('a host serving a flipped byte fails the read before the last bytes are released', async () => {
    const got: Uint8Array[] = []
    const err = await read(data, serve(shards, [{ flip: 10 }]), {}, got).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(BlobError)
    expect((err as BlobError).code).toBe('VERIFY_FAILED')
    expect(Buffer.concat(got).length).toBeLessThan(data.length)
    // Even a one-byte range is held back until the whole asset checked out.
    const one: Uint8Array[] = []
    await read(data, serve(shards, [{ flip: 5000 }]), { start: 0, end: 1 }, one).catch(() => undefined)
    expect(one).toEqual([])
  })

  it('ranges outside the asset are BAD_RANGE; an empty asset reads as nothing', async () => {
    for (const [start, end] of [[-1, 3], [0, data.length + 1], [10, 5]] as const) {
      const err = await read(data, serve(shards), { start, end }).then(() => undefined, (e: unknown) => e)
      expect((err as BlobError).code).toBe('BAD_RANGE')
    }
    expect(await read(new Uint8Array(0), serve([]))).toEqual(new Uint8Array(0))
  })
})
