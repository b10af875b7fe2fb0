import { afterEach, describe, expect, it } from 'vitest'

import { type NetNode, putShard, serveShards } from '../../../src/net/index.ts'
import { startConnectedPair, stopAll } from './helpers.ts'

const MiB = 1 << 20

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

/**
 * The hand-off of a GiB shard held it whole in memory on both ends (session 7's 4 GiB run:
 * validator 1.6 GiB, hosts 1.3-1.4 GiB): the sender never waited for drain (libp2p's onDrain
 * promise resolves once, forever) and the receiver granted yamux window as bytes arrived, not as
 * they were consumed. Here the receiver's store stalls on the first chunk: the sender must stop
 * taking bytes from its source after a bounded amount (windows and one read-ahead), not run
 * through the whole shard.
 */
describe('shard upload backpressure', () => {
  it('a receiver that stops reading stops the sender: bytes in flight stay bounded, not the whole shard', async () => {
    const [sender, receiver] = (nodes = await startConnectedPair(40))
    const size = 96 * MiB
    const part = new Uint8Array(MiB).fill(7)
    let pulled = 0
    let consumed = 0
    let peakInFlight = 0
    // The sender's source: one reused buffer (as readFileReusing), counting what the transfer took.
    function* body(): Generator<Uint8Array> {
      for (let o = 0; o < size; o += MiB) {
        pulled += MiB
        yield part
      }
    }
    await serveShards(receiver, {
      openShard: async () => undefined,
      expectedShardHash: async () => new Uint8Array(32),
      putShardStream: async (put) => {
        let stalled = false
        for await (const chunk of put.body) {
          if (!stalled) {
            stalled = true
            // A stalled disk: nothing more is taken until the sender has pulled nothing for 300 ms (at most 3 s).
            let last = -1
            for (let waited = 0; waited < 3_000 && pulled !== last; waited += 300) {
              last = pulled
              await new Promise((r) => setTimeout(r, 300))
            }
          }
          consumed += chunk.length
          peakInFlight = Math.max(peakInFlight, pulled - consumed)
        }
      },
    })
    await putShard(sender, receiver.peerId, { asset: new Uint8Array(32).fill(1), shardIndex: 0, shardHash: new Uint8Array(32), size, body: body() })
    expect(consumed).toBe(size)
    // Measured: 12 MiB (a 4 MiB read high-water mark, yamux's granted window, one source read); 96 without either fix.
    expect(peakInFlight).toBeLessThan(40 * MiB)
  }, 30_000)
})
