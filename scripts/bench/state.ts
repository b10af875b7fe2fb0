// State at scale: the same 1000-transfer blocks imported on a state of 10k and of 1M accounts (goal: the warm import's
// CPU ratio 1M / 10k ≤ 1.25), a reopen and the resident memory of a node holding 1M accounts (goals ≤ 1000 ms, ≤ 512 MB,
// measured in a fresh child process), and one account's proof (bytes, verify µs). The filler accounts are written
// directly, as synthetic empty blocks of 100k writes each (the brief allows it), not through txs.
//
// How the two sizes are compared (session 11, docs/design.md "Session 11"): each size's importer runs in its own child
// process (support/stateImporter.ts), and the parent drives both block by block over IPC, alternating: pair k imports
// timed block k at one size, then at the other (which goes first alternates per pair). So both sizes see the same load,
// seconds apart, and each importer's CPU (process.cpuUsage of its process: its JS thread, its GC, its classic-level
// threads) is its own: in one process the two would share V8's heap (a collection one caused charged to the other) and
// LevelDB's one background compaction thread. Before, the bench imported all of one size's blocks, then the other's,
// minutes apart, and the 10k side alone moved 283–472 ms between quiet runs.
// - importCpuPairRatio: the median over the --blocks pairs of (1M block's CPU / 10k block's CPU): the goal's figure.
// - importCpuRatio: the per-size medians' ratio (as before); importPeriodCpuPairRatio: the same pairs with the CPU each
//   block's import left running after it (compaction) counted, from one block's start to the next's.
// - warm: the importer imported --warm-up untimed blocks first, which pay the same active accounts as the timed ones
//   (docs/design.md "Cold and warm import"); cold (coldImport*): the importer reopened after the warm-up (empty caches),
//   the first --cold-blocks timed blocks. Wall-clock ratios are printed too but mean little on a shared machine.
// - pagesReadPerBlock / valuesReadPerBlock: tree pages and account values the warm import reads from disk (0: the
//   working set is cached).
// - threadMs (first JSON line, per importer): CPU of each thread over the timed blocks. Session 12 (docs/design.md): at
//   1M the main thread takes +45–100 ms a block, classic-level's threads +20–35 (the 1.3 MB of pages a block against
//   0.3 MB: scripts/bench/treePageSizes.ts shows why, page level by page level), V8's workers −3 to +38.
// usage: npm run bench:state [-- --small 10000 --large 1000000 --blocks 11 --warm-up 10 --cold-blocks 5 --txs 1000 --tree-cache NODES --value-cache ENTRIES --profile-dir DIR --fill-cache DIR --root DIR]
// With --warm-up 10 (the default) the warm-up pays each of the 10k active accounts once and the timed blocks pay them
// again; with --warm-up 5 the timed blocks pay accounts the importer has not read yet.
// --root DIR: the importers (and the reopen) run another checkout's code (e.g. a copy of main) on the same blocks, for
// before/after runs; the blocks are produced by this checkout (the roots must not differ).
// --profile-dir writes a CPU profile of each importer's timed imports (import-<accounts>-<cold|warm>.cpuprofile, for
// chrome://inspect or speedscope; its idle time is the other importer's turn).
// --fill-cache keeps each size's filled data dir in DIR (fill-<accounts>) and copies it on later runs instead of filling
// again (the 1M fill takes ~4 min); delete DIR when the stored tree layout changes. fillMs is then the copy's time. The
// produced blocks are kept there too (fill-<accounts>/blocks-<blocks>x<txs>-<small>): delete them when block production changes.
import '../../src/polyfill.ts'

import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { ClassicLevel } from 'classic-level'

import { bytes32, decode, encode, struct } from '../../blocks/codec.ts'
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
import { ImporterChild, type ImporterTotals, type TimedBlock, writeBlocksFile } from './support/stateImporter.ts'
import { median } from './support/stats.ts'

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '10000' },
    large: { type: 'string', default: '1000000' },
    blocks: { type: 'string', default: '11' },
    'cold-blocks': { type: 'string', default: '5' },
    root: { type: 'string', default: resolve(import.meta.dirname, '../..') },
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
const GENESIS_NAME = 'xsc-bench-state'
// Room for 1000 transfers per block (the default target is sized for a devnet); the importer children build the same.
const { genesis, validator, senders } = buildBenchGenesis({ name: GENESIS_NAME, senders: SENDERS, amount: 10n ** 15n, consensus: { schemes: ['stake'] }, params: { targetBlockTxBytes: 1_000_000 } })
const fillerAddress = (i: number): Uint8Array => hash(u32be(i))
/** The produced head's root and one account's proof there, kept with the cached blocks. */
const ProducedProof = struct('ProducedProof', { root: bytes32, proof: StateProof })

// Child mode: open the store cold and report the time and the resident memory it took.
if (values.child !== undefined) {
  // The checkout under test (--root) opens it.
  const { ChainStore: StoreAtRoot } = (await import(join(values.root, 'src/chain/chainStore.ts'))) as typeof import('../../src/chain/chainStore.ts')
  const t0 = performance.now()
  const store = await StoreAtRoot.open(values.child, genesis)
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
const COLD_BLOCKS = Number(values['cold-blocks'])
const ROOT = values.root
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
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', dir, '--root', ROOT], { encoding: 'utf8', maxBuffer: 1 << 20 })
  return JSON.parse(out.trim().split('\n').pop()!) as { reopenMs: number; rssMB: number }
}

/** A size's filled state, its blocks (warm-up then timed, produced on a copy) and one account's proof. */
interface Prepared {
  count: number
  base: string
  blocksFile: string
  fillMs: number
  proof: StateProof
  root: Uint8Array
}

/** Fill, then produce the warm-up and timed transfer blocks on one copy; the blocks go to a file the importers read. */
async function prepare(count: number): Promise<Prepared> {
  const t0 = performance.now()
  const filled = await fill(count)
  const fillMs = performance.now() - t0
  const base = tmp()
  cpSync(filled.dir, base, { recursive: true })
  const blocksFile = join(tmp(), 'blocks')
  // The blocks depend only on the fill and these parameters (not on how the tree is stored): kept beside the fill.
  const cachedBlocks = values['fill-cache'] === undefined ? undefined : join(values['fill-cache'], `fill-${count}`, `blocks-${WARM + BLOCKS}x${TXS}-${SMALL}`)
  if (cachedBlocks !== undefined && existsSync(join(cachedBlocks, 'proof'))) {
    rmSync(filled.dir, { recursive: true, force: true })
    cpSync(join(cachedBlocks, 'blocks'), blocksFile)
    const { root, proof } = decode(ProducedProof, readFileSync(join(cachedBlocks, 'proof')))
    return { count, base, blocksFile, fillMs, proof, root }
  }
  const producer = await Chain.open({ dataDir: filled.dir, genesis, validatorKey: validator, maxTxsPerBlock: TXS, mempoolSize: (WARM + BLOCKS) * TXS + 1, signatureWorkers: 0, ...TREE_CACHE })
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
  writeBlocksFile(blocksFile, blocks)
  if (cachedBlocks !== undefined) {
    mkdirSync(cachedBlocks, { recursive: true })
    cpSync(blocksFile, join(cachedBlocks, 'blocks'))
    writeFileSync(join(cachedBlocks, 'proof'), encode(ProducedProof, { root, proof: proof! }))
  }
  return { count, base, blocksFile, fillMs, proof: proof!, root }
}

interface SizeRun {
  dir: string
  blocks: TimedBlock[]
  totals: ImporterTotals
}

/**
 * Imports each size's blocks into a copy of its state, each size in its own importer process, the timed blocks in
 * lockstep: pair k imports block k at one size, then at the other (which goes first alternates per pair), so both see
 * the same load and a pair's ratio compares blocks imported seconds apart. `cold`: each importer reopens after the
 * warm-up (a node just started; only the first COLD_BLOCKS timed blocks are imported), else it imports the timed blocks
 * in the process that imported the warm-up (a node that has been running).
 */
async function lockstep(sizes: readonly Prepared[], cold: boolean): Promise<SizeRun[]> {
  const timed = cold ? Math.min(BLOCKS, COLD_BLOCKS) : BLOCKS
  const dirs = sizes.map((p) => {
    const dir = tmp()
    cpSync(p.base, dir, { recursive: true })
    return dir
  })
  if (values['profile-dir'] !== undefined) mkdirSync(values['profile-dir'], { recursive: true })
  const children = await Promise.all(sizes.map((p, i) => ImporterChild.start({
    root: ROOT,
    dataDir: dirs[i]!,
    blocksFile: p.blocksFile,
    warm: WARM,
    cold,
    genesisName: GENESIS_NAME,
    ...TREE_CACHE,
    ...(values['profile-dir'] === undefined ? {} : { profileFile: join(values['profile-dir'], `import-${p.count}-${cold ? 'cold' : 'warm'}.cpuprofile`) }),
  })))
  // Warm-ups one after the other (untimed), so neither importer's warm-up load lands on the other's.
  for (const child of children) await child.ask('warm')
  const blocks: TimedBlock[][] = sizes.map(() => [])
  for (let k = 0; k < timed; k++) {
    const order = k % 2 === 0 ? children.map((_, i) => i) : children.map((_, i) => children.length - 1 - i)
    for (const i of order) blocks[i]!.push(await children[i]!.ask<TimedBlock>({ block: k }))
  }
  const totals = await Promise.all(children.map((c) => c.ask<ImporterTotals>('finish')))
  return sizes.map((_, i) => ({ dir: dirs[i]!, blocks: blocks[i]!, totals: totals[i]! }))
}

/** Median over the timed blocks of one figure; null when the code under test does not count it. */
const med = (run: SizeRun, pick: (b: TimedBlock) => number | null): number => median(run.blocks.map(pick).filter((x): x is number => x !== null))
/** Median over the pairs of large / small for one figure. */
const pairRatio = (small: SizeRun, large: SizeRun, pick: (b: TimedBlock) => number): number => median(small.blocks.map((b, k) => pick(large.blocks[k]!) / pick(b)))

try {
  const sizes = [await prepare(SMALL), await prepare(LARGE)]
  const [coldSmall, coldLarge] = await lockstep(sizes, true)
  const [s, l] = await lockstep(sizes, false)
  const reopen = reopenInChild(coldLarge!.dir)
  const large = sizes[1]!
  const verifyRuns = 2000
  const tv = performance.now()
  for (let i = 0; i < verifyRuns; i++) verifyStateProof(large.root, large.proof)
  const proofVerifyUs = ((performance.now() - tv) * 1000) / verifyRuns
  const round = (x: number, d = 1) => Number(x.toFixed(d))
  console.log(JSON.stringify({ warm: { small: s, large: l }, cold: { small: coldSmall, large: coldLarge } }))
  const cpu = (b: TimedBlock) => b.cpuMs
  const wall = (b: TimedBlock) => b.wallMs
  const perBlock = (run: SizeRun, total: number) => total / run.blocks.length
  // The goal's figures are the warm import (docs/design.md "Cold and warm import"); the cold ones are printed beside them.
  console.log(JSON.stringify({
    accountsSmall: SMALL,
    accountsLarge: LARGE,
    txsPerBlock: TXS,
    blocks: BLOCKS,
    warmUpBlocks: WARM,
    root: ROOT,
    // Each size in its own importer process, timed blocks alternated (lockstep); per size the median over the blocks.
    importMsPerBlock10k: round(med(s!, wall)),
    importMsPerBlock1M: round(med(l!, wall)),
    importRatio: round(med(l!, wall) / med(s!, wall), 3),
    // CPU time of each importer's process (all its threads): steadier than wall time on a shared machine.
    importCpuMsPerBlock10k: round(med(s!, cpu)),
    importCpuMsPerBlock1M: round(med(l!, cpu)),
    importCpuRatio: round(med(l!, cpu) / med(s!, cpu), 3),
    // The median over the pairs of (1M block's CPU / 10k block's CPU), the two imported back to back: the figure the
    // goal (≤ 1.25) is judged by; and the same with the CPU each block's import left running after it (compaction).
    importCpuPairRatio: round(pairRatio(s!, l!, cpu), 3),
    importPeriodCpuPairRatio: round(median(s!.blocks.slice(1).map((b, k) => l!.blocks[k + 1]!.periodCpuMs / b.periodCpuMs)), 3),
    importPairRatio: round(pairRatio(s!, l!, wall), 3),
    // Of which the main thread (JS; clock ticks of 10 ms); the rest is classic-level's and V8's threads.
    importMainCpuMsPerBlock10k: round(med(s!, (b) => b.mainMs)),
    importMainCpuMsPerBlock1M: round(med(l!, (b) => b.mainMs)),
    // Tree pages and account values the warm import reads from disk per block (median).
    pagesReadPerBlock10k: med(s!, (b) => b.pagesRead),
    pagesReadPerBlock1M: med(l!, (b) => b.pagesRead),
    valuesReadPerBlock10k: med(s!, (b) => b.valuesRead),
    valuesReadPerBlock1M: med(l!, (b) => b.valuesRead),
    pathsWalkedPerBlock10k: med(s!, (b) => b.pathsWalked),
    pathsWalkedPerBlock1M: med(l!, (b) => b.pathsWalked),
    // The same timed blocks imported by a node just reopened (empty caches; the first --cold-blocks of them).
    coldImportMsPerBlock10k: round(med(coldSmall!, wall)),
    coldImportMsPerBlock1M: round(med(coldLarge!, wall)),
    coldImportRatio: round(med(coldLarge!, wall) / med(coldSmall!, wall), 3),
    coldImportCpuMsPerBlock10k: round(med(coldSmall!, cpu)),
    coldImportCpuMsPerBlock1M: round(med(coldLarge!, cpu)),
    coldImportCpuRatio: round(med(coldLarge!, cpu) / med(coldSmall!, cpu), 3),
    coldImportCpuPairRatio: round(pairRatio(coldSmall!, coldLarge!, cpu), 3),
    // Entries the tree writes per block (pages: src/state/stateTree/treePage.ts) against the nodes they hold.
    treePagesPerBlock10k: round(perBlock(s!, s!.totals.treePages)),
    treePagesPerBlock1M: round(perBlock(l!, l!.totals.treePages)),
    treeNodesPerBlock10k: round(perBlock(s!, s!.totals.treeNodes)),
    treeNodesPerBlock1M: round(perBlock(l!, l!.totals.treeNodes)),
    treeKBPerBlock10k: round(perBlock(s!, s!.totals.treeBytes) / 1024),
    treeKBPerBlock1M: round(perBlock(l!, l!.totals.treeBytes) / 1024),
    // What the warm importer's tree cache held after the 1M blocks (pages and index; bounded by DEFAULT_TREE_CACHE_BYTES).
    treeCacheMB1M: round(l!.totals.treeCacheMB),
    treeCacheNodes1M: l!.totals.treeCacheNodes,
    reopenMs1M: round(reopen.reopenMs),
    rssMB1M: round(reopen.rssMB),
    proofBytes: encode(StateProof, large.proof).length,
    proofDepth: large.proof.siblings.length,
    proofVerifyUs: round(proofVerifyUs, 2),
    fillMs1M: Math.round(large.fillMs),
    loadavg: round(loadavg()[0]!, 2),
  }))
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
