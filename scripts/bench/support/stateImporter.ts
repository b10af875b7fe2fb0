// One importer of `bench:state` in its own process, driven block by block over IPC (scripts/bench/state.ts), so the
// importers of both state sizes run in lockstep (10k block, 1M block, 10k, ...) and see the same machine load, while
// each one's CPU (process.cpuUsage: its JS thread, its GC, its classic-level threads, its compaction) is its own.
// In one process the two importers would share V8's heap (a collection caused by one charged to the other) and
// LevelDB's one background thread (compactions of both databases on it).
// Started by state.ts with `--spec JSON` (ImporterSpec); messages: 'warm' (import the warm-up blocks untimed, reopen
// when cold), { block: i } (import timed block i: answers its figures), 'finish' (answers the totals, closes, exits).
// `root` is the checkout whose code imports (e.g. a copy of main, for before/after runs on the same blocks).
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { spawnTracked } from './processes.ts'

export interface ImporterSpec {
  root: string
  dataDir: string
  /** Blocks as u32 length ‖ bytes, warm-up blocks first. */
  blocksFile: string
  warm: number
  cold: boolean
  genesisName: string
  treeCacheNodes?: number
  valueCacheEntries?: number
  /** Where to write a CPU profile of the timed blocks, if set. */
  profileFile?: string
}

/** One timed block's figures, in the importer's own process. */
export interface TimedBlock {
  wallMs: number
  /** process.cpuUsage over the import call: every thread of this importer. */
  cpuMs: number
  /** The JS thread only (/proc, 10 ms ticks). */
  mainMs: number
  /** CPU from the previous timed block's start to this one's: the previous block plus what its import left running (compaction). */
  periodCpuMs: number
  /** Tree pages and values read from disk during the import (null: the code under test does not count them). */
  pagesRead: number | null
  pageGetMany: number | null
  valuesRead: number | null
  /** Key paths the tree's load walked (the others it knew cached at the head: session 11). */
  pathsWalked: number | null
}

export interface ImporterTotals {
  /** CPU ms of each thread over the timed blocks ('main', then by thread id). */
  threadMs: Record<string, number>
  treePages: number
  treeNodes: number
  treeBytes: number
  treeCacheMB: number
  treeCacheNodes: number
  /** CPU from the last timed block's start to 'finish'. */
  lastPeriodCpuMs: number
}

/** CPU ms of each thread of this process, by thread id (Linux; empty elsewhere). */
export function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>()
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out.set(tid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100)
    }
  } catch {
    // not Linux
  }
  return out
}

/** CPU ms of this process's main thread (the JS), from /proc (Linux; 0 elsewhere). */
export function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return 0
  }
}

export function readBlocksFile(file: string): Uint8Array[] {
  const all = readFileSync(file)
  const out: Uint8Array[] = []
  for (let at = 0; at < all.length;) {
    const length = all.readUInt32BE(at)
    out.push(new Uint8Array(all.subarray(at + 4, at + 4 + length)))
    at += 4 + length
  }
  return out
}

export function writeBlocksFile(file: string, blocks: readonly Uint8Array[]): void {
  writeFileSync(file, Buffer.concat(blocks.flatMap((b) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(b.length)
    return [length, b]
  })))
}

const cpuNow = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function runImporter(spec: ImporterSpec): Promise<void> {
  const { Chain } = (await import(join(spec.root, 'src/chain/chain.ts'))) as typeof import('../../../src/chain/chain.ts')
  const { decode } = (await import(join(spec.root, 'blocks/codec.ts'))) as typeof import('../../../blocks/codec.ts')
  const { Block } = (await import(join(spec.root, 'blocks/schema.ts'))) as typeof import('../../../blocks/schema.ts')
  const { buildBenchGenesis } = await import('./benchGenesis.ts')
  const { genesis } = buildBenchGenesis({ name: spec.genesisName, senders: 250, amount: 10n ** 15n, consensus: { schemes: ['stake'] }, params: { targetBlockTxBytes: 1_000_000 } })
  const blocks = readBlocksFile(spec.blocksFile)
  const opts = {
    dataDir: spec.dataDir,
    genesis,
    signatureWorkers: 0,
    ...(spec.treeCacheNodes === undefined ? {} : { treeCacheNodes: spec.treeCacheNodes }),
    ...(spec.valueCacheEntries === undefined ? {} : { valueCacheEntries: spec.valueCacheEntries }),
  }
  let importer = await Chain.open(opts)
  // Counters a checkout without them (main before session 11) does not have: null.
  const counters = () => {
    const tree = importer.store.tree as { read?: { getMany: number; pages: number; paths?: number } }
    const values = importer.store.values as unknown as { diskReads?: { keys: number } }
    return { pages: tree.read?.pages ?? NaN, getMany: tree.read?.getMany ?? NaN, values: values.diskReads?.keys ?? NaN, paths: tree.read?.paths ?? NaN }
  }
  const nullIfNaN = (x: number): number | null => (Number.isNaN(x) ? null : x)
  let threads0 = new Map<string, number>()
  let written0 = { ...importer.store.tree.written }
  let lastStart: number | undefined
  const profiler = spec.profileFile === undefined ? undefined : new Session()
  const send = (msg: unknown): Promise<void> => new Promise((resolve, reject) => process.send!(msg, undefined, {}, (err) => (err ? reject(err) : resolve())))
  process.on('message', (msg: 'warm' | 'finish' | { block: number }) => {
    void (async () => {
      if (msg === 'warm') {
        for (const bytes of blocks.slice(0, spec.warm)) await importer.importBlock(decode(Block, bytes), bytes)
        if (spec.cold) {
          await importer.close()
          importer = await Chain.open(opts)
        }
        written0 = { ...importer.store.tree.written }
        if (profiler !== undefined) {
          profiler.connect()
          await profiler.post('Profiler.enable')
          await profiler.post('Profiler.start')
        }
        threads0 = threadCpuMs()
        await send('ready')
      } else if (msg === 'finish') {
        const lastPeriodCpuMs = lastStart === undefined ? NaN : cpuNow() - lastStart
        const threadMs: Record<string, number> = {}
        for (const [tid, ms] of threadCpuMs()) if (ms - (threads0.get(tid) ?? 0) > 0) threadMs[tid === String(process.pid) ? 'main' : tid] = ms - (threads0.get(tid) ?? 0)
        if (profiler !== undefined) {
          const { profile } = await profiler.post('Profiler.stop')
          writeFileSync(spec.profileFile!, JSON.stringify(profile))
          profiler.disconnect()
        }
        const tree = importer.store.tree
        const totals: ImporterTotals = {
          threadMs,
          treePages: tree.written.pages - written0.pages,
          treeNodes: tree.written.nodes - written0.nodes,
          treeBytes: tree.written.bytes - written0.bytes,
          treeCacheMB: tree.cachedBytes / 2 ** 20,
          treeCacheNodes: tree.cachedNodes,
          lastPeriodCpuMs,
        }
        await importer.close()
        await send(totals)
        process.exit(0)
      } else {
        const bytes = blocks[spec.warm + msg.block]!
        const before = counters()
        const t = performance.now()
        const c = cpuNow()
        const main = mainThreadCpuMs()
        await importer.importBlock(decode(Block, bytes), bytes)
        const wallMs = performance.now() - t
        const cpuMs = cpuNow() - c
        const mainMs = mainThreadCpuMs() - main
        const after = counters()
        const periodCpuMs = lastStart === undefined ? NaN : c - lastStart
        lastStart = c
        const timed: TimedBlock = { wallMs, cpuMs, mainMs, periodCpuMs, pagesRead: nullIfNaN(after.pages - before.pages), pageGetMany: nullIfNaN(after.getMany - before.getMany), valuesRead: nullIfNaN(after.values - before.values), pathsWalked: nullIfNaN(after.paths - before.paths) }
        await send(timed)
      }
    })().catch((err: unknown) => {
      console.error(err)
      process.exit(1)
    })
  })
  await send('open')
}

/** The parent's side: an importer child, asked one thing at a time (each message gets one answer). */
export class ImporterChild {
  private constructor(readonly child: ChildProcess) {}

  static async start(spec: ImporterSpec): Promise<ImporterChild> {
    const child = spawnTracked(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--spec', JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const importer = new ImporterChild(child)
    await importer.#next()
    return importer
  }

  #next<T>(): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`importer child exited (${code}) before answering`))
      this.child.once('exit', onExit)
      this.child.once('message', (msg) => {
        this.child.off('exit', onExit)
        resolve(msg as T)
      })
    })
  }

  ask<T>(msg: 'warm' | 'finish' | { block: number }): Promise<T> {
    const answer = this.#next<T>()
    this.child.send(msg)
    return answer
  }
}

if (process.send !== undefined && process.argv.includes('--spec')) {
  const { values } = parseArgs({ options: { spec: { type: 'string' } } })
  await import(join(JSON.parse(values.spec!).root as string, 'src/polyfill.ts'))
  await runImporter(JSON.parse(values.spec!) as ImporterSpec)
}
