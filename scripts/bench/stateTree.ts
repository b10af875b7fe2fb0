// The state tree's part of a block import at two state sizes, without the rest of the import (signatures, transition,
// block encoding): on copies of `bench:state`'s filled data dirs (--fill-cache, required: run `npm run bench:state --
// --fill-cache DIR` once first), each block's writes (1250 filler accounts, the bench's active set: i -> 7i mod 10k, so
// the same keys at both sizes) are loaded, computed (computeStateRoot), staged and committed as an empty block of
// direct writes, as the fill does. The two sizes alternate block by block in one process, so both see the same load.
// Prints the median CPU ms per block (the process: classic-level's threads included; and the main thread) per size,
// after --warm-up untimed blocks at each size. `--root DIR` runs another checkout's code (e.g. /work/main) on the same
// fills, for before/after runs that alternate.
// --profile FILE writes CPU profiles of the large size's timed blocks (a JSON array of profiles, one per block).
// usage: npx tsx scripts/bench/stateTree.ts --fill-cache DIR [--root DIR --blocks 10 --warm-up 8 --keys 1250 --small 10000 --large 1000000 --profile FILE]
import '../../src/polyfill.ts'

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { buildBenchGenesis } from './support/benchGenesis.ts'
import { median } from './support/stats.ts'

const { values } = parseArgs({
  options: {
    'fill-cache': { type: 'string' },
    root: { type: 'string', default: resolve(import.meta.dirname, '../..') },
    blocks: { type: 'string', default: '10' },
    'warm-up': { type: 'string', default: '8' },
    keys: { type: 'string', default: '1250' },
    small: { type: 'string', default: '10000' },
    large: { type: 'string', default: '1000000' },
    profile: { type: 'string' },
  },
})
if (values['fill-cache'] === undefined) throw new Error('--fill-cache DIR is required (bench:state fills it)')
const root = values.root
const { ChainStore } = (await import(join(root, 'src/chain/chainStore.ts'))) as typeof import('../../src/chain/chainStore.ts')
const { encode } = (await import(join(root, 'blocks/codec.ts'))) as typeof import('../../blocks/codec.ts')
const { blockHash, computeBodyRoot } = (await import(join(root, 'blocks/ids.ts'))) as typeof import('../../blocks/ids.ts')
const { hash, u32be } = (await import(join(root, 'src/crypto/index.ts'))) as typeof import('../../src/crypto/index.ts')
const { Account } = (await import(join(root, 'src/state/records.ts'))) as typeof import('../../src/state/records.ts')
const { computeStateRoot } = (await import(join(root, 'src/state/stateView.ts'))) as typeof import('../../src/state/stateView.ts')
const { TABLES } = (await import(join(root, 'src/state/tables.ts'))) as typeof import('../../src/state/tables.ts')

// bench:state's genesis (same name): its fills open with it.
const { genesis, validator } = buildBenchGenesis({ name: 'xsc-bench-state', senders: 250, amount: 10n ** 15n, consensus: { schemes: ['stake'] }, params: { targetBlockTxBytes: 1_000_000 } })
const BLOCKS = Number(values.blocks)
const WARM = Number(values['warm-up'])
const KEYS = Number(values.keys)
const ACTIVE = Number(values.small)
const fillerAddress = (i: number): Uint8Array => hash(u32be(i))

/** CPU ms of this process's main thread since start, from /proc (Linux). */
function mainThreadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

const dirs: string[] = []
async function openCopy(count: number) {
  const cached = join(values['fill-cache']!, `fill-${count}`)
  const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-tree-'))
  dirs.push(dir)
  cpSync(join(cached, 'db'), dir, { recursive: true })
  const store = await ChainStore.open(dir, genesis)
  return { store, slot: Number(readFileSync(join(cached, 'slot'), 'utf8')) + 1000 }
}

/** Block `b`'s writes: KEYS active filler accounts (the same at every size), a new balance each. */
function writesOf(b: number) {
  const keys = new Map<string, Uint8Array>()
  for (let i = 0; keys.size < KEYS; i++) {
    const key = TABLES.account.key(fillerAddress(((b * KEYS + i) * 7) % ACTIVE))
    keys.set(Buffer.from(key).toString('hex'), key)
  }
  const value = encode(Account, { balance: 1_000n + BigInt(b), nonce: b })
  return [...keys.values()].sort(Buffer.compare).map((key) => ({ key, value }))
}

type Opened = Awaited<ReturnType<typeof openCopy>>
async function block(o: Opened, b: number): Promise<{ cpuMs: number; mainMs: number }> {
  const writes = writesOf(b)
  const c = process.cpuUsage()
  const m = mainThreadCpuMs()
  const { store } = o
  const head = store.head
  await store.tree.load(head.header.stateRoot, writes.map((w) => w.key))
  const rootUpdate = await store.tree.withLoaded(() => computeStateRoot(store.tree, head.header.stateRoot, writes))
  o.slot++
  const header = { ...head.header, height: head.height + 1, prevHash: head.hash, kind: 'ledger' as const, slot: o.slot, timestamp: genesis.genesisTime + BigInt(o.slot * genesis.slotMs), proposer: validator.publicKey, bodyRoot: computeBodyRoot([]), stateRoot: rootUpdate.stateRoot, proofs: [] }
  await store.commitBlock({ header, entries: [] }, blockHash(header), writes, { treeNodes: rootUpdate.treeNodes })
  const used = process.cpuUsage(c)
  return { cpuMs: (used.user + used.system) / 1000, mainMs: mainThreadCpuMs() - m }
}

try {
  const small = await openCopy(Number(values.small))
  const large = await openCopy(Number(values.large))
  const times = { small: [] as number[], large: [] as number[], smallMain: [] as number[], largeMain: [] as number[] }
  const profiler = values.profile === undefined ? undefined : new Session()
  for (let b = 0; b < WARM + BLOCKS; b++) {
    const s = await block(small, b)
    if (b === WARM && profiler !== undefined) {
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.start')
    }
    const l = await block(large, b)
    if (profiler !== undefined && b >= WARM) {
      // Only the large size's timed blocks are sampled: paused around the small ones.
      const { profile } = await profiler.post('Profiler.stop')
      if (b > WARM) {
        const prev = JSON.parse(readFileSync(values.profile!, 'utf8'))
        writeFileSync(values.profile!, JSON.stringify([...prev, profile]))
      } else writeFileSync(values.profile!, JSON.stringify([profile]))
      if (b + 1 < WARM + BLOCKS) await profiler.post('Profiler.start')
    }
    if (b < WARM) continue
    times.small.push(s.cpuMs)
    times.smallMain.push(s.mainMs)
    times.large.push(l.cpuMs)
    times.largeMain.push(l.mainMs)
  }
  const written = (o: Opened) => o.store.tree.written
  const round = (x: number) => Number(x.toFixed(1))
  console.log(JSON.stringify({
    root,
    treeCpuMsPerBlock10k: round(median(times.small)),
    treeCpuMsPerBlock1M: round(median(times.large)),
    treeCpuDeltaMs: round(median(times.large) - median(times.small)),
    treeMainMsPerBlock10k: round(median(times.smallMain)),
    treeMainMsPerBlock1M: round(median(times.largeMain)),
    treeOtherMsPerBlock10k: round(median(times.small.map((t, i) => t - times.smallMain[i]!))),
    treeOtherMsPerBlock1M: round(median(times.large.map((t, i) => t - times.largeMain[i]!))),
    pagesWritten10k: written(small).pages,
    pagesWritten1M: written(large).pages,
    loadavg: Number(loadavg()[0]!.toFixed(2)),
  }))
  await small.store.close()
  await large.store.close()
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
