import { afterEach, describe, expect, it } from 'vitest'

import { hash, leafHash, merkleProof, merkleRoot, toHex } from '../../../src/crypto/index.ts'
import { encodeFrame, FRAME } from '../../../src/net/framing.ts'
import { createNetNode, fetchShard, fetchShardPageRoots, fetchShardRange, NetError, type NetNode, putShard, requestAudit, requestBlocksByRange, requestStatus, serveAudits, serveBlocksByRange, serveShards, serveStatus, type ShardRef, streamShardByRanges, verifyAuditResponse } from '../../../src/net/index.ts'
import { CHAIN, seed, startConnectedPair, stopAll } from './helpers.ts'

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

async function pair(): Promise<[NetNode, NetNode]> {
  return (nodes = await startConnectedPair(20))
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('request/response', () => {
  it('round-trips a request, and reports a remote handler error by its code', async () => {
    const [client, server] = await pair()
    await server.handle('/test/echo/1', (req, peer) => enc(`${dec(req)} from ${peer}`))
    await server.handle('/test/fail/1', () => {
      throw new NetError('NOT_FOUND', 'nothing here')
    })
    const res = await client.request(server.peerId, '/test/echo/1', enc('hello'))
    expect(dec(res)).toBe(`hello from ${client.peerId}`)
    await expect(client.request(server.peerId, '/test/fail/1', enc('x'))).rejects.toMatchObject({ code: 'REMOTE_ERROR', details: { remoteCode: 'NOT_FOUND' } })
    await expect(client.request(server.peerId, '/test/none/1', enc('x'))).rejects.toMatchObject({ code: 'DIAL_FAILED' })
  })

  it('times out with a typed error when the handler is slow', async () => {
    const [client, server] = await pair()
    await server.handle('/test/slow/1', async () => {
      await new Promise((r) => setTimeout(r, 2_000))
      return enc('late')
    }, { timeoutMs: 3_000 })
    const started = Date.now()
    const err = await client.request(server.peerId, '/test/slow/1', enc('x'), { timeoutMs: 200 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetError)
    expect((err as NetError).code).toBe('TIMEOUT')
    expect(Date.now() - started).toBeLessThan(1_500)
  })

  it('aborts a handler that overruns the server deadline, so the client fails before its own', async () => {
    const [client, server] = await pair()
    await server.handle('/test/stuck/1', () => new Promise<Uint8Array>(() => {}), { timeoutMs: 150 })
    const started = Date.now()
    const err = await client.request(server.peerId, '/test/stuck/1', enc('x'), { timeoutMs: 5_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetError)
    expect((err as NetError).code).not.toBe('TIMEOUT')
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(() => createNetNode({ secretKey: seed(99), chainId: CHAIN }).peers()).toThrow(expect.objectContaining({ code: 'NOT_STARTED' }))
  })

  it('cuts an oversize response with RESPONSE_TOO_LARGE, and refuses an oversize request', async () => {
    const [client, server] = await pair()
    await server.handle('/test/big/1', () => new Uint8Array(2 * 1024 * 1024), { maxRequestBytes: 16 })
    await expect(client.request(server.peerId, '/test/big/1', enc('x'), { maxResponseBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' })
    expect((await client.request(server.peerId, '/test/big/1', enc('x'), { maxResponseBytes: 2 * 1024 * 1024 })).length).toBe(2 * 1024 * 1024)
    await expect(client.request(server.peerId, '/test/big/1', new Uint8Array(17))).rejects.toMatchObject({ code: 'REMOTE_ERROR', details: { remoteCode: 'REQUEST_TOO_LARGE' } })
    // A body on a protocol that takes none is refused the same way.
    await expect(client.request(server.peerId, '/test/big/1', enc('x'), { body: new Uint8Array(100) })).rejects.toMatchObject({ details: { remoteCode: 'REQUEST_TOO_LARGE' } })
  })

  it('detects a response stream cut before its END frame', async () => {
    const [client, server] = await pair()
    // A raw libp2p handler that answers half a frame and closes: what a crashing peer looks like.
    await server.libp2p!.handle('/test/cut/1', async (stream) => {
      for await (const chunk of stream) void chunk
      stream.send(encodeFrame(FRAME.data, new Uint8Array(1000)).subarray(0, 600))
      await stream.close()
    })
    await expect(client.request(server.peerId, '/test/cut/1', enc('x'))).rejects.toMatchObject({ code: 'TRUNCATED' })
  })
})

describe('shard, sync and audit protocols', () => {
  const asset = hash(enc('asset'))
  const shard = new Uint8Array(16 * 1024 * 1024)
  for (let i = 0; i < shard.length; i += 4096) shard[i] = (i / 4096) & 0xff
  const shardHash = hash(shard)

  it('streams a 16 MiB shard with a hash check, and detects corrupted bytes', async () => {
    const [client, server] = await pair()
    let corrupt = false
    await serveShards(server, {
      openShard: async (ref: ShardRef) => {
        if (ref.shardIndex !== 2) return undefined
        if (!corrupt) return [shard]
        const bad = shard.slice()
        bad[12_345_678] = bad[12_345_678]! ^ 1
        return [bad]
      },
      expectedShardHash: async () => undefined,
      putShardStream: async () => {},
    })
    const started = performance.now()
    const got = await fetchShard(client, server.peerId, { asset, shardIndex: 2, expectedHash: shardHash })
    const ms = performance.now() - started
    expect(got.length).toBe(shard.length)
    expect(toHex(hash(got))).toBe(toHex(shardHash))
    expect(ms).toBeLessThan(10_000)
    corrupt = true
    await expect(fetchShard(client, server.peerId, { asset, shardIndex: 2, expectedHash: shardHash })).rejects.toMatchObject({ code: 'HASH_MISMATCH' })
    await expect(fetchShard(client, server.peerId, { asset, shardIndex: 3, expectedHash: shardHash })).rejects.toMatchObject({ code: 'REMOTE_ERROR', details: { remoteCode: 'NOT_FOUND' } })
    await expect(fetchShard(client, server.peerId, { asset, shardIndex: 2, expectedHash: shardHash, maxBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' })
  })

  it('serves shard windows (shard/range) and page roots (shard/roots); a whole shard streams back window by window', async () => {
    const [client, server] = await pair()
    const roots = new Uint8Array(64).fill(9)
    await serveShards(server, {
      openShard: async () => undefined,
      readShardRange: async (ref) => {
        if (ref.shardIndex !== 2) return undefined
        if (ref.offset + ref.length > shard.length) throw new NetError('REQUEST_TOO_LARGE', 'range past the shard')
        return shard.subarray(ref.offset, ref.offset + ref.length)
      },
      readPageRoots: async (ref) => (ref.shardIndex === 2 ? roots : undefined),
      expectedShardHash: async () => undefined,
      putShardStream: async () => {},
    })
    const got = await fetchShardRange(client, server.peerId, { asset, shardIndex: 2, offset: 5_000_000, length: 3_000_000 })
    expect(Buffer.from(got).equals(Buffer.from(shard.subarray(5_000_000, 8_000_000)))).toBe(true)
    expect(await fetchShardPageRoots(client, server.peerId, { asset, shardIndex: 2 })).toEqual(roots)
    await expect(fetchShardRange(client, server.peerId, { asset, shardIndex: 3, offset: 0, length: 10 })).rejects.toMatchObject({ code: 'REMOTE_ERROR', details: { remoteCode: 'NOT_FOUND' } })
    await expect(fetchShardRange(client, server.peerId, { asset, shardIndex: 2, offset: shard.length - 5, length: 10 })).rejects.toMatchObject({ code: 'REMOTE_ERROR' })
    await expect(fetchShardRange(client, server.peerId, { asset, shardIndex: 2, offset: 0, length: 17 * 1024 * 1024 })).rejects.toMatchObject({ code: 'REQUEST_TOO_LARGE' })
    const parts: Uint8Array[] = []
    for await (const part of streamShardByRanges(client, server.peerId, { asset, shardIndex: 2, size: shard.length, rangeBytes: 3 * 1024 * 1024 })) {
      expect(part.length).toBeLessThanOrEqual(3 * 1024 * 1024)
      parts.push(part)
    }
    expect(toHex(hash(Buffer.concat(parts)))).toBe(toHex(shardHash))
  })

  it('accepts an uploaded shard only when its bytes match the assigned hash', async () => {
    const [client, server] = await pair()
    const stored: { ref: ShardRef; data: Uint8Array }[] = []
    await serveShards(server, {
      openShard: async () => undefined,
      expectedShardHash: async (ref) => (ref.shardIndex === 0 ? hash(shard.subarray(0, 1 << 20)) : undefined),
      putShardStream: async (put) => {
        const parts: Uint8Array[] = []
        for await (const part of put.body) parts.push(part.slice())
        const data = new Uint8Array(Buffer.concat(parts))
        // What ShardStore.putStream does: the bytes must hash to the announced (= assigned) hash.
        if (toHex(hash(data)) !== toHex(put.shardHash)) throw new NetError('HASH_MISMATCH', 'bytes differ')
        stored.push({ ref: put, data })
      },
    })
    const data = shard.slice(0, 1 << 20)
    await putShard(client, server.peerId, { asset, shardIndex: 0, data })
    expect(stored).toHaveLength(1)
    expect(toHex(hash(stored[0]!.data))).toBe(toHex(hash(data)))
    data[5] = data[5]! ^ 0xff // the announced hash no longer matches the assignment
    await expect(putShard(client, server.peerId, { asset, shardIndex: 0, data })).rejects.toMatchObject({ details: { remoteCode: 'HASH_MISMATCH' } })
    await expect(putShard(client, server.peerId, { asset, shardIndex: 1, data })).rejects.toMatchObject({ details: { remoteCode: 'NOT_FOUND' } })
    // A streamed upload announcing the right hash and size but sending other bytes, or fewer.
    await expect(putShard(client, server.peerId, { asset, shardIndex: 0, shardHash: hash(shard.subarray(0, 1 << 20)), size: 1 << 20, body: [data] })).rejects.toMatchObject({ details: { remoteCode: 'HASH_MISMATCH' } })
    await expect(putShard(client, server.peerId, { asset, shardIndex: 0, shardHash: hash(shard.subarray(0, 1 << 20)), size: 1 << 20, body: [shard.subarray(0, 1000)] })).rejects.toMatchObject({ details: { remoteCode: 'TRUNCATED' } })
    await putShard(client, server.peerId, { asset, shardIndex: 0, shardHash: hash(shard.subarray(0, 1 << 20)), size: 1 << 20, body: [shard.subarray(0, 300_000), shard.subarray(300_000, 1 << 20)] })
    expect(stored).toHaveLength(2)
  })

  it('serves block ranges capped at 64 and audit answers that verify against the chunk root', async () => {
    const [client, server] = await pair()
    const chain = Array.from({ length: 100 }, (_, h) => enc(`block ${h}`))
    const status = { headHeight: 99, headHash: hash(chain[99]!), finalizedHeight: 97, finalizedHash: hash(chain[97]!), earliestHeight: 1 }
    await serveStatus(server, () => status)
    expect(await requestStatus(client, server.peerId)).toEqual(status)
    await serveBlocksByRange(server, async (from, count) => chain.slice(from, from + count))
    const blocks = await requestBlocksByRange(client, server.peerId, { fromHeight: 10, count: 5 })
    expect(blocks.map(dec)).toEqual(['block 10', 'block 11', 'block 12', 'block 13', 'block 14'])
    expect(await requestBlocksByRange(client, server.peerId, { fromHeight: 98, count: 64 })).toHaveLength(2)
    await expect(requestBlocksByRange(client, server.peerId, { fromHeight: 0, count: 65 })).rejects.toMatchObject({ code: 'REQUEST_TOO_LARGE' })

    const chunks = Array.from({ length: 9 }, (_, i) => new Uint8Array(1024).fill(i))
    const leaves = chunks.map(leafHash)
    await serveAudits(server, async (ch) => (ch.chunkIndex < chunks.length ? { chunk: chunks[ch.chunkIndex]!, path: merkleProof(leaves, ch.chunkIndex) } : undefined))
    const res = await requestAudit(client, server.peerId, { asset, shardIndex: 1, chunkIndex: 6 })
    expect(verifyAuditResponse(res, { chunkRoot: merkleRoot(leaves), chunkIndex: 6, chunkCount: 9 })).toBe(true)
    await expect(requestAudit(client, server.peerId, { asset, shardIndex: 1, chunkIndex: 99 })).rejects.toMatchObject({ details: { remoteCode: 'NOT_FOUND' } })
  })
})

describe('identity', () => {
  it('keeps its peer id across a restart with the same key, and peers reconnect through bootstrap', async () => {
    const a = createNetNode({ secretKey: seed(40), chainId: CHAIN })
    nodes = [a]
    await a.start()
    const id = a.peerId
    const addr = a.multiaddrs()[0]!
    const b = createNetNode({ secretKey: seed(41), chainId: CHAIN, bootstrap: [addr], bootstrapRetryMs: 100 })
    nodes.push(b)
    const events: string[] = []
    b.onPeer('connect', (p) => events.push(`connect ${p}`))
    b.onPeer('disconnect', (p) => events.push(`disconnect ${p}`))
    await b.start()
    const { waitFor } = await import('./helpers.ts')
    await waitFor(() => b.peers().includes(id), 5_000, 'bootstrap connection')
    await a.stop()
    // Seen gone first: else a stale peer entry would pass the reconnection wait below at once.
    await waitFor(() => events.includes(`disconnect ${id}`), 5_000, 'the disconnect')
    const port = addr.split('/')[4]!
    const again = createNetNode({ secretKey: seed(40), chainId: CHAIN, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    nodes.push(again)
    await again.start()
    expect(again.peerId).toBe(id)
    await waitFor(() => b.peers().includes(id) && events.length === 3, 5_000, 'reconnection after restart')
    expect(events).toEqual([`connect ${id}`, `disconnect ${id}`, `connect ${id}`])
    expect(() => createNetNode({ secretKey: new Uint8Array(31), chainId: CHAIN })).toThrow(NetError)
  })
})
