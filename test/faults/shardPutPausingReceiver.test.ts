import { afterEach, describe, expect, it } from 'vitest'

import { createNetNode, isNetError, type NetNode, putShard, serveShards } from '../../src/net/index.ts'

const MiB = 1 << 20

let nodes: NetNode[] = []
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  nodes = []
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * The hand-off's normal path under the pacing that stalled nothing but was suspected of it in
 * session 8: real libp2p (noise, yamux with 4 MiB windows and deferred window updates), two large
 * uploads at once on one connection to a receiver that, every 4 MiB, sleeps, spins its event loop
 * or stops for 2 s (a loaded host's store), with small requests both ways every 20 ms. Every
 * upload must complete; none may trip the 10 s no-progress watchdog. Seeded, so a failure repeats.
 */
describe('shard/put to a pausing receiver', () => {
  it('two 128 MiB uploads at once, three rounds: all complete, no stall', async () => {
    const log = { debug: () => {}, info: () => {}, warn: (msg: string, ctx?: Record<string, unknown>) => console.log(msg, JSON.stringify(ctx)) }
    nodes = [0, 1].map((i) => createNetNode({ secretKey: new Uint8Array(32).fill(90 + i), chainId: 'testnet', heartbeatMs: 100, logger: log }))
    await Promise.all(nodes.map((n) => n.start()))
    const [sender, receiver] = nodes as [NetNode, NetNode]
    await sender.dial(receiver.multiaddrs()[0]!)
    let seed = 12345
    const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    let consumed = 0
    await serveShards(receiver, {
      openShard: async () => undefined,
      expectedShardHash: async () => new Uint8Array(32),
      putShardStream: async (put) => {
        let since = 0
        for await (const chunk of put.body) {
          consumed += chunk.length
          since += chunk.length
          if (since < 4 * MiB) continue
          since = 0
          const r = random()
          if (r < 0.3) {
            const until = Date.now() + 50 + 200 * random()
            while (Date.now() < until);
          } else if (r < 0.95) await sleep(300 * random())
          else await sleep(2_000)
        }
      },
    }, { idleTimeoutMs: 10_000 })
    await receiver.handle('/testnet/echo/1', (req) => req)
    await sender.handle('/testnet/echo/1', (req) => req)
    let chatting = true
    const chatter = async (from: NetNode, to: NetNode): Promise<void> => {
      while (chatting) {
        await from.request(to.peerId, '/testnet/echo/1', new Uint8Array(100), { timeoutMs: 10_000 }).catch(() => undefined)
        await sleep(20)
      }
    }
    const chats = [chatter(sender, receiver), chatter(receiver, sender)]
    const size = 128 * MiB
    const part = new Uint8Array(MiB).fill(9)
    try {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all([0, 1].map(async (i) => {
          function* body(): Generator<Uint8Array> {
            for (let o = 0; o < size; o += MiB) yield part
          }
          return putShard(sender, receiver.peerId, { asset: new Uint8Array(32).fill(round * 2 + i + 1), shardIndex: i, shardHash: new Uint8Array(32), size, body: body(), idleTimeoutMs: 10_000 }).then(() => 'ok', (e: unknown) => (isNetError(e, 'STALLED') ? `STALLED ${JSON.stringify(e.details)}` : String(e)))
        }))
        expect(results).toEqual(['ok', 'ok'])
      }
    } finally {
      chatting = false
      await Promise.all(chats)
    }
    expect(consumed).toBe(3 * 2 * size)
  }, 600_000)
})
