import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { hash, utf8 } from '../../../src/crypto/index.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { streamRebuiltShard } from '../../../src/storage/streamRebuiltShard.ts'

const coding = { k: 4, m: 2, segmentSize: 64 * 1024, chunkSize: 4096 }
const hosts = Array.from({ length: 6 }, (_, i) => hash(utf8(`rebuild-host-${i}`)))

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const p of it) parts.push(p)
  return Buffer.concat(parts)
}

describe('streamRebuiltShard', () => {
  const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(5 * 64 * 1024 + 333)), coding)
  const open = (down: Set<number>, corrupt?: number) => async function* (_host: Uint8Array, i: number): AsyncGenerator<Uint8Array> {
    if (down.has(i)) throw new Error('host down')
    const shard = i === corrupt ? shards[i]!.map((b, j) => (j === 100 ? b ^ 1 : b)) : shards[i]!
    for (let at = 0; at < shard.length; at += 10_000) yield shard.subarray(at, at + 10_000)
  }

  it('rebuilds every data and parity shard byte for byte, also with another host down', async () => {
    for (let target = 0; target < 6; target++) {
      const other = (target + 1) % 6
      const got = await collect(streamRebuiltShard(manifest, hosts, target, open(new Set([target, other]))))
      expect(got.equals(Buffer.from(shards[target]!)), `shard ${target}`).toBe(true)
    }
  })

  it('a corrupt source never completes the stream; too few sources is UNAVAILABLE', async () => {
    await expect(collect(streamRebuiltShard(manifest, hosts, 5, open(new Set([4]), 0)))).rejects.toMatchObject({ code: 'VERIFY_FAILED' })
    await expect(collect(streamRebuiltShard(manifest, hosts, 5, open(new Set([0, 1]))))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })
})
