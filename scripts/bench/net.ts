// Network layer figures on loopback with real libp2p nodes: gossip latency (direct and over one
// hop), small request round trip, and bulk request/response throughput (16 MiB shard fetch).
// Prints JSON; the last line is one JSON object. Usage: npx tsx scripts/bench/net.ts
import '../../src/polyfill.ts'

import { hash } from '../../src/crypto/index.ts'
import { createNetNode, fetchShard, type NetNode, serveShards } from '../../src/net/index.ts'
import { median, round } from './support/stats.ts'
import { sleep, waitUntil } from './support/waitUntil.ts'

const CHAIN = 'bench'

async function main(): Promise<void> {
  const nodes: NetNode[] = [1, 2, 3].map((i) => createNetNode({ secretKey: new Uint8Array(32).fill(100 + i), chainId: CHAIN, heartbeatMs: 200 }))
  try {
    await Promise.all(nodes.map((n) => n.start()))
    const [a, b, c] = nodes as [NetNode, NetNode, NetNode]
    const arrivals = new Map<string, { b?: number; c?: number }>()
    const key = (d: Uint8Array): string => Buffer.from(d.subarray(0, 8)).toString('hex')
    const sub = (who: 'b' | 'c') => ({
      validate: () => 'accept' as const,
      handle: (d: Uint8Array) => {
        const e = arrivals.get(key(d)) ?? {}
        e[who] = performance.now()
        arrivals.set(key(d), e)
      },
    })
    a.subscribe('transactions', { validate: () => 'accept', handle: () => {} })
    b.subscribe('transactions', sub('b'))
    c.subscribe('transactions', sub('c'))
    await a.dial(b.multiaddrs()[0]!)
    await b.dial(c.multiaddrs()[0]!)
    await waitUntil(() => a.topicPeers('transactions').includes(b.peerId) && c.topicPeers('transactions').includes(b.peerId), 5_000, 'the transactions mesh', 10)
    await sleep(300)

    // Latency: one 1 KiB message at a time, waiting for it to reach c (one hop beyond b).
    const direct: number[] = []
    const hop: number[] = []
    for (let i = 0; i < 50; i++) {
      const msg = new Uint8Array(1024)
      new DataView(msg.buffer).setFloat64(0, Math.random())
      const t0 = performance.now()
      await a.publish('transactions', msg)
      await waitUntil(() => arrivals.get(key(msg))?.c !== undefined, 2_000, 'the message at the third node', 10)
      const e = arrivals.get(key(msg))!
      direct.push(e.b! - t0)
      hop.push(e.c! - t0)
    }

    // Throughput: 2,000 distinct 1 KiB messages published back to back, until all reach c.
    arrivals.clear()
    const N = 2_000
    const t0 = performance.now()
    for (let i = 0; i < N; i++) {
      const msg = new Uint8Array(1024)
      new DataView(msg.buffer).setUint32(0, i)
      new DataView(msg.buffer).setUint32(4, 0xbeef)
      await a.publish('transactions', msg)
    }
    await waitUntil(() => [...arrivals.values()].filter((e) => e.c !== undefined).length >= N, 30_000, 'every message at the third node', 10)
    const gossipMsgsPerSec = N / ((performance.now() - t0) / 1000)

    // Request/response: small round trip and a 16 MiB streamed shard with hash check.
    await b.handle('/bench/echo/1', (req) => req)
    const rtt: number[] = []
    for (let i = 0; i < 200; i++) {
      const t = performance.now()
      await a.request(b.peerId, '/bench/echo/1', new Uint8Array(64))
      rtt.push(performance.now() - t)
    }
    const shard = new Uint8Array(16 * 1024 * 1024).map((_, i) => (i * 31) & 0xff)
    const shardHash = hash(shard)
    const asset = hash(new Uint8Array([1]))
    await serveShards(b, { openShard: async () => [shard], expectedShardHash: async () => undefined, putShardStream: async () => {} })
    const mibps: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      const got = await fetchShard(a, b.peerId, { asset, shardIndex: 0, expectedHash: shardHash })
      mibps.push(got.length / 1024 / 1024 / ((performance.now() - t) / 1000))
    }
    const result = {
      gossipLatencyDirectMedianMs: round(median(direct), 2),
      gossipLatencyOneHopMedianMs: round(median(hop), 2),
      gossipMsgsPerSec1KiB: Math.round(gossipMsgsPerSec),
      requestRoundTripMedianMs: round(median(rtt), 2),
      shardFetch16MiBMedianMiBps: round(median(mibps), 1),
      shardFetch16MiBSamplesMiBps: mibps.map((x) => round(x, 1)),
    }
    console.log(JSON.stringify(result))
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

await main()
