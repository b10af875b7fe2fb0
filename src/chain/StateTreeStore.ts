import { bytesKey, compareBytes, equalBytes } from '../crypto/index.ts'
import { compactTreePage, expandTreePage } from '../state/stateTree/compactTreePage.ts'
import { computeKeyPath, computeStateProof, decodeTreeNode, type StateProof, StateTreeError, type TreeNodeReader, type TreeNodeWrite } from '../state/stateTree/index.ts'
import { isZero, pathBit } from '../state/stateTree/treeNode.ts'
import { inPage, PAGE_LEVELS } from '../state/stateTree/treePage.ts'
import { type BatchOp, Bucket, bucketKey, type Db } from './db.ts'
import { type CopiedRange, encodePagePieces, keptOf } from './encodePagePieces.ts'
import { PAGE_MAX_NODES } from './parseStoredPage.ts'
import { TreeNodeIndex } from './TreeNodeIndex.ts'
import { TreePageCache } from './TreePageCache.ts'
import type { TreePageSlots } from './TreePageSlots.ts'

function isZeroAt(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (bytes[i] !== 0) return false
  return true
}

/** Whether the 32 bytes at a[i..] and b[j..] are equal. */
function sameAt(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  for (let k = 0; k < 32; k++) if (a[i + k] !== b[j + k]) return false
  return true
}

const hexAt = (bytes: Uint8Array, at: number): string => Buffer.from(bytes.subarray(at, at + 32)).toString('hex')

/** Where a page's walk stops: the child `rel` levels below the page root (flags from its parent's tag) is in the page. */
const inPageAt = (leaf: boolean, rel: number): boolean => rel < PAGE_LEVELS || (rel === PAGE_LEVELS && leaf)

/** How many tree nodes stay in memory between blocks, at most (tests bound it tightly; the byte budget is the default bound). */
export const DEFAULT_TREE_CACHE_NODES = Number.MAX_SAFE_INTEGER
/**
 * How many bytes of tree pages (node bytes, hashes, spans, both indexes: `cachedBytes`) stay in
 * memory between blocks: ~1.8M of the ~2M nodes of a 1M-key tree (all of its internal pages,
 * ~150 bytes a node), about 300 MB of process memory with the pages' JS objects (docs/design.md
 * "A cache with no object per node").
 */
export const DEFAULT_TREE_CACHE_BYTES = 256 * 2 ** 20
/** Keys `load` remembers as cached at the head, at most (beyond it the set starts again: loads walk). */
const MAX_LOADED_KEYS = 200_000

/** One step of a load: a page root (non-empty), the range [lo, hi) of the sorted paths that go through it, its depth. */
interface PageStep { hash: Uint8Array; lo: number; hi: number; depth: number }

/** Index in [lo, hi) of the first path (sorted) with bit `depth` set. */
function splitAt(paths: readonly Uint8Array[], depth: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (pathBit(paths[mid]!, depth) === 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The state tree's nodes on disk behind a bounded in-memory cache. Stored as pages (classic-level
 * bucket `treePage`, src/state/stateTree/treePage.ts: a page root's subtree four levels deep in
 * one entry, content-addressed by the page root's hash); nodes of data dirs written before pages,
 * and of state-sync chunks, are single entries in bucket `treeNode` and are read as pages of one
 * node level by level (a block that changes them writes pages: the data dir converts as it goes).
 * The pure tree code reads the cache synchronously; what it misses it names (StateTreeError
 * NOT_LOADED), `load` fetches the pages on those paths with one `getMany` per page level, and the
 * caller runs again. The cache holds whole pages (a page rewritten by a block needs its unchanged
 * nodes); `trim` (after a commit, never between a load and its run) drops the least recently
 * loaded pages, so the top pages, which every block's paths cross, stay in memory.
 *
 * The cache itself (slots, indexes, their bookkeeping) is TreePageCache; this class reads pages
 * from disk into it (`load`) and encodes a block's rewritten pages into it and into batch ops (`stage`).
 */
export class StateTreeStore implements TreeNodeReader {
  readonly #db: Db
  readonly #cache: TreePageCache
  // The cache's parts, which load and stage read directly.
  readonly #slots: TreePageSlots
  readonly #nodes: TreeNodeIndex
  readonly #pages: TreeNodeIndex
  /** The root of the last staged tree (the head's, after a commit): `stage` replaces its pages. */
  #lastStaged: Uint8Array | undefined
  /**
   * Keys (latin1) whose whole path in the last staged tree is cached: a block's commit keeps them so (its rewritten
   * pages join the cache, the others stay), until a page leaves the cache (`trim`) or a read misses. `load` at that
   * root skips them (session 11: the walk of a warm block's ~1250 cached paths, ~6 pages deep at 1M keys). A wrong
   * entry costs a rerun, never a wrong answer: the pure run reads through `node`, whose miss throws NOT_LOADED and
   * clears this set, so the load that follows walks every path.
   */
  readonly #loadedKeys = new Set<string>()
  /** Times the set was cleared: a load that spans one does not fill it (its walk may have met pages being dropped). */
  #loadedKeysCleared = 0
  /** Pages and nodes written since open (for benchmarks: entries per block). */
  readonly written = { pages: 0, nodes: 0, bytes: 0 }
  /** Since open (for benchmarks: does a warm import still read pages?): `getMany` calls, pages found, key paths `load` walked. */
  readonly read = { getMany: 0, pages: 0, paths: 0 }
  constructor(db: Db, maxNodes = DEFAULT_TREE_CACHE_NODES, maxBytes = DEFAULT_TREE_CACHE_BYTES) {
    this.#db = db
    this.#cache = new TreePageCache(maxNodes, maxBytes)
    this.#slots = this.#cache.slots
    this.#nodes = this.#cache.nodes
    this.#pages = this.#cache.pages
  }

  node(hash: Uint8Array): Uint8Array | undefined {
    const bytes = this.#cache.readAt(hash, 0)
    if (bytes === undefined) this.#forgetLoadedKeys()
    return bytes
  }

  /** Where nodeIn last found a node in the buffer it returned. */
  readonly found = { start: 0, end: 0 }
  nodeIn(bytes: Uint8Array, at: number): Uint8Array | undefined {
    const v = this.#nodes.get(bytes, at)
    if (v < 0) {
      this.#forgetLoadedKeys()
      return undefined
    }
    const slot = v >>> 5
    this.found.start = this.#slots.start(slot, v & 31)
    this.found.end = this.#slots.end(slot, v & 31)
    return this.#slots.buf(slot)
  }

  /**
   * What is stored under a hash, without caching it (state-sync serving walks whole ranges): the
   * page it roots (which reads as its root node, and whose other nodes the walk keeps:
   * computeStateChunk), else the node. Every node a walk from a root reaches is a page root or in
   * the page of one it read before.
   */
  async readNode(hash: Uint8Array): Promise<Uint8Array | undefined> {
    // A copy: the cached page's slab may be reused by a commit during the reads below.
    const cached = this.#cache.readAt(hash, 0)?.slice()
    const compact = await this.#db.get(Bucket.treePageCompact, hash)
    if (compact !== undefined) return expandTreePage(hash, compact)
    return (await this.#db.get(Bucket.treePage, hash)) ?? cached ?? (await this.#db.get(Bucket.treeNode, hash))
  }

  /**
   * Loads into the cache every page on the paths of `keys` in the tree at `root`. The cached levels
   * are walked before the first await, so the first read from disk is under way when this returns
   * and the caller can work meanwhile (block import checks signatures while the pages load).
   */
  async load(root: Uint8Array, keys: readonly Uint8Array[]): Promise<void> {
    if (isZero(root)) return
    const atHead = this.#lastStaged !== undefined && equalBytes(root, this.#lastStaged)
    const ids = atHead ? keys.map(bytesKey) : []
    const walked = atHead ? keys.filter((_, i) => !this.#loadedKeys.has(ids[i]!)) : keys
    if (walked.length === 0) return
    const cleared = this.#loadedKeysCleared
    // Sorted, so the paths through a node are one index range (no arrays split per node).
    const paths = walked.map(computeKeyPath).sort(compareBytes)
    this.read.paths += paths.length
    let frontier: PageStep[] = [{ hash: root, lo: 0, hi: paths.length, depth: 0 }]
    while (frontier.length > 0) {
      const reading = this.#fetchPages(frontier.map((f) => f.hash))
      if (reading !== undefined) await reading
      const next: PageStep[] = []
      for (const f of frontier) this.#descend(f, paths, next)
      frontier = next
    }
    // Only at the head's root, and only if nothing left the cache meanwhile (a commit's trim clears the set).
    if (atHead && cleared === this.#loadedKeysCleared && this.#lastStaged !== undefined && equalBytes(root, this.#lastStaged)) {
      if (this.#loadedKeys.size + ids.length > MAX_LOADED_KEYS) this.#forgetLoadedKeys()
      for (const id of ids) this.#loadedKeys.add(id)
    }
  }

  /** The paths of `step` through its page: the next pages they reach go to `next`. Reads the cached nodes in place (no views). */
  #descend(step: PageStep, paths: readonly Uint8Array[], next: PageStep[]): void {
    const slots = this.#slots
    const walk = (src: Uint8Array, at: number, lo: number, hi: number, depth: number, rel: number): void => {
      const v = this.#nodes.get(src, at)
      // Trimmed by a commit while this load awaited: the run misses it and loads again.
      if (v < 0) return
      const slot = v >>> 5
      const buf = slots.buf(slot)
      const start = slots.start(slot, v & 31)
      const tag = buf[start]!
      if ((tag & 1) === 0) return
      if (tag > 7 || slots.end(slot, v & 31) - start < 65) decodeTreeNode(src.slice(at, at + 32), buf.subarray(start, slots.end(slot, v & 31)))
      const split = splitAt(paths, depth, lo, hi)
      for (let side = 0; side < 2; side++) {
        const from = side === 0 ? lo : split
        const to = side === 0 ? split : hi
        const h = start + 1 + 32 * side
        // Empty subtrees and leaves end a path (a leaf is in its parent's page).
        if (from === to || (tag & (2 << side)) !== 0 || isZeroAt(buf, h)) continue
        if (rel + 1 < PAGE_LEVELS) walk(buf, h, from, to, depth + 1, rel + 1)
        // A copy: the slab may be reused by a commit while the next level loads.
        else next.push({ hash: buf.slice(h, h + 32), lo: from, hi: to, depth: depth + 1 })
      }
    }
    walk(step.hash, 0, step.lo, step.hi, step.depth, 0)
  }

  /** Caches the pages rooted at `roots` (one `getMany`; single nodes of the earlier layout level by level); undefined when all are cached. */
  #fetchPages(roots: readonly Uint8Array[]): Promise<void> | undefined {
    const missing: Uint8Array[] = []
    for (const hash of roots) {
      const slot = this.#pages.get(hash, 0)
      if (slot < 0) missing.push(hash)
      else this.#slots.touch(slot)
    }
    if (missing.length === 0) return undefined
    return this.#readPages(missing)
  }

  async #readPages(missing: Uint8Array[]): Promise<void> {
    const compact = await this.#db.getMany(Bucket.treePageCompact, missing)
    this.read.getMany++
    const older: Uint8Array[] = []
    compact.forEach((bytes, i) => {
      const hash = missing[i]!
      if (bytes === undefined) older.push(hash)
      else this.#cache.addStoredPage(hash, expandTreePage(hash, bytes))
    })
    this.read.pages += missing.length - older.length
    if (older.length === 0) return
    // Pages written before session 9 (page bytes), else single nodes.
    const found = await this.#db.getMany(Bucket.treePage, older)
    this.read.getMany++
    const single: Uint8Array[] = []
    found.forEach((bytes, i) => {
      const hash = older[i]!
      if (bytes === undefined) single.push(hash)
      else this.#cache.addStoredPage(hash, bytes)
    })
    this.read.pages += older.length - single.length
    if (single.length > 0) await this.#fetchSingleNodePages(single)
  }

  /** Pages of the earlier layout (one entry per node, bucket `treeNode`): read a level of every page per `getMany`. */
  async #fetchSingleNodePages(roots: readonly Uint8Array[]): Promise<void> {
    const pages: TreeNodeWrite[][] = roots.map(() => [])
    let level = roots.map((hash, page) => ({ page, hash, rel: 0 }))
    while (level.length > 0) {
      const found = await this.#db.getMany(Bucket.treeNode, level.map((l) => l.hash))
      const next: typeof level = []
      level.forEach((l, i) => {
        const bytes = found[i]
        if (bytes === undefined) throw new StateTreeError('CORRUPT_NODE', 'a state tree node is missing from the database', { hash: Buffer.from(l.hash).toString('hex') })
        pages[l.page]!.push({ hash: l.hash, bytes })
        const node = decodeTreeNode(l.hash, bytes)
        if (node.kind === 'internal') for (const child of [node.left, node.right]) if (inPage(child, l.rel + 1)) next.push({ page: l.page, hash: child.hash, rel: l.rel + 1 })
      })
      level = next
    }
    for (const nodes of pages) this.#cache.addNodes(nodes)
  }

  /**
   * Runs `run` (a pure computation over this cache) until it no longer misses nodes: each miss
   * loads every path the computation named. Two runs suffice when nothing is trimmed between.
   */
  async withLoaded<T>(run: () => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return run()
      } catch (err) {
        if (!(err instanceof StateTreeError) || err.code !== 'NOT_LOADED' || err.details.root === undefined || attempt >= 3) throw err
        await this.load(err.details.root, err.details.keys)
      }
    }
  }

  /** Proofs of `keys` in the tree at `root` (any committed root: nodes are never overwritten). */
  async prove(root: Uint8Array, keys: readonly Uint8Array[]): Promise<StateProof[]> {
    // Every path first: a run names only the first key it misses, and withLoaded retries a few times only.
    await this.load(root, keys)
    return this.withLoaded(() => keys.map((key) => computeStateProof(this, root, key)))
  }

  /**
   * A committed block's tree: the pages its new root rewrote (those whose root is among `nodes`,
   * the nodes the block added: a new node's ancestors are new too), as batch ops; they join the
   * cache (the next block reads them) in place of the versions they replace. A page's unchanged
   * nodes come from the cache, where the run that computed `nodes` loaded the whole pages it crossed.
   */
  stage(root: Uint8Array, nodes: readonly TreeNodeWrite[]): BatchOp[] {
    // The new nodes' hashes side by side in one buffer (the index compares against them: a hash object per node,
    // scattered over the heap, cost a cache miss per lookup at 1M keys).
    const keys = new Uint8Array(nodes.length * 32)
    const added = new TreeNodeIndex({ bytesOf: () => keys, offsetOf: (i) => i * 32 }, { capacity: nodes.length, seed: this.#cache.seed })
    nodes.forEach((n, i) => {
      keys.set(n.hash, i * 32)
      const pos = added.find(keys, i * 32)
      if (pos < 0) added.insert(keys, i * 32, i)
      else added.setValueAt(pos, i)
    })
    this.written.nodes += added.size
    const freshOf = (src: Uint8Array, at: number): Uint8Array | undefined => {
      const i = added.get(src, at)
      return i < 0 ? undefined : nodes[i]!.bytes
    }
    const ops: BatchOp[] = []
    // Each rewritten page with the root of the page it replaces (same place in the last staged tree), when known.
    const pending: { hash: Uint8Array; replaces: Uint8Array | undefined }[] = added.get(root) >= 0 ? [{ hash: root, replaces: this.#lastStaged }] : []
    // One page's nodes in preorder (encodeTreePage's order and bytes; hashes copied from the parents' bytes), as
    // pieces: a new node, or an unchanged node's whole subtree copied as one range of a cached page.
    const hashes = new Uint8Array(PAGE_MAX_NODES * 32)
    let pieces: (Uint8Array | CopiedRange)[] = []
    const ends = new Uint8Array(PAGE_MAX_NODES)
    let count = 0
    let size = 0
    const pushHash = (src: Uint8Array, from: number): void => {
      if (count >= PAGE_MAX_NODES) throw new StateTreeError('CORRUPT_NODE', 'tree page: more nodes than a page holds', { hash: hexAt(hashes, 0) })
      const to = count++ * 32
      for (let i = 0; i < 32; i++) hashes[to + i] = src[from + i]!
    }
    const slots = this.#slots
    // A node by its hash at `src[at..at+32)` (no views: a block visits ~60k at 1M keys). `repSlot` ≥ 0: the node at this
    // place in the version the page replaces is node `repIdx` of that cached page (a block changes one path through a
    // page, so it is usually this very node: found there without an index lookup, session 12).
    const visit = (src: Uint8Array, at: number, rel: number, repSlot: number, repIdx: number): void => {
      const sameAsReplaced = repSlot >= 0 && sameAt(slots.buf(repSlot), slots.hashAt(repSlot, repIdx), src, at)
      // A node the replaced version holds at this place is copied from there even when the block made it again (same
      // hash, same subtree: its pages below are stored already), so it needs no lookup among the new nodes.
      const fresh = sameAsReplaced && rel > 0 ? undefined : freshOf(src, at)
      if (fresh === undefined && rel > 0) {
        const v = sameAsReplaced ? repSlot * 32 + repIdx : this.#nodes.get(src, at)
        const slot = v >>> 5
        const first = v & 31
        // Unchanged: its subtree in this page is the same nodes as in the cached page (an internal node's depth
        // follows from its subtree; a leaf that moved up is a subtree of one). Not a page's own root (a lone leaf's page).
        if (v >= 0 && slots.isPreorder(slot) && first > 0) {
          const last = slots.lastDescendant(slot, first)
          const index = count
          const from = slots.buf(slot)
          if (count + last - first + 1 > PAGE_MAX_NODES) throw new StateTreeError('CORRUPT_NODE', 'tree page: more nodes than a page holds', { hash: hexAt(hashes, 0) })
          // The range's hashes and last descendants are contiguous in the cached page: one copy each.
          hashes.set(from.subarray(slots.hashAt(slot, first), slots.hashAt(slot, last + 1)), count * 32)
          const endsFrom = slots.endAt(slot, 0)
          for (let k = first; k <= last; k++) ends[count++] = from[endsFrom + k]! - first + index
          pieces.push({ slot, first, last })
          const start = slots.start(slot, first)
          size += slots.end(slot, last) - start + (from[start] === 0 ? 4 : 0)
          return
        }
      }
      const bytes = fresh ?? this.#cache.readAt(src, at)
      if (bytes === undefined) throw new StateTreeError('CORRUPT_NODE', 'tree page: a node of a rewritten page is not loaded', { hash: hexAt(src, at) })
      const index = count
      pushHash(src, at)
      ends[index] = index
      pieces.push(bytes)
      const tag = bytes[0]!
      size += bytes.length + (rel > 0 && tag === 0 ? 4 : 0)
      if ((tag & 1) === 0) return
      // The replaced node at this place (an internal node of the replaced page), followed only under new nodes (the
      // ancestors of every rewritten page): its children's indexes there follow from the page's preorder.
      const rBuf = fresh === undefined || repSlot < 0 || sameAsReplaced ? undefined : slots.buf(repSlot)
      const rAt = rBuf === undefined ? 0 : slots.start(repSlot, repIdx)
      const rTag = rBuf === undefined ? 0 : rBuf[rAt]!
      const replaced = (rTag & 1) === 1
      let childIdx = repIdx + 1
      for (let side = 0; side < 2; side++) {
        const h = 1 + 32 * side
        // The replaced node's child on this side: in its page (at index childIdx), or the root of a page below it.
        const rEmpty = !replaced || isZeroAt(rBuf!, rAt + h)
        const rLeaf = (rTag & (2 << side)) !== 0
        const rIn = !rEmpty && inPageAt(rLeaf, rel + 1)
        const rIdx = childIdx
        if (rIn) childIdx = slots.lastDescendant(repSlot, rIdx) + 1
        if (isZeroAt(bytes, h)) continue
        if (inPageAt((tag & (2 << side)) !== 0, rel + 1)) visit(bytes, h, rel + 1, rIn ? repSlot : -1, rIdx)
        // Copies: the pages these bytes are in may be dropped before the pending page is encoded, and their slab reused.
        else if (added.get(bytes, h) >= 0) pending.push({ hash: bytes.slice(h, h + 32), replaces: rEmpty || rLeaf ? undefined : rBuf!.slice(rAt + h, rAt + h + 32) })
      }
      ends[index] = count - 1
    }
    for (let page = pending.pop(); page !== undefined; page = pending.pop()) {
      pieces = []
      count = 0
      size = 0
      const replacedSlot = page.replaces === undefined || equalBytes(page.replaces, page.hash) ? -1 : this.#pages.get(page.replaces, 0)
      // A replaced page joined from single nodes (data dirs from before pages) has no preorder: not followed.
      visit(page.hash, 0, 0, replacedSlot >= 0 && slots.isPreorder(replacedSlot) ? replacedSlot : -1, 0)
      const cachedSlot = this.#pages.get(page.hash, 0)
      if (cachedSlot >= 0) {
        // Content-addressed: the cached page holds these nodes (written again: harmless; joined from single nodes, it
        // is not in page bytes, so the page is encoded apart).
        this.#slots.touch(cachedSlot)
        this.#putPage(ops, page.hash, encodePagePieces(this.#slots, pieces, new Uint8Array(size), -1))
        continue
      }
      // Encoded in place into its cache slot (one buffer a page); the batch op's value is a view of it (slots never change).
      const slot = this.#slots.takeEmpty(size, count)
      const buf = this.#slots.buf(slot)
      buf.set(hashes.subarray(0, 32 * count), this.#slots.hashAt(slot, 0))
      const endsAt = this.#slots.endAt(slot, 0)
      buf.set(ends.subarray(0, count), endsAt)
      const pageAt = this.#slots.pageStart(slot)
      this.#putPage(ops, page.hash, encodePagePieces(this.#slots, pieces, buf.subarray(pageAt, pageAt + size), slot))
      // In place of the version it replaces, which the next blocks no longer read (a read of an older root loads it
      // again): the nodes both hold move to the new page, and the cache is not filled with superseded versions (at 1M
      // keys a block rewrites ~3k pages of ~25 nodes).
      if (replacedSlot >= 0) this.#cache.replaceSlot(replacedSlot, slot, keptOf(pieces, replacedSlot))
      else this.#cache.register(slot)
    }
    this.#lastStaged = root.slice()
    return ops
  }

  /** The batch op storing a page (given in page bytes) in its compact form. */
  #putPage(ops: BatchOp[], hash: Uint8Array, bytes: Uint8Array): void {
    const compact = compactTreePage(bytes)
    ops.push({ type: 'put', key: bucketKey(Bucket.treePageCompact, hash), value: compact })
    this.written.pages++
    this.written.bytes += compact.length
  }

  /** Drops the least recently loaded pages until the cache is within its bounds (nodes and bytes). */
  trim(): void {
    if (this.#cache.trim()) this.#forgetLoadedKeys()
  }

  #forgetLoadedKeys(): void {
    this.#loadedKeys.clear()
    this.#loadedKeysCleared++
  }

  get cachedNodes(): number {
    return this.#cache.nodes.size
  }

  get cachedPages(): number {
    return this.#cache.pages.size
  }

  /** Bytes the cache holds: its pages and the two indexes. */
  get cachedBytes(): number {
    return this.#cache.cachedBytes
  }

}
