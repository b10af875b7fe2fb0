import { afterEach, describe, expect, it } from 'vitest'

import { isNetError, NetError, type NetNode, putShard, serveShards } from '../../../src/net/index.ts'
import { startConnectedPair, stopAll } from './helpers.ts'

const MiB = 1 << 20

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

/**
 * Session 8's 2 GiB hand-off stall: a host that refuses an upload before reading its body (the
 * shard is not assigned there yet, or a previous attempt is still being written) answered with an
 * ERROR frame but left the stream paused with the first 4 MiB unread. yamux then granted no more
 * window, so the validator, still streaming the body (it reads the answer only after the last
 * byte), waited for drain forever: both sides idle, sockets empty, nothing logged. A refusal
 * must reach the sender at once, whatever the size of the body it is sending.
 */
describe('a refused shard upload', () => {
  for (const [name, refusal] of [
    ['refused before the body is read (not assigned here yet)', 'header'],
    ['refused after part of the body was read (the store failed)', 'body'],
  ] as const) {
    it(`${name}: the sender gets the refusal at once, not a stall`, async () => {
      const [sender, receiver] = (nodes = await startConnectedPair(80))
      await serveShards(receiver, {
        openShard: async () => undefined,
        expectedShardHash: async () => (refusal === 'header' ? undefined : new Uint8Array(32)),
        putShardStream: async (put) => {
          let taken = 0
          for await (const chunk of put.body) {
            taken += chunk.length
            if (taken >= 8 * MiB) throw new NetError('INTERNAL', 'store failed')
          }
        },
      })
      const part = new Uint8Array(MiB).fill(5)
      const size = 128 * MiB
      let pulled = 0
      function* body(): Generator<Uint8Array> {
        for (let o = 0; o < size; o += MiB) {
          pulled += MiB
          yield part
        }
      }
      const started = Date.now()
      // The watchdog would end a stall at its idle limit: the refusal must come long before it.
      const err = await putShard(sender, receiver.peerId, { asset: new Uint8Array(32).fill(1), shardIndex: 0, shardHash: new Uint8Array(32), size, body: body(), timeoutMs: 60_000, idleTimeoutMs: 20_000 }).then(() => undefined, (e: unknown) => e)
      expect(isNetError(err, 'REMOTE_ERROR'), String(err)).toBe(true)
      expect(isNetError(err, 'REMOTE_ERROR') ? err.details.remoteCode : undefined).toBe(refusal === 'header' ? 'NOT_FOUND' : 'INTERNAL')
      expect(Date.now() - started).toBeLessThan(10_000)
      // The sender stopped reading its source soon after the refusal (not the whole shard).
      expect(pulled).toBeLessThan(size)
    }, 40_000)
  }
})
