// The state tree update alone (computeTreeUpdate), in process, at a devnet's size: a tree of --accounts account rows
// (held as a node holds them: the chain store's page cache, StateTreeStore, kept current by stage(); --memory:
// MemoryTreeNodes), then blocks of --transfers transfers among them (sender and recipient rows rewritten,
// sorted write set as a block's), each block's update computed and its nodes added. Prints CPU ms per block and µs per
// written key (medians over --blocks timed blocks after --warm-up), new nodes and hashes per written key.
// `--root DIR` runs another checkout's computeTreeUpdate on the same blocks, alternating block by block with this one
// (both trees follow the same writes: the roots must agree, the bench throws otherwise). Both arms share one heap, so
// a young-generation collection lands on whichever arm allocates when it falls due: to compare allocation cuts, run the
// bench from each checkout in turn (separate processes, alternating) instead.
// With `node --expose-gc --import tsx` each timed update starts after a full collection (slower overall: measured 32-38
// ms per block against 21-33 without).
// usage: npx tsx scripts/bench/treeUpdate.ts [--accounts 5000 --transfers 1000 --blocks 30 --warm-up 5 --root DIR --memory]
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { encode } from '../../blocks/codec.ts'
import { compareBytes, equalBytes, hash, u32be } from '../../src/crypto/index.ts'
import { Account } from '../../src/state/records.ts'
import type { StateWrite } from '../../src/state/stateView.ts'
import { TABLES } from '../../src/state/tables.ts'
import { median } from './support/stats.ts'

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '5000' },
    transfers: { type: 'string', default: '1000' },
    blocks: { type: 'string', default: '30' },
    'warm-up': { type: 'string', default: '5' },
    root: { type: 'string' },
    memory: { type: 'boolean', default: false },
  },
})
const ACCOUNTS = Number(values.accounts)
const TRANSFERS = Number(values.transfers)
const BLOCKS = Number(values.blocks)
const WARM = Number(values['warm-up'])

type Tree = typeof import('../../src/state/stateTree/index.ts')
type Store = typeof import('../../src/chain/StateTreeStore.ts')
type Mod = Tree & Store
const load = async (root: string): Promise<Mod> => ({ ...((await import(join(root, 'src/state/stateTree/index.ts'))) as Tree), ...((await import(join(root, 'src/chain/StateTreeStore.ts'))) as Store) })
const arms: { name: string; mod: Mod }[] = [{ name: 'this', mod: await load(resolve(import.meta.dirname, '../..')) }]
if (values.root !== undefined) arms.push({ name: 'root', mod: await load(resolve(values.root)) })

const keys = Array.from({ length: ACCOUNTS }, (_, i) => TABLES.account.key(hash(u32be(i))))
const balances = Array.from({ length: ACCOUNTS }, () => 10n ** 15n)
const nonces = new Array<number>(ACCOUNTS).fill(0)
const row = (i: number): StateWrite => ({ key: keys[i]!, value: encode(Account, { balance: balances[i]!, nonce: nonces[i]! }) })

// Deterministic pseudo-random (xorshift32): the same blocks every run.
let seed = 0x9e3779b9
const rand = (n: number): number => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) % n
}

// The reader a node uses (the chain store's page cache: its stage() keeps it current; nothing is read from disk, so no
// database), or --memory: MemoryTreeNodes (tests and tools).
interface Reader { node(hash: Uint8Array): Uint8Array | undefined; add(nodes: readonly { hash: Uint8Array; bytes: Uint8Array }[], root: Uint8Array): void }
const reader = (mod: Mod): Reader => {
  if (values.memory === true) {
    const m = new mod.MemoryTreeNodes()
    return { node: (h) => m.node(h), add: (nodes) => m.add(nodes) }
  }
  const store = new mod.StateTreeStore(undefined as never)
  return { node: (h) => store.node(h), add: (nodes, root) => void store.stage(root, nodes) }
}
const trees = arms.map((a) => ({ ...a, nodes: reader(a.mod), root: a.mod.EMPTY_TREE_ROOT, ms: [] as number[] }))
const genesis = Array.from({ length: ACCOUNTS }, (_, i) => row(i)).sort((a, b) => compareBytes(a.key, b.key))
for (const t of trees) {
  const u = t.mod.computeTreeUpdate(t.nodes, t.root, genesis)
  t.nodes.add(u.nodes, u.root)
  t.root = u.root
}

const perKeyUs: number[][] = trees.map(() => [])
let written = 0
let added = 0
for (let b = 0; b < WARM + BLOCKS; b++) {
  const touched = new Set<number>()
  for (let i = 0; i < TRANSFERS; i++) {
    const from = rand(ACCOUNTS)
    const to = rand(ACCOUNTS)
    balances[from]! -= 1n
    nonces[from]! += 1
    balances[to]! += 1n
    touched.add(from).add(to)
  }
  const writes = [...touched].map(row).sort((a, c) => compareBytes(a.key, c.key))
  const order = b % 2 === 0 ? trees : [...trees].reverse()
  let rootSeen: Uint8Array | undefined
  for (const t of order) {
    // With --expose-gc each arm starts on an empty young generation: the collections it pays for are its own allocations'.
    ;(globalThis as { gc?: () => void }).gc?.()
    const start = process.cpuUsage()
    const u = t.mod.computeTreeUpdate(t.nodes, t.root, writes)
    const used = process.cpuUsage(start)
    t.nodes.add(u.nodes, u.root)
    t.root = u.root
    if (rootSeen !== undefined && !equalBytes(rootSeen, u.root)) throw new Error(`roots differ at block ${b}`)
    rootSeen = u.root
    if (b >= WARM) {
      const ms = (used.user + used.system) / 1000
      t.ms.push(ms)
      perKeyUs[trees.indexOf(t)]!.push((ms * 1000) / writes.length)
      if (t === trees[0]) {
        written += writes.length
        added += u.nodes.length
      }
    }
  }
}
// Hashes per block: a path per written key, per new leaf its value's and its own, one per new internal node.
const leaves = Math.round(written / BLOCKS)
const out: Record<string, unknown> = { accounts: ACCOUNTS, transfers: TRANSFERS, writtenKeysPerBlock: leaves, newNodesPerWrittenKey: +(added / written).toFixed(2), hashesPerWrittenKey: +((2 * written + (added - written) + written) / written).toFixed(2) }
trees.forEach((t, i) => {
  out[`${t.name}CpuMsPerBlock`] = +median(t.ms).toFixed(2)
  out[`${t.name}CpuUsPerWrittenKey`] = +median(perKeyUs[i]!).toFixed(2)
})
out.load1 = +loadavg()[0]!.toFixed(2)
console.log(JSON.stringify(out))
