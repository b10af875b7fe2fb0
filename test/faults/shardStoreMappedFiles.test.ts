import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import type { Manifest } from '../../blocks/schema.ts'
import { ChunkLeafHasher } from '../../src/storage/ChunkLeafHasher.ts'
import { ShardStore } from '../../src/storage/ShardStore.ts'

const MiB = 1 << 20

/** Resident bytes of this process's mappings of LevelDB table files under `dir` (/proc/self/smaps). */
function mappedTableBytes(dir: string): number {
  let name = ''
  let bytes = 0
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) name = line.split(/\s+/)[5] ?? ''
    else if (line.startsWith('Rss:') && name.startsWith(dir) && name.endsWith('.ldb')) bytes += Number(/(\d+)/.exec(line)![1]) * 1024
  }
  return bytes
}

let dir: string | undefined
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/**
 * LevelDB maps every table file it reads while the file stays in its table cache (1000 files by
 * default), and those pages count in the process's resident memory: session 7's hosts holding a
 * 1 GiB shard were at 1.3-1.4 GiB, ~1 GiB of it mapped table files touched by compaction and
 * reads. The store keeps few table files open, so what stays mapped is bounded, not the shard.
 */
describe.runIf(process.platform === 'linux')('shard store memory', () => {
  it('a stored and read-back 160 MiB shard leaves a bounded amount of table files mapped, not the shard', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xsc-shard-mapped-'))
    const size = 160 * MiB
    const part = new Uint8Array(randomBytes(MiB))
    // One shard of a k=1 asset (its parity shard is a copy): 4 KiB chunks keep the hashing cheap.
    const chunkSize = 4096
    const hash = createHash('sha256')
    const leaves = new ChunkLeafHasher(chunkSize)
    const parts = (): Uint8Array[] => Array.from({ length: size / MiB }, (_, i) => {
      const p = part.slice()
      p[0] = i // distinct MiBs: LevelDB would not store the same value twice anyway, but compaction sees real data
      return p
    })
    for (const p of parts()) {
      hash.update(p)
      leaves.update(p)
    }
    const shardHash = new Uint8Array(hash.digest())
    const chunkRoot = leaves.finish()
    const manifest: Manifest = { size: BigInt(size), dataHash: shardHash, k: 1, m: 1, segmentSize: 4 * MiB, shardSize: BigInt(size), chunkSize, shardHashes: [shardHash, shardHash], chunkRoots: [chunkRoot, chunkRoot] }
    const store = await ShardStore.open(join(dir, 'store'), { capacityBytes: BigInt(4 * size) })
    try {
      const asset = new Uint8Array(32).fill(3)
      await store.putStream(manifest, asset, 0, parts())
      let read = 0
      for await (const piece of store.getStream(asset, 0)) read += piece.length
      expect(read).toBe(size)
      const mapped = mappedTableBytes(join(dir, 'store'))
      console.log(`table files mapped after storing and reading ${size / MiB} MiB: ${(mapped / MiB).toFixed(1)} MiB`)
      // Without a cap on open table files the whole shard stays mapped once read (96 MiB shard: 96 MiB mapped).
      expect(mapped).toBeLessThan(80 * MiB)
    } finally {
      await store.close()
    }
  }, 60_000)
})
