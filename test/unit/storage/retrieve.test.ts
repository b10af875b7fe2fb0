import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { hash, utf8 } from '../../../src/crypto/index.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { type FetchShard, LatencyTracker, retrieve } from '../../../src/storage/retrieve.ts'

const P = { k: 4, m: 2, segmentSize: 8192, chunkSize: 512 }
const hosts = Array.from({ length: 6 }, (_, i) => hash(utf8(`host-${i}`)))

function setup(n = 30_000) {
  const data = new Uint8Array(randomBytes(n))
  const { manifest, shards } = encodeAsset(data, P)
  const calls: number[] = []
  return { data, manifest, shards, calls }
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(new Error('aborted')) })
})

describe('retrieve', () => {
  it('asks the fastest hosts first and stops at k good shards', async () => {
    const { data, manifest, shards, calls } = setup()
    const latency = new LatencyTracker()
    // hosts 0 and 1 were slow before: the read should use 2,3,4,5 and never ask 0 or 1.
    latency.record(hosts[0]!, 500)
    latency.record(hosts[1]!, 400)
    for (const i of [2, 3, 4, 5]) latency.record(hosts[i]!, 5)
    const fetch: FetchShard = async (host, index) => {
      calls.push(index)
      return shards[index]!
    }
    const out = await retrieve(manifest, hosts, fetch, { latency, extra: 0 })
    expect(out.data).toEqual(data)
    expect(calls.sort()).toEqual([2, 3, 4, 5])
    expect(out.used).toEqual([2, 3, 4, 5])
    expect(out.bad).toEqual([])
  })

  it('reports a host serving corrupt bytes and completes from the others', async () => {
    const { data, manifest, shards } = setup()
    const fetch: FetchShard = async (_host, index) => {
      if (index === 1) {
        const bad = shards[1]!.slice()
        bad[100]! ^= 0xff
        return bad
      }
      return index === 3 ? null : shards[index]!
    }
    const out = await retrieve(manifest, hosts, fetch, { extra: 0 })
    expect(out.data).toEqual(data)
    expect(out.bad).toEqual([
      { host: hosts[1], shardIndex: 1, reason: 'corrupt' },
      { host: hosts[3], shardIndex: 3, reason: 'missing' },
    ])
    expect(out.used).toEqual([0, 2, 4, 5])
  })

  it('a host that never answers does not hold up the read (long-tail cut-off) and is cancelled', async () => {
    const { data, manifest, shards } = setup()
    let aborted = false
    const fetch: FetchShard = async (_host, index, signal) => {
      if (index === 0) {
        await sleep(60_000, signal).catch(() => { aborted = true })
        return null
      }
      return shards[index]!
    }
    const started = Date.now()
    const out = await retrieve(manifest, hosts, fetch, { extra: 1 })
    expect(out.data).toEqual(data)
    expect(Date.now() - started).toBeLessThan(5_000)
    await sleep(10)
    expect(aborted).toBe(true)
  })

  it('hedging starts another request when a host stalls and no extra was started', async () => {
    const { data, manifest, shards } = setup()
    const fetch: FetchShard = async (_host, index, signal) => {
      if (index === 0) await sleep(60_000, signal)
      return shards[index]!
    }
    const out = await retrieve(manifest, hosts, fetch, { extra: 0, hedgeAfterMs: 20 })
    expect(out.data).toEqual(data)
    expect(out.used).not.toContain(0)
  })

  it('fewer than k good shards is TOO_FEW_SHARDS with the bad hosts listed', async () => {
    const { manifest, shards } = setup()
    const fetch: FetchShard = async (_host, index) => {
      if (index < 2) throw new Error('connection refused')
      if (index === 2) return shards[3]!
      return shards[index]!
    }
    await expect(retrieve(manifest, hosts, fetch)).rejects.toMatchObject({ code: 'TOO_FEW_SHARDS', details: { good: 3, needed: 4 } })
  })

  it('zero-byte assets need no host', async () => {
    const { manifest } = encodeAsset(new Uint8Array(0), P)
    const out = await retrieve(manifest, hosts, async () => { throw new Error('not called') })
    expect(out.data).toEqual(new Uint8Array(0))
  })
})
