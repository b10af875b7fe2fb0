import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { type BatchOp, Bucket, bucketKey, Db } from '../../../src/chain/db.ts'
import { StateTreeStore } from '../../../src/chain/stateStore.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { compactTreePage, expandTreePage } from '../../../src/state/stateTree/compactTreePage.ts'
import {
  computeStateChunk, computeStateProof, computeTreeUpdate, EMPTY_TREE_ROOT, encodeTreePage, MAX_PATH, MemoryTreeNodes, StateChunk, StateProof,
  type TreeNodeWrite,
} from '../../../src/state/stateTree/index.ts'
import type { StateWrite } from '../../../src/state/stateView.ts'
import { tempDir } from '../../support/chainFixtures.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups.length = 0
})

/** A real classic-level data dir, reopenable (a cold cache sees only what is on disk). */
function dataDir(): { open: () => Promise<Db> } {
  const tmp = tempDir('xsc-tree-pages-')
  const open: Array<Db> = []
  cleanups.push(tmp.cleanup, async () => {
    for (const db of open) await db.close().catch(() => undefined)
  })
  return {
    open: async () => {
      const db = await Db.open(tmp.dir)
      open.push(db)
      return db
    },
  }
}

// Keys from a small space, so batches rewrite, delete and re-add the same keys; values of any length (leaves of any size).
const arbKey = fc.integer({ min: 0, max: 400 }).map((n) => new Uint8Array([n & 0xff, n >> 8, 7]))
const arbWrite = fc.record({ key: arbKey, value: fc.option(fc.uint8Array({ minLength: 0, maxLength: 60 }), { nil: undefined }) })
const arbBatches = fc.array(fc.array(arbWrite, { maxLength: 80 }), { minLength: 1, maxLength: 5 })

/** Each batch's writes, one per key (the last wins), as a block's write set. */
const dedupe = (batch: StateWrite[]): StateWrite[] => [...new Map(batch.map((w) => [toHex(w.key), w])).values()]

/** Every root of `batches` applied in order, computed in memory (the reference). */
function memoryRoots(batches: StateWrite[][]): { nodes: MemoryTreeNodes; roots: Uint8Array[] } {
  const nodes = new MemoryTreeNodes()
  const roots: Uint8Array[] = []
  let root = EMPTY_TREE_ROOT
  for (const batch of batches) {
    const update = computeTreeUpdate(nodes, root, dedupe(batch))
    nodes.add(update.nodes)
    roots.push((root = update.root))
  }
  return { nodes, roots }
}

/** Applies `batch` to the store's tree at `root` as a committed block does; returns the new root and the batch ops it staged. */
async function commit(store: StateTreeStore, db: Db, root: Uint8Array, batch: StateWrite[], write = true): Promise<{ root: Uint8Array; ops: BatchOp[] }> {
  const writes = dedupe(batch)
  const update = await store.withLoaded(() => computeTreeUpdate(store, root, writes))
  const ops = store.stage(update.root, update.nodes)
  if (write) await db.batch(ops)
  store.trim()
  return { root: update.root, ops }
}

const probeKeys = Array.from({ length: 40 }, (_, i) => new Uint8Array([(i * 11) & 0xff, 0, 7]))
const proofHex = (p: StateProof): string => toHex(encode(StateProof, p))

/** The proofs of the probe keys at `root`, from the store (cold or warm) and from memory, encoded. */
async function sameProofs(store: StateTreeStore, memory: MemoryTreeNodes, root: Uint8Array): Promise<void> {
  const fromStore = await store.prove(root, probeKeys)
  expect(fromStore.map(proofHex)).toEqual(probeKeys.map((k) => proofHex(computeStateProof(memory, root, k))))
}

describe('StateTreeStore: the tree stored as pages', () => {
  it('random writes and deletes give the in-memory roots and proofs, at every root, with a tiny cache and after a reopen with a cold cache (property)', async () => {
    await fc.assert(fc.asyncProperty(arbBatches, fc.integer({ min: 1, max: 60 }), async (batches, cacheNodes) => {
      const dir = dataDir()
      const memory = memoryRoots(batches)
      let db = await dir.open()
      let store = new StateTreeStore(db, cacheNodes)
      let root = EMPTY_TREE_ROOT
      for (const [i, batch] of batches.entries()) {
        root = (await commit(store, db, root, batch)).root
        expect(toHex(root)).toBe(toHex(memory.roots[i]!))
        expect(store.cachedNodes).toBeLessThanOrEqual(cacheNodes)
      }
      await db.close()
      db = await dir.open()
      store = new StateTreeStore(db, cacheNodes)
      for (const r of memory.roots) await sameProofs(store, memory.nodes, r)
      // One more block on the cold store still reaches the in-memory root.
      const more = [{ key: probeKeys[3]!, value: new Uint8Array([9]) }, { key: probeKeys[4]!, value: undefined }]
      const next = await commit(store, db, root, more)
      expect(toHex(next.root)).toBe(toHex(computeTreeUpdate(memory.nodes, root, more).root))
    }), { numRuns: 30 })
  }, 120_000)

  it('a block writes one entry per page it touches: far fewer entries than nodes', async () => {
    const dir = dataDir()
    const db = await dir.open()
    const store = new StateTreeStore(db)
    const fill = Array.from({ length: 8_000 }, (_, i) => ({ key: new Uint8Array([i & 0xff, (i >> 8) & 0xff, i >> 16, 1]), value: new Uint8Array([1]) }))
    const { root } = await commit(store, db, EMPTY_TREE_ROOT, fill)
    const block = Array.from({ length: 300 }, (_, i) => ({ key: fill[i * 23]!.key, value: new Uint8Array([2]) }))
    const update = computeTreeUpdate(store, root, block)
    const ops = store.stage(update.root, update.nodes)
    // ~15 levels over 8k keys: ~4 pages per path against ~15 nodes.
    expect(ops.length).toBeLessThan(update.nodes.length / 2.5)
    expect(ops.every((op) => op.key[0] === Bucket.treePageCompact)).toBe(true)
  })

  it('a crash after any part of a block\'s pages is written keeps the last committed root whole (property)', async () => {
    await fc.assert(fc.asyncProperty(arbBatches, fc.array(arbWrite, { maxLength: 80 }), fc.infiniteStream(fc.boolean()), async (committed, lost, keep) => {
      const dir = dataDir()
      let db = await dir.open()
      let store = new StateTreeStore(db, 30)
      let root = EMPTY_TREE_ROOT
      for (const batch of committed) root = (await commit(store, db, root, batch)).root
      const memory = memoryRoots(committed)
      // The next block's pages reach the disk only in part (each op kept or lost), as a write cut short would leave them.
      const staged = await commit(store, db, root, lost, false)
      await db.batch(staged.ops.filter(() => keep.next().value))
      await db.close()
      db = await dir.open()
      store = new StateTreeStore(db, 30)
      for (const r of memory.roots) await sameProofs(store, memory.nodes, r)
      // And the chain goes on from the last committed root.
      const again = await commit(store, db, root, lost)
      expect(toHex(again.root)).toBe(toHex(staged.root))
    }), { numRuns: 30 })
  }, 120_000)

  it('a data dir of the earlier layout (one entry per node) reads in place and converts as blocks rewrite it', async () => {
    const batches: StateWrite[][] = [
      Array.from({ length: 300 }, (_, i) => ({ key: new Uint8Array([i & 0xff, i >> 8, 3]), value: new Uint8Array([i & 7]) })),
      Array.from({ length: 60 }, (_, i) => ({ key: new Uint8Array([(i * 5) & 0xff, 0, 3]), value: i % 3 === 0 ? undefined : new Uint8Array([42]) })),
    ]
    const memory = memoryRoots(batches)
    const dir = dataDir()
    let db = await dir.open()
    // The earlier layout: every node of every root under its own hash in bucket `treeNode`.
    const all: TreeNodeWrite[] = []
    const nodes = new MemoryTreeNodes()
    let root = EMPTY_TREE_ROOT
    for (const batch of batches) {
      const update = computeTreeUpdate(nodes, root, dedupe(batch))
      nodes.add(update.nodes)
      all.push(...update.nodes)
      root = update.root
    }
    await db.batch(all.map((n) => ({ type: 'put', key: bucketKey(Bucket.treeNode, n.hash), value: n.bytes })))
    let store = new StateTreeStore(db, 50)
    for (const r of memory.roots) await sameProofs(store, memory.nodes, r)
    // State-sync serving reads single nodes too.
    const chunkOf = async (read: (h: Uint8Array) => Promise<Uint8Array | undefined>) => toHex(encode(StateChunk, await computeStateChunk(read, root, 0n, MAX_PATH, 2_000)))
    expect(await chunkOf((h) => store.readNode(h))).toBe(await chunkOf(async (h) => memory.nodes.node(h)))
    const third = Array.from({ length: 40 }, (_, i) => ({ key: new Uint8Array([(i * 7) & 0xff, 1, 3]), value: new Uint8Array([i]) }))
    const next = await commit(store, db, root, third)
    expect(toHex(next.root)).toBe(toHex(computeTreeUpdate(memory.nodes, root, third).root))
    memory.nodes.add(computeTreeUpdate(memory.nodes, root, third).nodes)
    await db.close()
    db = await dir.open()
    store = new StateTreeStore(db, 50)
    for (const r of [...memory.roots, next.root]) await sameProofs(store, memory.nodes, r)
  })

  it('a data dir of sessions 5–8 (pages as page bytes, bucket treePage) reads in place; blocks write compact pages beside them', async () => {
    const batches: StateWrite[][] = [
      Array.from({ length: 400 }, (_, i) => ({ key: new Uint8Array([i & 0xff, i >> 8, 4]), value: new Uint8Array(i % 9) })),
      Array.from({ length: 50 }, (_, i) => ({ key: new Uint8Array([(i * 3) & 0xff, 0, 4]), value: i % 4 === 0 ? undefined : new Uint8Array([7]) })),
    ]
    const memory = memoryRoots(batches)
    const dir = dataDir()
    let db = await dir.open()
    // The session 5–8 layout: every page of every root as page bytes under its root's hash in bucket `treePage`.
    const ops: BatchOp[] = []
    const walk = (pageRoot: Uint8Array): void => {
      const page = encodeTreePage(pageRoot, (h) => memory.nodes.node(h))
      ops.push({ type: 'put', key: bucketKey(Bucket.treePage, pageRoot), value: page.bytes })
      for (const c of page.children) walk(c.hash)
    }
    for (const r of memory.roots) walk(r)
    await db.batch(ops)
    let store = new StateTreeStore(db, 40)
    for (const r of memory.roots) await sameProofs(store, memory.nodes, r)
    const root = memory.roots[1]!
    const third = Array.from({ length: 30 }, (_, i) => ({ key: new Uint8Array([(i * 7) & 0xff, 1, 4]), value: new Uint8Array([i]) }))
    const next = await commit(store, db, root, third)
    expect(next.ops.every((op) => op.key[0] === Bucket.treePageCompact)).toBe(true)
    memory.nodes.add(computeTreeUpdate(memory.nodes, root, third).nodes)
    await db.close()
    db = await dir.open()
    store = new StateTreeStore(db, 40)
    for (const r of [...memory.roots, next.root]) await sameProofs(store, memory.nodes, r)
    // State-sync serving reads both forms as pages.
    const chunkOf = async (read: (h: Uint8Array) => Promise<Uint8Array | undefined>) => toHex(encode(StateChunk, await computeStateChunk(read, next.root, 0n, MAX_PATH, 4_000)))
    expect(await chunkOf((h) => store.readNode(h))).toBe(await chunkOf(async (h) => memory.nodes.node(h)))
  })

  it('state-sync chunks served from pages are byte-identical to chunks from the in-memory tree', async () => {
    const batches = [Array.from({ length: 2_000 }, (_, i) => ({ key: new Uint8Array([i & 0xff, i >> 8, 5]), value: new Uint8Array(i % 50) }))]
    const memory = memoryRoots(batches)
    const root = memory.roots[0]!
    const dir = dataDir()
    const db = await dir.open()
    const store = new StateTreeStore(db, 100)
    await commit(store, db, EMPTY_TREE_ROOT, batches[0]!)
    const quarter = (MAX_PATH + 1n) / 4n
    for (const [start, limit, maxBytes] of [[0n, MAX_PATH, 1 << 20], [quarter, 2n * quarter - 1n, 3_000], [3n * quarter + 5n, MAX_PATH, 700]] as const) {
      const expected = toHex(encode(StateChunk, await computeStateChunk(async (h) => memory.nodes.node(h), root, start, limit, maxBytes)))
      const served = toHex(encode(StateChunk, await computeStateChunk((h) => store.readNode(h), root, start, limit, maxBytes)))
      expect(served).toBe(expected)
    }
  })

  it('a block\'s rewritten pages replace the versions they supersede in the cache: after many blocks it holds the head tree\'s pages only', async () => {
    const dir = dataDir()
    const db = await dir.open()
    const store = new StateTreeStore(db, 1_000_000)
    const fill = Array.from({ length: 3_000 }, (_, i) => ({ key: new Uint8Array([i & 0xff, i >> 8, 9]), value: new Uint8Array([1]) }))
    let { root } = await commit(store, db, EMPTY_TREE_ROOT, fill)
    // The pages and nodes of the head tree: walk it from the root through the page children.
    const head = (): { pages: number; nodes: number } => {
      const count = { pages: 0, nodes: 0 }
      const walk = (pageRoot: Uint8Array): void => {
        const page = encodeTreePage(pageRoot, (h) => store.node(h))
        count.pages++
        count.nodes += page.nodes.length
        for (const child of page.children) walk(child.hash)
      }
      walk(root)
      return count
    }
    expect({ pages: store.cachedPages, nodes: store.cachedNodes }).toEqual(head())
    for (let b = 0; b < 10; b++) {
      root = (await commit(store, db, root, Array.from({ length: 200 }, (_, i) => ({ key: fill[(b * 200 + i * 13) % fill.length]!.key, value: new Uint8Array([b + 2]) })))).root
    }
    // Without replacement each block would leave its superseded versions behind (hundreds of pages a block).
    expect({ pages: store.cachedPages, nodes: store.cachedNodes }).toEqual(head())
  })

  it('replacing pages keeps every root readable when older roots\' pages are cached beside the head\'s (property)', async () => {
    await fc.assert(fc.asyncProperty(arbBatches, fc.integer({ min: 1, max: 400 }), async (batches, cacheNodes) => {
      const dir = dataDir()
      const memory = memoryRoots(batches)
      const db = await dir.open()
      const store = new StateTreeStore(db, cacheNodes)
      let root = EMPTY_TREE_ROOT
      for (const [i, batch] of batches.entries()) {
        // Older roots read between blocks: their pages share nodes with the head's, and stay cached.
        for (const r of memory.roots.slice(0, i)) await sameProofs(store, memory.nodes, r)
        const staged = await commit(store, db, root, batch)
        root = staged.root
        expect(toHex(root)).toBe(toHex(memory.roots[i]!))
        expect(store.cachedNodes).toBeLessThanOrEqual(cacheNodes)
        // Every page written (new nodes and unchanged subtrees copied from cached pages) is the page of the reference tree.
        for (const op of staged.ops) {
          const pageRoot = op.key.subarray(1)
          // Stored compact (compactTreePage.ts): it expands to the reference page.
          const reference = encodeTreePage(pageRoot, (h) => memory.nodes.node(h)).bytes
          expect(op.type === 'put' ? toHex(op.value) : op.type).toBe(toHex(compactTreePage(reference)))
          expect(op.type === 'put' ? toHex(expandTreePage(pageRoot, op.value)) : op.type).toBe(toHex(reference))
        }
      }
      for (const r of memory.roots) await sameProofs(store, memory.nodes, r)
    }), { numRuns: 30 })
  }, 120_000)

  it('a page evicted while another cached page still holds some of its nodes leaves those nodes readable (and the cache within its bound)', async () => {
    const dir = dataDir()
    const db = await dir.open()
    const fill = Array.from({ length: 600 }, (_, i) => ({ key: new Uint8Array([i & 0xff, i >> 8, 5]), value: new Uint8Array([1]) }))
    const memory = memoryRoots([fill, [{ key: fill[7]!.key, value: new Uint8Array([2]) }]])
    const [root0, root1] = memory.roots as [Uint8Array, Uint8Array]
    const writer = new StateTreeStore(db)
    await commit(writer, db, EMPTY_TREE_ROOT, fill)
    await commit(writer, db, root0, [{ key: fill[7]!.key, value: new Uint8Array([2]) }])
    const keys = fill.slice(0, 40).map((w) => w.key)
    // How many nodes the head's pages on those paths hold: the bound, so a trim keeps those and drops the rest.
    const probe = new StateTreeStore(db)
    await probe.load(root1, keys)
    const headNodes = probe.cachedNodes
    const store = new StateTreeStore(db, headNodes)
    await store.load(root1, keys)
    // The older root's pages on the same paths share most nodes with the head's; loaded last, they hold those nodes' location.
    await store.load(root0, keys)
    expect(store.cachedNodes).toBeGreaterThan(headNodes)
    // The head's pages become the most recent again, so the trim drops the older pages, with the nodes located in them.
    await store.load(root1, keys)
    store.trim()
    expect(store.cachedNodes).toBeLessThanOrEqual(headNodes)
    // Every head path is still read from the cache alone (no load), node for node as in memory.
    for (const key of keys) expect(proofHex(computeStateProof(store, root1, key))).toBe(proofHex(computeStateProof(memory.nodes, root1, key)))
  })

  it('a load at the head skips the paths it loaded before, until pages leave the cache: then it reads them again and the run misses nothing', async () => {
    const dir = dataDir()
    const db = await dir.open()
    const fill = Array.from({ length: 2_000 }, (_, i) => ({ key: new Uint8Array([i & 0xff, i >> 8, 3]), value: new Uint8Array([1]) }))
    const writer = new StateTreeStore(db)
    const root0 = (await commit(writer, db, EMPTY_TREE_ROOT, fill)).root
    const a = fill.slice(0, 50).map((w) => w.key)
    const b = fill.slice(1_000, 1_600).map((w) => w.key)
    // Room for A's paths and a little more, not for B's as well.
    const probe = new StateTreeStore(db)
    await probe.load(root0, a)
    const store = new StateTreeStore(db, probe.cachedNodes * 2)
    const bump = (keys: Uint8Array[], v: number): StateWrite[] => keys.map((key) => ({ key, value: new Uint8Array([v]) }))
    let root = (await commit(store, db, root0, bump(a, 2))).root
    await store.load(root, a)
    const walked = store.read.paths
    await store.load(root, a)
    // Cached at the head and nothing dropped since: no walk.
    expect(store.read.paths).toBe(walked)
    // B's block (its paths loaded first, so its run misses nothing) drops A's pages (least recently used) from the cache.
    await store.load(root, b)
    root = (await commit(store, db, root, bump(b, 3))).root
    const [pagesRead, pathsWalked] = [store.read.pages, store.read.paths]
    await store.load(root, a)
    expect(store.read.paths).toBe(pathsWalked + a.length)
    expect(store.read.pages).toBeGreaterThan(pagesRead)
    // Read straight (no withLoaded): a load that skipped a dropped path would miss here.
    const update = computeTreeUpdate(store, root, bump(a, 4))
    expect(toHex(update.root)).toBe(toHex(computeTreeUpdate(memoryRoots([fill, bump(a, 2), bump(b, 3)]).nodes, root, bump(a, 4)).root))
  })
})
