// ShardStore write throughput: one shard of --mib (128) MiB stored with putStream (256-byte
// chunks, as the devnet genesis: the store hashes a chunk leaf per 256 bytes) for each LevelDB
// table file size in --tables (1,2,4 MiB), after the leaf and shard hashing alone on the same
// bytes (the CPU floor of any store). Reports MiB/s and the table files left mapped (/proc/self/smaps)
// after storing and reading the shard back. Last line: one JSON object.
// Usage: npx tsx scripts/bench/shardStoreWrite.ts [--mib 128 --tables 1,2,4 --runs 2]
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

import type { Manifest } from '../../blocks/schema.ts'
import { ChunkLeafHasher } from '../../src/storage/ChunkLeafHasher.ts'
import { createIncrementalHash } from '../../src/storage/incrementalHash.ts'
import { LEAF_PAGE_LEAVES, ShardStore } from '../../src/storage/ShardStore.ts'
import { median } from './support/stats.ts'

const MiB = 1 << 20
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const SIZE = Number(arg('mib', '128')) * MiB
const TABLES = arg('tables', '1,2,4').split(',').map(Number)
const RUNS = Number(arg('runs', '2'))
const CHUNK = 256

/** The shard as the network delivers it: 256 KiB frames, each MiB distinct. */
const base = new Uint8Array(randomBytes(MiB))
function* frames(): Generator<Uint8Array> {
  for (let m = 0; m < SIZE / MiB; m++) {
    base[0] = m & 0xff
    base[1] = m >> 8
    for (let o = 0; o < MiB; o += 256 * 1024) yield base.subarray(o, o + 256 * 1024)
  }
}

function mappedTableMiB(dir: string): number {
  let name = ''
  let kb = 0
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) name = line.split(/\s+/)[5] ?? ''
    else if (line.startsWith('Rss:') && name.startsWith(dir) && name.endsWith('.ldb')) kb += Number(/(\d+)/.exec(line)![1])
  }
  return Math.round(kb / 1024)
}

const hashed = (() => {
  const h = createIncrementalHash()
  const leaves = new ChunkLeafHasher(CHUNK, { pageLeaves: LEAF_PAGE_LEAVES, onPage: () => {} })
  for (const f of frames()) {
    h.update(f)
    leaves.update(f)
  }
  return { shardHash: h.digest(), chunkRoot: leaves.finish() }
})()

function hashOnlyMiBps(): number {
  const t = performance.now()
  const h = createIncrementalHash()
  const leaves = new ChunkLeafHasher(CHUNK, { pageLeaves: LEAF_PAGE_LEAVES, onPage: () => {} })
  for (const f of frames()) {
    h.update(f)
    leaves.update(f)
  }
  leaves.finish()
  h.digest()
  return SIZE / MiB / ((performance.now() - t) / 1000)
}

const manifest: Manifest = { size: BigInt(SIZE), dataHash: hashed.shardHash, k: 1, m: 1, segmentSize: 4 * MiB, shardSize: BigInt(SIZE), chunkSize: CHUNK, shardHashes: [hashed.shardHash, hashed.shardHash], chunkRoots: [hashed.chunkRoot, hashed.chunkRoot] }

async function storeRun(tableMiB: number): Promise<{ mibps: number; mappedMiB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-shardstore-'))
  try {
    const store = await ShardStore.open(join(dir, 'store'), { capacityBytes: BigInt(4 * SIZE), tableFileBytes: tableMiB * MiB })
    try {
      const asset = new Uint8Array(32).fill(7)
      const t = performance.now()
      await store.putStream(manifest, asset, 0, frames())
      const mibps = SIZE / MiB / ((performance.now() - t) / 1000)
      for await (const piece of store.getStream(asset, 0)) void piece
      return { mibps, mappedMiB: mappedTableMiB(join(dir, 'store')) }
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const hashOnly = median(Array.from({ length: RUNS }, hashOnlyMiBps))
console.log(`hashing alone (shard hash + 256-byte chunk leaves): ${hashOnly.toFixed(1)} MiB/s`)
const tables: Record<string, { writeMiBps: number; mappedMiB: number }> = {}
for (const tableMiB of TABLES) {
  const runs: { mibps: number; mappedMiB: number }[] = []
  for (let r = 0; r < RUNS; r++) runs.push(await storeRun(tableMiB))
  tables[`${tableMiB}MiB`] = { writeMiBps: Number(median(runs.map((r) => r.mibps)).toFixed(1)), mappedMiB: Math.max(...runs.map((r) => r.mappedMiB)) }
  console.log(`tables of ${tableMiB} MiB: putStream ${tables[`${tableMiB}MiB`]!.writeMiBps} MiB/s, table files mapped after write + read ${tables[`${tableMiB}MiB`]!.mappedMiB} MiB`)
}
console.log(JSON.stringify({ bench: 'shardStoreWrite', shardMiB: SIZE / MiB, chunkBytes: CHUNK, runs: RUNS, hashOnlyMiBps: Number(hashOnly.toFixed(1)), tables }))
