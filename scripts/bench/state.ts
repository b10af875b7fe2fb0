// State at scale: the same 1000-transfer blocks imported on a state of 10k and of 1M accounts
// (goal: importCpuRatio ≤ 1.25, the median CPU time of this process per block, background
// threads included, of a warm importer: one that imported --warm-up untimed blocks first, which
// pay the same active accounts as the timed ones (docs/design.md "Cold and warm import"); the
// cold ratio (importer reopened after the warm-up) is printed beside it, as coldImportCpuRatio;
// the wall-clock ratios are printed too but mean little on a shared machine), a reopen and the resident memory of a node holding 1M accounts (goals
// ≤ 1000 ms, ≤ 512 MB, measured in a fresh child process), and one account's proof (bytes,
// verify µs). The filler accounts are written directly, as synthetic empty blocks of 100k
// writes each (the brief allows it), not through txs.
// usage: npm run bench:state [-- --small 10000 --large 1000000 --blocks 5 --warm-up 10 --txs 1000 --tree-cache NODES --value-cache ENTRIES --profile-dir DIR --fill-cache DIR]
// With --warm-up 10 (the default) the warm-up pays each of the 10k active accounts once and the timed blocks pay 5000 of
// them again; with --warm-up 5 the timed blocks pay accounts the importer has not read yet.
// --profile-dir writes a CPU profile of each size's timed imports (import-<accounts>-<cold|warm>.cpuprofile, for chrome://inspect or speedscope).
// --fill-cache keeps each size's filled data dir in DIR (fill-<accounts>) and copies it on later runs instead of filling
// again (the 1M fill takes ~25 min); delete DIR when the stored tree layout changes. fillMs is then the copy's time.
import '../../src/polyfill.ts'

import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { ClassicLevel } from 'classic-level'

import { decode, encode } from '../../blocks/codec.ts'
import { blockHash, computeBodyRoot, txSigningHash } from '../../blocks/ids.ts'
import { Block, type TxBody } from '../../blocks/schema.ts'
import { Chain } from '../../src/chain/chain.ts'
import { ChainStore } from '../../src/chain/chainStore.ts'
import { hash, sign, u32be } from '../../src/crypto/index.ts'
import { Account } from '../../src/state/records.ts'
import { StateProof, verifyStateProof } from '../../src/state/stateTree/index.ts'
import { computeStateRoot, type StateWrite } from '../../src/state/stateView.ts'
import { TABLES } from '../../src/state/tables.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { median } from './support/stats.ts'

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '10000' },
    large: { type: 'string', default: '1000000' },
    blocks: { type: 'string', default: '5' },
    'warm-up': { type: 'string', default: '10' },
    txs: { type: 'string', default: '1000' },
    child: { type: 'string' },
    'tree-cache': { type: 'string' },
    'value-cache': { type: 'string' },
    'profile-dir': { type: 'string' },
    'fill-cache': { type: 'string' },
  },
})

const SENDERS = 250
// Room for 1000 transfers per block (the default target is sized for a devnet).
const { genesis, validator, senders } = buildBenchGenesis({ name: 'xsc-bench-state', senders: SENDERS, amount: 10n ** 15n, consensus: { schemes: ['stake'] }, params: { targetBlockTxBytes: 1_000_000 } })
const fillerAddress = (i: number): Uint8Array => hash(u32be(i))

/** CPU ms of this process's main thread (the JS) since start, from /proc (Linux; 0 elsewhere): the rest of the process CPU is libuv's and classic-level's threads (reads, batch writes, compaction) and V8's helpers. */
function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return 0
  }
}

/** CPU ms of each thread of this process, by thread id (Linux; empty elsewhere). */
function threadCpuMs(): Map<string, number> {
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

// Child mode: open the store cold and report the time and the resident memory it took.
if (values.child !== undefined) {
  const t0 = performance.now()
  const store = await ChainStore.open(values.child, genesis)
  const reopenMs = performance.now() - t0
  globalThis.gc?.()
  const rssMB = process.memoryUsage().rss / 2 ** 20
  await store.close()
  console.log(JSON.stringify({ reopenMs, rssMB }))
  process.exit(0)
}

const SMALL = Number(values.small)
const LARGE = Number(values.large)
const BLOCKS = Number(values.blocks)
const WARM = Number(values['warm-up'])
const TXS = Number(values.txs)
const FILL_CHUNK = 100_000
const TREE_CACHE = {
  ...(values['tree-cache'] === undefined ? {} : { treeCacheNodes: Number(values['tree-cache']) }),
  ...(values['value-cache'] === undefined ? {} : { valueCacheEntries: Number(values['value-cache']) }),
}
const dirs: string[] = []
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'xsc-bench-state-'))
  dirs.push(d)
  return d
}

/** A data dir holding genesis plus `count` filler accounts, committed as empty blocks of direct writes. */
async function fill(count: number): Promise<{ dir: string; slot: number }> {
  const dir = tmp()
  const cached = values['fill-cache'] === undefined ? undefined : join(values['fill-cache'], `fill-${count}`)
  if (cached !== undefined && existsSync(join(cached, 'slot'))) {
    cpSync(join(cached, 'db'), dir, { recursive: true })
    return { dir, slot: Number(readFileSync(join(cached, 'slot'), 'utf8')) }
  }
  const store = await ChainStore.open(dir, genesis)
  let slot = 0
  for (let from = 0; from < count; from += FILL_CHUNK) {
    const writes: StateWrite[] = []
    for (let i = from; i < Math.min(count, from + FILL_CHUNK); i++) writes.push({ key: TABLES.account.key(fillerAddress(i)), value: encode(Account, { balance: 1_000n, nonce: 0 }) })
    writes.sort((a, b) => Buffer.compare(a.key, b.key))
    const head = store.head
    const root = await store.tree.withLoaded(() => computeStateRoot(store.tree, head.header.stateRoot, writes))
    slot++
    const header = { ...head.header, height: head.height + 1, prevHash: head.hash, kind: 'ledger' as const, slot, timestamp: genesis.genesisTime + BigInt(slot * genesis.slotMs), proposer: validator.publicKey, bodyRoot: computeBodyRoot([]), stateRoot: root.stateRoot, proofs: [] }
    const block = { header, entries: [] }
    await store.commitBlock(block, blockHash(header), writes, { treeNodes: root.treeNodes })
  }
  await store.close()
  // Settle the fill's burst of writes, so its compaction is not counted in the blocks' import.
  const level = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  await level.open()
  await level.compactRange(new Uint8Array([0]), new Uint8Array([255]))
  await level.close()
  if (cached !== undefined) {
    rmSync(cached, { recursive: true, force: true })
    cpSync(dir, join(cached, 'db'), { recursive: true })
    writeFileSync(join(cached, 'slot'), String(slot))
  }
  return { dir, slot }
}

function reopenInChild(dir: string): { reopenMs: number; rssMB: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', dir], { encoding: 'utf8', maxBuffer: 1 << 20 })
  return JSON.parse(out.trim().split('\n').pop()!) as { reopenMs: number; rssMB: number }
}

interface TimedImport {
  dir: string
  importMsPerBlock: number
  importCpuMsPerBlock: number
  importMainCpuMsPerBlock: number
  /** CPU ms of each thread over the timed blocks (main, then by thread id: V8's workers, libuv's pool, LevelDB's compaction). */
  threadMs: Record<string, number>
  treePagesPerBlock: number
  treeNodesPerBlock: number
  treeKBPerBlock: number
  treeCacheMB: number
  treeCacheNodes: number
}

/**
 * Imports `blocks` into a copy of `base`: the first WARM untimed, the rest timed. `cold`: the importer closes and reopens
 * after the warm-up, so the timed blocks start with empty caches (a node just started); otherwise they run in the process
 * that imported the warm-up (a node that has been running).
 */
async function importTimed(base: string, blocks: readonly Uint8Array[], cold: boolean, count: number): Promise<TimedImport> {
  const dir = tmp()
  cpSync(base, dir, { recursive: true })
  let importer = await Chain.open({ dataDir: dir, genesis, signatureWorkers: 0, ...TREE_CACHE })
  for (const bytes of blocks.slice(0, WARM)) await importer.importBlock(decode(Block, bytes), bytes)
  if (cold) {
    await importer.close()
    importer = await Chain.open({ dataDir: dir, genesis, signatureWorkers: 0, ...TREE_CACHE })
  }
  const perBlock: number[] = []
  const perBlockCpu: number[] = []
  const perBlockMainCpu: number[] = []
  const written = { ...importer.store.tree.written }
  const profiler = values['profile-dir'] === undefined ? undefined : new Session()
  if (profiler !== undefined) {
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.start')
  }
  const threads0 = threadCpuMs()
  const timed = blocks.slice(WARM)
  for (const bytes of timed) {
    const t = performance.now()
    const c = process.cpuUsage()
    const main = mainThreadCpuMs()
    await importer.importBlock(decode(Block, bytes), bytes)
    perBlock.push(performance.now() - t)
    const used = process.cpuUsage(c)
    perBlockCpu.push((used.user + used.system) / 1000)
    perBlockMainCpu.push(mainThreadCpuMs() - main)
  }
  const threadMs: Record<string, number> = {}
  for (const [tid, ms] of threadCpuMs()) if (ms - (threads0.get(tid) ?? 0) > 0) threadMs[tid === String(process.pid) ? 'main' : tid] = ms - (threads0.get(tid) ?? 0)
  if (profiler !== undefined) {
    const { profile } = await profiler.post('Profiler.stop')
    writeFileSync(join(values['profile-dir']!, `import-${count}-${cold ? 'cold' : 'warm'}.cpuprofile`), JSON.stringify(profile))
    profiler.disconnect()
  }
  const tree = importer.store.tree.written
  const result = {
    dir,
    importMsPerBlock: median(perBlock),
    importCpuMsPerBlock: median(perBlockCpu),
    importMainCpuMsPerBlock: median(perBlockMainCpu),
    threadMs,
    treePagesPerBlock: (tree.pages - written.pages) / timed.length,
    treeNodesPerBlock: (tree.nodes - written.nodes) / timed.length,
    treeKBPerBlock: (tree.bytes - written.bytes) / timed.length / 1024,
    treeCacheMB: importer.store.tree.cachedBytes / 2 ** 20,
    treeCacheNodes: importer.store.tree.cachedNodes,
  }
  await importer.close()
  return result
}

/** Fill, produce the warm-up and timed transfer blocks on one copy, import them into others (cold and warm), and measure a cold reopen. */
async function measure(count: number) {
  const t0 = performance.now()
  const filled = await fill(count)
  const fillMs = performance.now() - t0
  const base = tmp()
  cpSync(filled.dir, base, { recursive: true })
  const producer = await Chain.open({ dataDir: filled.dir, genesis, validatorKey: validator, maxTxsPerBlock: TXS, mempoolSize: BLOCKS * TXS + 1, signatureWorkers: 0, ...TREE_CACHE })
  const nonces = new Array<number>(SENDERS).fill(0)
  const blocks: Uint8Array[] = []
  let slot = filled.slot
  for (let b = 0; b < WARM + BLOCKS; b++) {
    // Recipients: filler accounts spread over the whole tree, the same ones at every size (the active accounts). i -> 7i
    // mod SMALL is one to one: block b pays the accounts of block b - SMALL / TXS again, none of the blocks between.
    const recipient = (i: number): Uint8Array => fillerAddress((b * TXS + i) * 7 % SMALL)
    // Accounts are served from disk: the direct mempool adds below read the senders' and recipients'.
    await producer.store.values.load([...senders.map((s) => TABLES.account.key(s.publicKey)), ...Array.from({ length: TXS }, (_, i) => TABLES.account.key(recipient(i)))])
    for (let i = 0; i < TXS; i++) {
      const s = (b * TXS + i) % SENDERS
      const body: TxBody = { chainId: genesis.chainId, from: senders[s]!.publicKey, nonce: nonces[s]!++, fee: 10_000n, payload: { type: 'transfer', to: recipient(i), amount: 1n } }
      producer.mempool.add({ body, signature: sign(senders[s]!.secretKey, txSigningHash(body)) }, producer.store.state, { signatureChecked: true })
    }
    slot++
    const made = await producer.produceBlock(slot, Number(genesis.genesisTime) + slot * genesis.slotMs)
    if (!made || made.block.entries.length !== TXS) throw new Error(`block has ${made?.block.entries.length} txs, expected ${TXS}`)
    blocks.push(encode(Block, made.block))
  }
  const probe = fillerAddress(3)
  const [proof] = await producer.store.tree.prove(producer.head.header.stateRoot, [TABLES.account.key(probe)])
  const root = producer.head.header.stateRoot
  await producer.close()
  rmSync(filled.dir, { recursive: true, force: true })

  const cold = await importTimed(base, blocks, true, count)
  const warm = WARM === 0 ? cold : await importTimed(base, blocks, false, count)
  const reopen = reopenInChild(cold.dir)
  const verifyRuns = 2000
  const tv = performance.now()
  for (let i = 0; i < verifyRuns; i++) verifyStateProof(root, proof!)
  const proofVerifyUs = ((performance.now() - tv) * 1000) / verifyRuns
  for (const d of [base, cold.dir, warm.dir]) rmSync(d, { recursive: true, force: true })
  return { cold, warm, fillMs, ...reopen, proofBytes: encode(StateProof, proof!).length, proofDepth: proof!.siblings.length, proofVerifyUs }
}

try {
  const small = await measure(SMALL)
  const large = await measure(LARGE)
  const round = (x: number, d = 1) => Number(x.toFixed(d))
  console.log(JSON.stringify({ small, large }))
  // The goal's figures are the warm import (docs/design.md "Cold and warm import"); the cold ones are printed beside them.
  const [s, l] = [small.warm, large.warm]
  console.log(JSON.stringify({
    accountsSmall: SMALL,
    accountsLarge: LARGE,
    txsPerBlock: TXS,
    blocks: BLOCKS,
    warmUpBlocks: WARM,
    importMsPerBlock10k: round(s.importMsPerBlock),
    importMsPerBlock1M: round(l.importMsPerBlock),
    importRatio: round(l.importMsPerBlock / s.importMsPerBlock, 3),
    // CPU time of this process (all its threads): steadier than wall time on a shared machine.
    importCpuMsPerBlock10k: round(s.importCpuMsPerBlock),
    importCpuMsPerBlock1M: round(l.importCpuMsPerBlock),
    importCpuRatio: round(l.importCpuMsPerBlock / s.importCpuMsPerBlock, 3),
    // Of which the main thread (JS; clock ticks of 10 ms); the rest is classic-level's and V8's threads.
    importMainCpuMsPerBlock10k: round(s.importMainCpuMsPerBlock),
    importMainCpuMsPerBlock1M: round(l.importMainCpuMsPerBlock),
    // The same timed blocks imported by a node just reopened (empty caches).
    coldImportMsPerBlock10k: round(small.cold.importMsPerBlock),
    coldImportMsPerBlock1M: round(large.cold.importMsPerBlock),
    coldImportRatio: round(large.cold.importMsPerBlock / small.cold.importMsPerBlock, 3),
    coldImportCpuMsPerBlock10k: round(small.cold.importCpuMsPerBlock),
    coldImportCpuMsPerBlock1M: round(large.cold.importCpuMsPerBlock),
    coldImportCpuRatio: round(large.cold.importCpuMsPerBlock / small.cold.importCpuMsPerBlock, 3),
    // Entries the tree writes per block (pages: src/state/stateTree/treePage.ts) against the nodes they hold.
    treePagesPerBlock10k: round(s.treePagesPerBlock),
    treePagesPerBlock1M: round(l.treePagesPerBlock),
    treeNodesPerBlock10k: round(s.treeNodesPerBlock),
    treeNodesPerBlock1M: round(l.treeNodesPerBlock),
    treeKBPerBlock10k: round(s.treeKBPerBlock),
    treeKBPerBlock1M: round(l.treeKBPerBlock),
    // What the warm importer's tree cache held after the 1M blocks (pages and index; bounded by DEFAULT_TREE_CACHE_BYTES).
    treeCacheMB1M: round(l.treeCacheMB),
    treeCacheNodes1M: l.treeCacheNodes,
    reopenMs1M: round(large.reopenMs),
    rssMB1M: round(large.rssMB),
    proofBytes: large.proofBytes,
    proofDepth: large.proofDepth,
    proofVerifyUs: round(large.proofVerifyUs, 2),
    fillMs1M: Math.round(large.fillMs),
    loadavg: round(loadavg()[0]!, 2),
  }))
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
