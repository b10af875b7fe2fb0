import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'

let dir: string | undefined
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/**
 * Session 9's 4 GiB run: hosts storing a shard answered no I/O while they hashed the parts a
 * paused stream had queued (they arrive as microtasks, and only the batch write every 4 MiB gave
 * the event loop a turn). At load 50 that was seconds without answering libp2p's ping, and the
 * connection monitor aborted the connection and the hand-off on it, again and again. Here the
 * source hands over parts that are already there, as that queue does: the event loop must get a
 * turn between any two of them.
 */
describe('ShardStore.putStream and the event loop', () => {
  it('gives the event loop a turn between parts, not only at each batch write', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xsc-shard-yield-'))
    const PART = 64 * 1024
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(4 * 1024 * 1024)), { k: 4, m: 2, segmentSize: 1024 * 1024, chunkSize: 4096 })
    const shard = shards[0]!
    let partsSinceTurn = 0
    let mostPartsBetweenTurns = 0
    let turning = true
    const turn = (): void => {
      partsSinceTurn = 0
      if (turning) setImmediate(turn)
    }
    setImmediate(turn)
    async function* queued(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < shard.length; at += PART) {
        partsSinceTurn++
        mostPartsBetweenTurns = Math.max(mostPartsBetweenTurns, partsSinceTurn)
        yield shard.subarray(at, at + PART)
      }
    }
    const store = await ShardStore.open(join(dir, 'store'), { capacityBytes: 1n << 30n })
    try {
      await store.putStream(manifest, new Uint8Array(32).fill(1), 0, queued())
    } finally {
      turning = false
      await store.close()
    }
    expect(shard.length / PART).toBe(16)
    // Measured without the yield: 16 (every part of the 1 MiB shard in one go: its one batch write comes at the end).
    expect(mostPartsBetweenTurns).toBeLessThanOrEqual(2)
  })
})
