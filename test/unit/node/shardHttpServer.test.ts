import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { Address, Hash } from '../../../blocks/schema.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { type ShardHttpLimits, type ShardHttpServer, type ShardHttpSource, startShardHttpServer } from '../../../src/node/shardHttpServer.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { ShardFetchError, ShardHttpReader, urlMatchesMultiaddr } from '../../../src/storage/shardHttpReader.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'
import { streamAsset } from '../../../src/storage/streamAsset.ts'
import { slowlorisClosedAfter } from '../../support/slowloris.ts'

const P = { k: 4, m: 2, segmentSize: 64 * 1024, chunkSize: 1024 }
const asset = hash(utf8('http-asset'))
const data = new Uint8Array(randomBytes(4 * 1024 * 1024 + 333))
const { manifest, shards } = encodeAsset(data, P)
const shardSize = Number(manifest.shardSize)
const hosts: Address[] = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(i + 1))

let dir: string
let store: ShardStore
const servers: ShardHttpServer[] = []
/** Shards the "chain" still places here: a test removes one to play a deleted asset. */
const active = new Set<string>()
const key = (a: Hash, i: number): string => `${toHex(a)}/${i}`

/** The store gated by `active`, as the host role gates it by the chain's placement. */
function storeSource(flipShard?: number, gate?: Promise<void>): ShardHttpSource {
  return {
    servable: async (a, i) => (active.has(key(a, i)) && (await store.has(a, i)) ? shardSize : undefined),
    readRange: async (a, i, offset, length) => {
      await gate
      const parts = await store.getRangeParts(a, i, offset, length)
      // A lying host: one byte of every answer flipped.
      if (i === flipShard) return parts.map((p, j) => (j === 0 ? Uint8Array.from(p, (b, x) => (x === 0 ? b ^ 1 : b)) : p))
      return parts
    },
    pageRoots: (a, i) => store.pageRoots(a, i),
  }
}

async function start(limits: Partial<ShardHttpLimits> = {}, flipShard?: number, gate?: Promise<void>): Promise<ShardHttpServer> {
  const s = await startShardHttpServer(storeSource(flipShard, gate), { host: '127.0.0.1', port: 0 }, limits)
  servers.push(s)
  return s
}

const shardUrl = (s: ShardHttpServer, i: number, a: Hash = asset): string => `${s.url}/shards/${toHex(a).slice(2)}/${i}`
async function errorOf(res: Response): Promise<{ status: number; code: string }> {
  expect(res.headers.get('content-type')).toBe('application/json')
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xsc-shard-http-'))
  store = await ShardStore.open(dir, { capacityBytes: 1n << 30n })
  for (let i = 0; i < 6; i++) {
    await store.put(manifest, asset, i, shards[i]!)
    active.add(key(asset, i))
  }
})
afterAll(async () => {
  for (const s of servers) await s.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('shard HTTP server: windows of held shards over plain HTTP', () => {
  it('serves a Range window (206) and page roots, byte for byte what the store holds', async () => {
    const s = await start()
    const res = await fetch(shardUrl(s, 2), { headers: { range: 'bytes=1000-300999' } })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes 1000-300999/${shardSize}`)
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(shards[2]!.subarray(1000, 301000)))).toBe(true)
    const reader = new ShardHttpReader()
    try {
      const into = new Uint8Array(70_000)
      const got = await reader.readRange(s.url, asset, 5, shardSize - 70_000, 70_000, into)
      expect(got.buffer).toBe(into.buffer)
      expect(Buffer.from(got).equals(Buffer.from(shards[5]!.subarray(shardSize - 70_000)))).toBe(true)
      expect((await reader.pageRoots(s.url, asset, 1)).length % 32).toBe(0)
    } finally {
      reader.close()
    }
  })

  it('a whole asset read through streamAsset over six servers equals the data; a lying server is caught and another shard used', async () => {
    const honest = await start()
    const liar = await start({}, 1)
    const urls = hosts.map((_, i) => (i === 1 ? liar.url : honest.url))
    const reader = new ShardHttpReader()
    const bad: number[] = []
    try {
      const parts: Uint8Array[] = []
      for await (const p of streamAsset(manifest, hosts, (_h, i, offset, length, into) => reader.readRange(urls[i]!, asset, i, offset, length, into), { windowBytes: 256 * 1024, onBad: (r) => bad.push(r.shardIndex) })) parts.push(p.slice())
      expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true)
      expect(bad).toEqual([1])
    } finally {
      reader.close()
    }
  })

  it('bad paths, ids, indices and ranges get typed 4xx JSON errors', async () => {
    const s = await start()
    expect(await errorOf(await fetch(`${s.url}/etc/passwd`))).toEqual({ status: 400, code: 'BAD_PATH' })
    expect(await errorOf(await fetch(`${s.url}/shards/zz/1`))).toEqual({ status: 400, code: 'BAD_PATH' })
    expect(await errorOf(await fetch(`${s.url}/shards/${'ab'.repeat(32)}/1`))).toEqual({ status: 404, code: 'NOT_FOUND' })
    expect(await errorOf(await fetch(`${s.url}/shards/${toHex(asset).slice(2)}/999`))).toEqual({ status: 404, code: 'NOT_FOUND' })
    expect(await errorOf(await fetch(shardUrl(s, 0), { headers: { range: `bytes=0-${shardSize}` } }))).toEqual({ status: 416, code: 'BAD_RANGE' })
    expect(await errorOf(await fetch(shardUrl(s, 0), { headers: { range: 'bytes=5-2' } }))).toEqual({ status: 416, code: 'BAD_RANGE' })
    expect(await errorOf(await fetch(shardUrl(s, 0), { headers: { range: 'bytes=0-1,5-9' } }))).toEqual({ status: 416, code: 'BAD_RANGE' })
    expect(await errorOf(await fetch(shardUrl(s, 0), { method: 'POST', body: 'x' }))).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED' })
    const reader = new ShardHttpReader()
    try {
      const err = await reader.readRange(s.url, hash(utf8('nope')), 0, 0, 10).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ShardFetchError)
      expect(err).toMatchObject({ code: 'HTTP_STATUS', details: { status: 404, remoteCode: 'NOT_FOUND' } })
    } finally {
      reader.close()
    }
  })

  it('attack: one request for a huge range is refused (a host never queues more than maxRangeBytes for one request)', async () => {
    const s = await start({ maxRangeBytes: 256 * 1024 })
    expect(await errorOf(await fetch(shardUrl(s, 0)))).toEqual({ status: 413, code: 'RANGE_TOO_LARGE' })
    expect(await errorOf(await fetch(shardUrl(s, 0), { headers: { range: 'bytes=0-' } }))).toEqual({ status: 413, code: 'RANGE_TOO_LARGE' })
    expect((await fetch(shardUrl(s, 0), { headers: { range: `bytes=0-${256 * 1024 - 1}` } })).status).toBe(206)
  })

  it("attack: a deleted (or moved) asset's shards are not served, even while still on disk", async () => {
    const s = await start()
    expect((await fetch(shardUrl(s, 3), { headers: { range: 'bytes=0-9' } })).status).toBe(206)
    active.delete(key(asset, 3))
    try {
      expect(await errorOf(await fetch(shardUrl(s, 3), { headers: { range: 'bytes=0-9' } }))).toEqual({ status: 404, code: 'NOT_FOUND' })
      expect(await errorOf(await fetch(`${shardUrl(s, 3)}/roots`))).toEqual({ status: 404, code: 'NOT_FOUND' })
    } finally {
      active.add(key(asset, 3))
    }
  })

  it('attack: one address opening many requests at once gets 429 beyond its cap', async () => {
    // A slow disk (the gate) keeps the first requests in flight while the rest arrive.
    let open = (): void => undefined
    const s = await start({ maxConcurrentPerIp: 3 }, undefined, new Promise<void>((r) => (open = r)))
    const unstick = setTimeout(() => open(), 3_000)
    let refused = 0
    const statuses = await Promise.all(Array.from({ length: 8 }, async () => {
      const res = await fetch(shardUrl(s, 0), { headers: { range: 'bytes=0-65535' } })
      if (res.status === 429 && ++refused === 5) open()
      await res.arrayBuffer()
      return res.status
    }))
    clearTimeout(unstick)
    expect(statuses.filter((x) => x === 206).length).toBeLessThanOrEqual(3)
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(5)
  })

  it('attack: many addresses together are capped too (503 BUSY beyond maxConcurrent)', async () => {
    let open = (): void => undefined
    const s = await start({ maxConcurrent: 2, maxConcurrentPerIp: 10 }, undefined, new Promise<void>((r) => (open = r)))
    const unstick = setTimeout(() => open(), 3_000)
    let refused = 0
    const statuses = await Promise.all(Array.from({ length: 5 }, async () => {
      const res = await fetch(shardUrl(s, 0), { headers: { range: 'bytes=0-9' } })
      if (res.status === 503 && ++refused === 3) open()
      await res.arrayBuffer()
      return res.status
    }))
    clearTimeout(unstick)
    expect(statuses.filter((x) => x === 503)).toHaveLength(3)
  })

  it('attack: a large range is read from the store a step at a time, never held whole', async () => {
    const asked: number[] = []
    const source = storeSource()
    const s = await startShardHttpServer({ ...source, readRange: (a, i, offset, length) => (asked.push(length), source.readRange(a, i, offset, length)) }, { host: '127.0.0.1', port: 0 })
    servers.push(s)
    const res = await fetch(shardUrl(s, 4), { headers: { range: `bytes=0-${shardSize - 1}` } })
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(shards[4]!))).toBe(true)
    expect(shardSize).toBeGreaterThan(1024 * 1024)
    expect(Math.max(...asked)).toBeLessThanOrEqual(1024 * 1024)
  })

  it('attack: one address is sent at most its byte budget per second, however many windows it asks', async () => {
    const s = await start({ bytesPerSecondPerIp: 2 * 1024 * 1024 })
    const t = performance.now()
    // Three whole shards (3.15 MiB) at 2 MiB/s with a one-second burst: at least 0.57 s (loopback without the cap: a few ms).
    await Promise.all([0, 1, 2].map(async (i) => (await fetch(shardUrl(s, i), { headers: { range: `bytes=0-${shardSize - 1}` } })).arrayBuffer()))
    expect(3 * shardSize).toBeGreaterThan(3 * 1024 * 1024)
    expect(performance.now() - t).toBeGreaterThan(450)
  })

  it('attack (slowloris): a connection that never finishes its headers is closed after headersTimeoutMs', async () => {
    const s = await start({ headersTimeoutMs: 400, requestTimeoutMs: 800 })
    const closedAfter = await slowlorisClosedAfter(s.port, 'GET /shards/')
    expect(closedAfter).toBeLessThan(3_000)
  })
})

describe('ShardHttpReader keep-alive', () => {
  // A reader that kept an idle socket until the server closed it could send a request just as it did (ECONNRESET): it
  // closes the socket by the server's Keep-Alive hint instead (node:http's agent applies a hint only with a timeout of
  // its own), before the server's timer.
  it('closes an idle kept-alive socket by the server\'s Keep-Alive hint, before the server does', async () => {
    let connections = 0
    const server = createServer({ keepAliveTimeout: 2_000 }, (_req, res) => {
      res.writeHead(206, { 'content-length': '4' })
      res.end(Buffer.from([1, 2, 3, 4]))
    })
    server.on('connection', () => connections++)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const reader = new ShardHttpReader()
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await reader.readRange(base, asset, 0, 0, 4)
      // The socket goes back to the agent's free list just after the answer ends.
      await new Promise((r) => setTimeout(r, 50))
      await reader.readRange(base, asset, 0, 0, 4)
      expect(connections).toBe(1)
      // The hint says 2 s; node:http's agent closes 1 s before a hint, node:http's server at the hint: at 1.5 s the
      // reader has closed its socket and the server not yet.
      await new Promise((r) => setTimeout(r, 1_500))
      expect([...(await reader.readRange(base, asset, 0, 0, 4))]).toEqual([1, 2, 3, 4])
      expect(connections).toBe(2)
    } finally {
      reader.close()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })
})

describe('urlMatchesMultiaddr: a host URL is followed only to the IP the chain names', () => {
  it('accepts the same IP, refuses another IP, a path or credentials', () => {
    expect(urlMatchesMultiaddr('http://127.0.0.1:4002', '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW')).toBe(true)
    expect(urlMatchesMultiaddr('http://10.0.0.9:4002', '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW')).toBe(false)
    expect(urlMatchesMultiaddr('http://127.0.0.1:4002/admin', '/ip4/127.0.0.1/tcp/4001/p2p/x')).toBe(false)
    expect(urlMatchesMultiaddr('http://u:p@127.0.0.1:4002', '/ip4/127.0.0.1/tcp/4001/p2p/x')).toBe(false)
    expect(urlMatchesMultiaddr('http://[::1]:4002', '/ip6/::1/tcp/4001/p2p/x')).toBe(true)
    expect(urlMatchesMultiaddr('http://127.0.0.1:4002', '/dns4/example.com/tcp/4001/p2p/x')).toBe(false)
  })
})

