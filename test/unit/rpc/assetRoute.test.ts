import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { Manifest } from '../../../blocks/schema.ts'
import { type Client, createClient, getAssetData, getAssetDataStream, http, RpcClientError } from '../../../src/client/index.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import type { AssetSource } from '../../../src/rpc/assetRoute.ts'
import { type RpcServer, startRpcServer } from '../../../src/rpc/server.ts'
import { encryptBlob } from '../../../src/storage/blobCipher.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { BlobError } from '../../../src/storage/errors.ts'
import { streamAsset } from '../../../src/storage/streamAsset.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { MemoryBackend } from './memoryBackend.ts'
import { sampleAsset } from './rpcTestKit.ts'

/**
 * GET /assets/<id> on a real HTTP server and the typed client reading it, over the real
 * streamAsset; the hosts are in-memory shard arrays (the six-process test in
 * test/integration/storage/readBack.test.ts runs the same over libp2p).
 */
const owner = testKey('route-owner')
const stranger = testKey('route-stranger')
const coding = { k: 4, m: 2, segmentSize: 64 * 1024, chunkSize: 4096 }
const hosts = Array.from({ length: 6 }, (_, i) => hash(utf8(`route-host-${i}`)))

interface Stored { manifest: Manifest; shards: Uint8Array[] }
const stored = new Map<string, Stored>()
const down = new Set<number>()
const backend = new MemoryBackend({ allocations: [] })
let server: RpcServer
let client: Client

const source: AssetSource = {
  async open(id) {
    const s = stored.get(toHex(id))
    if (s === undefined) return undefined
    return {
      manifest: s.manifest,
      read: (start, end) => streamAsset(s.manifest, hosts, async (_host, i, offset, length) => {
        if (down.has(i)) throw new Error('host down')
        return s.shards[i]!.slice(offset, offset + length)
      }, { start, end }),
    }
  },
  async shardUrls(id) {
    return stored.has(toHex(id)) ? hosts.map((_, i) => (i === 5 ? null : `http://127.0.0.1:${4100 + i}`)) : undefined
  },
}

function store(name: string, bytes: Uint8Array): Uint8Array {
  const { manifest, shards } = encodeAsset(bytes, coding)
  const info = sampleAsset(owner.publicKey, hosts)
  const id = hash(utf8(name))
  backend.addAsset({ ...info, id, record: { ...info.record, manifest } })
  stored.set(toHex(id), { manifest, shards })
  return id
}

const plain = new Uint8Array(randomBytes(300 * 1024 + 5))
let privateId: Uint8Array
let publicId: Uint8Array
let url: (id: Uint8Array) => string

beforeAll(async () => {
  server = await startRpcServer({}, { backend, assets: source })
  client = createClient({ transport: http(server.url) })
  privateId = store('private', await encryptBlob(plain, owner))
  publicId = store('public', plain)
  url = (id) => `${server.url}/assets/${toHex(id)}`
})
afterAll(async () => {
  await client?.close()
  await server?.close()
})

describe('GET /assets/<id> and getAssetData', () => {
  it('a private blob comes back as plaintext only with the owner key', async () => {
    expect(await getAssetData(client, { id: privateId, key: owner })).toEqual(plain)
    const raw = await getAssetDataStream(client, { id: privateId })
    const parts: Uint8Array[] = []
    for await (const p of raw.data) parts.push(p)
    expect(raw.encrypted()).toBe(true)
    expect(Buffer.concat(parts).length).toBe(Number(raw.manifest.size))
    const err = await getAssetData(client, { id: privateId, key: stranger }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(BlobError)
    expect((err as BlobError).code).toBe('AUTH_FAILED')
  })

  it('serves whole, ranged, suffix and HEAD requests with the right status and headers', async () => {
    const whole = await fetch(url(publicId))
    expect(whole.status).toBe(200)
    expect(whole.headers.get('content-length')).toBe(String(plain.length))
    expect(whole.headers.get('etag')).toBe(`"${toHex(hash(plain))}"`)
    expect(Buffer.from(await whole.arrayBuffer()).equals(plain)).toBe(true)
    const part = await fetch(url(publicId), { headers: { range: 'bytes=70000-200000' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 70000-200000/${plain.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(plain.subarray(70000, 200001))).toBe(true)
    expect(await getAssetData(client, { id: publicId, range: { start: 5, end: 70 } })).toEqual(plain.subarray(5, 70))
    const open = await fetch(url(publicId), { headers: { range: `bytes=${plain.length - 3}-` } })
    expect(Buffer.from(await open.arrayBuffer()).equals(plain.subarray(plain.length - 3))).toBe(true)
    const head = await fetch(url(publicId), { method: 'HEAD' })
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(plain.length)])
    // Several ranges are not supported: the whole asset, as RFC 9110 allows.
    const multi = await fetch(url(publicId), { headers: { range: 'bytes=0-1,5-6' } })
    expect(multi.status).toBe(200)
    await multi.arrayBuffer()
  })

  it('GET /assets/<id>/hosts names each placement slot\'s shard HTTP URL (null when none); 404 for an unknown asset', async () => {
    const res = await fetch(`${url(publicId)}/hosts`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ shardUrls: ['http://127.0.0.1:4100', 'http://127.0.0.1:4101', 'http://127.0.0.1:4102', 'http://127.0.0.1:4103', 'http://127.0.0.1:4104', null] })
    const unknown = await fetch(`${url(hash(utf8('nope')))}/hosts`)
    expect(unknown.status).toBe(404)
    await unknown.arrayBuffer()
  })

  it('416 past the end, 404 for an unknown asset, 400 for a malformed id', async () => {
    const past = await fetch(url(publicId), { headers: { range: `bytes=${plain.length}-` } })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${plain.length}`)
    const unknown = await fetch(url(hash(utf8('nothing'))))
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('UNKNOWN_ASSET')
    const err = await getAssetData(client, { id: hash(utf8('nothing')) }).then(() => undefined, (e: unknown) => e)
    expect(err instanceof RpcClientError && err.code).toBe('UNKNOWN_ASSET')
    expect((await fetch(`${url(publicId).slice(0, -2)}`)).status).toBe(400)
  })

  it('two hosts down still read back; three down is 503 UNAVAILABLE before any byte', async () => {
    down.add(0).add(2)
    expect(await getAssetData(client, { id: privateId, key: owner })).toEqual(plain)
    down.add(4)
    const res = await fetch(url(publicId))
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('UNAVAILABLE')
    down.clear()
  })

  it('a host serving corrupt bytes is caught and routed around: the client gets the exact bytes', async () => {
    const id = store('corrupt', plain)
    const s = stored.get(toHex(id))!
    s.shards[1] = s.shards[1]!.slice()
    s.shards[1]![s.shards[1]!.length - 1]! ^= 0xff
    expect(await getAssetData(client, { id })).toEqual(plain)
  })

  it('two hosts serving one consistent forgery never yield a complete read: the node cuts the stream and the client throws', async () => {
    const id = store('forged', plain)
    const s = stored.get(toHex(id))!
    const forged = plain.slice()
    forged[forged.length - 1]! ^= 0xff
    const fake = encodeAsset(forged, coding).shards
    s.shards[3] = fake[3]!
    s.shards[4] = fake[4]!
    const err = await getAssetData(client, { id }).then(() => undefined, (e: unknown) => e)
    expect(err instanceof RpcClientError || err instanceof BlobError).toBe(true)
  })
})
