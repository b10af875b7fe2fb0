// What LevelDB's Snappy compression buys and costs on a real chain database: every entry of a node's chain DB
// (`<data>/chain`, or a bench:state fill's `fill-<n>/db`) is written into a fresh database with compression on and off
// (alternated round by round), which is then compacted whole, and the table files' bytes and the process CPU of the
// writes and compactions (LevelDB's compaction thread included) are compared. Session 18 measured it to decide whether
// the chain DB should drop compression (docs/design.md "Session 18"): it stays on.
//   npx tsx scripts/bench/dbCompression.ts --db DIR [--rounds 3]
// Last line: one JSON object (table bytes on, off, bytesRatio = off / on; write-and-compact CPU ms on, off, cpuRatio: the
// pass's process CPU, the source's read taken off; LevelDB's compaction thread included).
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { ClassicLevel } from 'classic-level'

import { BenchError } from './support/benchError.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { db: { type: 'string' }, rounds: { type: 'string', default: '3' } } })
if (values.db === undefined) throw new BenchError('usage: dbCompression.ts --db DIR (a LevelDB directory: <data>/chain)')
const source = values.db
const ROUNDS = Number(values.rounds)
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new BenchError(`--rounds ${values.rounds}: a positive integer`)

function tableBytes(dir: string): number {
  return readdirSync(dir).filter((f) => f.endsWith('.ldb') || f.endsWith('.sst')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
}

const BATCH_ENTRIES = 1000

/** Every entry of the source written into a fresh database with `compression` and compacted whole: its table bytes and the process CPU of the pass (reading the source included). */
async function writeCopy(compression: boolean): Promise<{ bytes: number; cpuMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-dbcomp-'))
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', compression })
  try {
    await db.open()
    const before = process.cpuUsage()
    let ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = []
    for await (const [key, value] of sourceDb.iterator()) {
      ops.push({ type: 'put', key, value })
      if (ops.length < BATCH_ENTRIES) continue
      await db.batch(ops)
      ops = []
    }
    if (ops.length > 0) await db.batch(ops)
    // Every key of every bucket (keys start with their bucket byte): the memtable flushed and every level compacted.
    // LevelDB's background thread has finished the compactions it started during the writes once this returns.
    await db.compactRange(new Uint8Array([0]), new Uint8Array(64).fill(0xff))
    const cpuMs = cpuMsSince(before)
    await db.close()
    return { bytes: tableBytes(dir), cpuMs }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The CPU of reading the source alone, taken off each write pass's. */
async function readPass(): Promise<number> {
  const before = process.cpuUsage()
  for await (const entry of sourceDb.iterator()) void entry
  return cpuMsSince(before)
}

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

// Read from a copy: opening a LevelDB directory replays its log and may compact it, which would change the source.
const sourceCopy = mkdtempSync(join(tmpdir(), 'xsc-bench-dbcomp-src-'))
cpSync(source, sourceCopy, { recursive: true })
const sourceDb = new ClassicLevel<Uint8Array, Uint8Array>(sourceCopy, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false })
await sourceDb.open()
const on: { bytes: number; cpuMs: number }[] = []
const off: { bytes: number; cpuMs: number }[] = []
for (let r = 0; r < ROUNDS; r++) {
  // Which setting goes first alternates, so both see the same page cache and load.
  const reading = await readPass()
  for (const compression of r % 2 === 0 ? [true, false] : [false, true]) {
    const pass = await writeCopy(compression)
    ;(compression ? on : off).push({ bytes: pass.bytes, cpuMs: pass.cpuMs - reading })
  }
  console.log(JSON.stringify({ round: r, on: on.at(-1), off: off.at(-1) }))
}
await sourceDb.close()
rmSync(sourceCopy, { recursive: true, force: true })
const bytesOn = median(on.map((x) => x.bytes))
const bytesOff = median(off.map((x) => x.bytes))
const cpuOn = median(on.map((x) => x.cpuMs))
const cpuOff = median(off.map((x) => x.cpuMs))
console.log(JSON.stringify({ db: source, sourceTableBytes: tableBytes(source), rounds: ROUNDS, bytesOn, bytesOff, bytesRatio: round(bytesOff / bytesOn, 3), writeCpuMsOn: round(cpuOn, 1), writeCpuMsOff: round(cpuOff, 1), cpuRatio: round(cpuOff / cpuOn, 3) }))
