import { afterEach, describe, expect, it } from 'vitest'

import { isNetError, type NetNode, putShard, serveShards } from '../../../src/net/index.ts'
import { startConnectedPair, stopAll } from './helpers.ts'

const MiB = 1 << 20

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

const never = new Promise<never>(() => {})

/**
 * The no-progress watchdog on shard/put (session 8's 2 GiB run: two hand-offs moved nothing for
 * more than 10 minutes and one waited out its 20-minute deadline before its retry). A transfer
 * that moves no byte for `idleTimeoutMs` fails with NetError STALLED on the side that watches,
 * with the stream's flow control in the error, long before the size-scaled deadline.
 */
describe('shard/put no-progress watchdog', () => {
  it('a receiver that stops reading forever: the sender fails with STALLED at its idle limit, not its deadline', async () => {
    const [sender, receiver] = (nodes = await startConnectedPair(50))
    // The receiver's own watchdog is out of the way: the sender's is under test.
    await serveShards(receiver, {
      openShard: async () => undefined,
      expectedShardHash: async () => new Uint8Array(32),
      putShardStream: async (put) => {
        for await (const _ of put.body) await never
      },
    }, { idleTimeoutMs: 600_000 })
    const part = new Uint8Array(MiB).fill(3)
    const size = 64 * MiB
    function* body(): Generator<Uint8Array> {
      for (let o = 0; o < size; o += MiB) yield part
    }
    const started = Date.now()
    const err = await putShard(sender, receiver.peerId, { asset: new Uint8Array(32).fill(1), shardIndex: 0, shardHash: new Uint8Array(32), size, body: body(), timeoutMs: 60_000, idleTimeoutMs: 1_000 }).then(() => undefined, (e: unknown) => e)
    const tookMs = Date.now() - started
    expect(isNetError(err, 'STALLED'), String(err)).toBe(true)
    expect(tookMs).toBeLessThan(15_000)
    // What the sender's end looked like when it gave up: waiting for the receiver's window.
    const stream = isNetError(err, 'STALLED') ? err.details.stream : undefined
    expect(stream?.writableNeedsDrain).toBe(true)
    expect(stream?.sendWindowCapacity).toBe(0)
  }, 30_000)

  it('a sender that stops sending forever: the receiver fails the body with STALLED at its idle limit', async () => {
    const [sender, receiver] = (nodes = await startConnectedPair(60))
    let receiverError: unknown
    let failedAfterMs = 0
    const started = Date.now()
    await serveShards(receiver, {
      openShard: async () => undefined,
      expectedShardHash: async () => new Uint8Array(32),
      putShardStream: async (put) => {
        try {
          for await (const _ of put.body) void _
        } catch (e) {
          receiverError = e
          failedAfterMs = Date.now() - started
          throw e
        }
      },
    }, { idleTimeoutMs: 800 })
    async function* body(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(MiB)
      await never
    }
    const sent = putShard(sender, receiver.peerId, { asset: new Uint8Array(32).fill(1), shardIndex: 0, shardHash: new Uint8Array(32), size: 8 * MiB, body: body(), timeoutMs: 60_000, idleTimeoutMs: 2_000 }).then(() => undefined, (e: unknown) => e)
    // The sender's own watchdog ends its side (its body source hangs: nothing else would).
    expect(isNetError(await sent, 'STALLED')).toBe(true)
    expect(isNetError(receiverError, 'STALLED'), String(receiverError)).toBe(true)
    expect(failedAfterMs).toBeLessThan(2_000)
  }, 30_000)
})
