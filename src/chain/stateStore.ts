import { computeKeyPath, computeStateProof, decodeTreeNode, type StateProof, StateTreeError, type TreeNodeReader, type TreeNodeWrite } from '../state/stateTree/index.ts'
import { isZero, pathBit } from '../state/stateTree/treeNode.ts'
import { decodeTreePage, inPage, PAGE_LEVELS } from '../state/stateTree/treePage.ts'
import type { StateValueSource, StateWrite } from '../state/stateView.ts'
import { TABLES } from '../state/tables.ts'
import { type BatchOp, Bucket, bucketKey, type Db } from './db.ts'

// latin1Slice reads the bytes in place (no Buffer made per call): ids are computed per node per block.
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string
const idOf = (hash: Uint8Array): string => latin1Slice.call(hash, 0, hash.length)
/** The id of the 32-byte hash at `at` in `bytes` (a child named by its parent's bytes), read in place. */
const idAt = (bytes: Uint8Array, at: number): string => latin1Slice.call(bytes, at, at + 32)

function isZeroAt(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (bytes[i] !== 0) return false
  return true
}

/** Where a page's walk stops: the child `rel` levels below the page root (flags from its parent's tag) is in the page. */
const inPageAt = (leaf: boolean, rel: number): boolean => rel < PAGE_LEVELS || (rel === PAGE_LEVELS && leaf)

/** Drops a map's oldest entries (insertion order) beyond `max`. */
function trimOldest(cache: Map<string, unknown>, max: number): void {
  let excess = cache.size - max
  if (excess <= 0) return
  for (const id of cache.keys()) {
    if (excess-- <= 0) break
    cache.delete(id)
  }
}

/** How many tree nodes stay in memory between blocks (~100 bytes each with overhead, leaves more). */
export const DEFAULT_TREE_CACHE_NODES = 400_000

/** One step of a load: a page root (non-empty), the paths that go through it, its depth. */
interface PageStep { hash: Uint8Array; paths: Uint8Array[]; depth: number }

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
 */
export class StateTreeStore implements TreeNodeReader {
  readonly #db: Db
  /**
   * Node id (latin1 string) → where its bytes are: `slot * 32 + index` (a small integer: the node
   * is the index-th of the cached page in that slot), or its own bytes (a node whose page left
   * while another cached page still holds it). Every node of every cached page. No object per
   * node: a full cache is 400k nodes, and a view each made the garbage collector's work grow
   * with the cache (at 1M keys, a quarter of a block's CPU).
   */
  readonly #nodes = new Map<string, number | Uint8Array>()
  /** Cached pages by slot (freed slots are reused). */
  readonly #slots: (CachedPage | undefined)[] = []
  readonly #freeSlots: number[] = []
  /** How many cached pages hold a node, for nodes held by more than one (an older root's page loaded beside the head's shares nodes with it). */
  readonly #shared = new Map<string, number>()
  /** Page root id → its slot; insertion order is recency (a load that crosses a page refreshes it). */
  readonly #pages = new Map<string, number>()
  readonly #maxNodes: number
  /** The root of the last staged tree (the head's, after a commit): `stage` replaces its pages. */
  #lastStaged: string | undefined
  /** Pages and nodes written since open (for benchmarks: entries per block). */
  readonly written = { pages: 0, nodes: 0, bytes: 0 }
  constructor(db: Db, maxNodes = DEFAULT_TREE_CACHE_NODES) {
    this.#db = db
    this.#maxNodes = maxNodes
  }

  node(hash: Uint8Array): Uint8Array | undefined {
    return this.#read(idOf(hash))
  }

  #read(id: string): Uint8Array | undefined {
    const at = this.#nodes.get(id)
    if (typeof at !== 'number') return at
    const page = this.#slots[at >>> 5]!
    const i = (at & 31) * 2
    return page.bytes.subarray(page.spans[i]!, page.spans[i + 1]!)
  }

  get cachedNodes(): number {
    return this.#nodes.size
  }

  get cachedPages(): number {
    return this.#pages.size
  }

  /**
   * What is stored under a hash, without caching it (state-sync serving walks whole ranges): the
   * page it roots (which reads as its root node, and whose other nodes the walk keeps:
   * computeStateChunk), else the node. Every node a walk from a root reaches is a page root or in
   * the page of one it read before.
   */
  async readNode(hash: Uint8Array): Promise<Uint8Array | undefined> {
    const cached = this.#read(idOf(hash))
    return (await this.#db.get(Bucket.treePage, hash)) ?? cached ?? (await this.#db.get(Bucket.treeNode, hash))
  }

  /** Loads into the cache every page on the paths of `keys` in the tree at `root`. */
  async load(root: Uint8Array, keys: readonly Uint8Array[]): Promise<void> {
    if (isZero(root)) return
    let frontier: PageStep[] = [{ hash: root, paths: keys.map(computeKeyPath), depth: 0 }]
    while (frontier.length > 0) {
      await this.#fetchPages(frontier.map((f) => f.hash))
      const next: PageStep[] = []
      for (const f of frontier) this.#descend(f, next)
      frontier = next
    }
  }

  /** The paths of `step` through its page: the next pages they reach go to `next`. */
  #descend(step: PageStep, next: PageStep[]): void {
    const walk = (id: string, paths: Uint8Array[], depth: number, rel: number): void => {
      const bytes = this.#read(id)
      // Trimmed by a commit while this load awaited: the run misses it and loads again.
      if (bytes === undefined) return
      const tag = bytes[0]!
      if ((tag & 1) === 0) return
      if (tag > 7 || bytes.length < 65) decodeTreeNode(Buffer.from(id, 'latin1'), bytes)
      const left: Uint8Array[] = []
      const right: Uint8Array[] = []
      for (const p of paths) (pathBit(p, depth) === 0 ? left : right).push(p)
      for (let side = 0; side < 2; side++) {
        const sub = side === 0 ? left : right
        const h = 1 + 32 * side
        // Empty subtrees and leaves end a path (a leaf is in its parent's page).
        if (sub.length === 0 || (tag & (2 << side)) !== 0 || isZeroAt(bytes, h)) continue
        if (rel + 1 < PAGE_LEVELS) walk(idAt(bytes, h), sub, depth + 1, rel + 1)
        else next.push({ hash: bytes.subarray(h, h + 32), paths: sub, depth: depth + 1 })
      }
    }
    walk(idOf(step.hash), step.paths, step.depth, 0)
  }

  /** Caches the pages rooted at `roots` (one `getMany`; single nodes of the earlier layout level by level). */
  async #fetchPages(roots: readonly Uint8Array[]): Promise<void> {
    const missing = new Map<string, Uint8Array>()
    for (const hash of roots) {
      const id = idOf(hash)
      const hit = this.#pages.get(id)
      if (hit === undefined) missing.set(id, hash)
      else {
        this.#pages.delete(id)
        this.#pages.set(id, hit)
      }
    }
    if (missing.size === 0) return
    const hashes = [...missing.values()]
    const found = await this.#db.getMany(Bucket.treePage, hashes)
    const single: Uint8Array[] = []
    found.forEach((bytes, i) => {
      const hash = hashes[i]!
      if (bytes === undefined) single.push(hash)
      else this.#addStoredPage(hash, bytes)
    })
    if (single.length > 0) await this.#fetchSingleNodePages(single)
  }

  /** Pages of the earlier layout (one entry per node, bucket `treeNode`): read a level of every page per `getMany`. */
  async #fetchSingleNodePages(roots: readonly Uint8Array[]): Promise<void> {
    const pages = new Map<string, TreeNodeWrite[]>()
    let level = roots.map((hash) => ({ page: idOf(hash), hash, rel: 0 }))
    for (const l of level) pages.set(l.page, [])
    while (level.length > 0) {
      const found = await this.#db.getMany(Bucket.treeNode, level.map((l) => l.hash))
      const next: typeof level = []
      level.forEach((l, i) => {
        const bytes = found[i]
        if (bytes === undefined) throw new StateTreeError('CORRUPT_NODE', 'a state tree node is missing from the database', { hash: Buffer.from(l.hash).toString('hex') })
        pages.get(l.page)!.push({ hash: l.hash, bytes })
        const node = decodeTreeNode(l.hash, bytes)
        if (node.kind === 'internal') for (const child of [node.left, node.right]) if (inPage(child, l.rel + 1)) next.push({ page: l.page, hash: child.hash, rel: l.rel + 1 })
      })
      level = next
    }
    for (const [id, nodes] of pages) this.#addNodes(id, nodes)
  }

  /** Caches a page given as separate nodes (joined into one buffer). */
  #addNodes(id: string, nodes: readonly TreeNodeWrite[]): void {
    let size = 0
    for (const n of nodes) size += n.bytes.length
    const bytes = new Uint8Array(size)
    const spans = new Uint32Array(nodes.length * 2)
    let at = 0
    nodes.forEach((n, i) => {
      bytes.set(n.bytes, at)
      spans[2 * i] = at
      spans[2 * i + 1] = at += n.bytes.length
    })
    this.#addPage(id, { bytes, spans, ids: nodes.map((n) => idOf(n.hash)), ends: undefined })
  }

  /** Caches a page, or marks it recently used when cached. */
  #addPage(id: string, page: CachedPage): void {
    const cached = this.#pages.get(id)
    if (cached !== undefined) {
      this.#pages.delete(id)
      this.#pages.set(id, cached)
      return
    }
    const slot = this.#takeSlot(page)
    const nodes = this.#nodes
    const ids = page.ids
    for (let i = 0; i < ids.length; i++) {
      const nodeId = ids[i]!
      if (nodes.has(nodeId)) this.#shared.set(nodeId, (this.#shared.get(nodeId) ?? 1) + 1)
      // A node already cached points into the newest page holding it.
      nodes.set(nodeId, slot * 32 + i)
    }
    this.#pages.set(id, slot)
  }

  #takeSlot(page: CachedPage): number {
    // A page holds at most 2^PAGE_LEVELS - 1 = 15 internal nodes and 16 leaves: its index fits 5 bits.
    if (page.ids.length > 32) throw new StateTreeError('CORRUPT_NODE', 'tree page: more nodes than a page holds', { hash: Buffer.from(page.ids[0]!, 'latin1').toString('hex') })
    const slot = this.#freeSlots.pop() ?? this.#slots.length
    this.#slots[slot] = page
    return slot
  }

  /**
   * Caches a page read from bucket `treePage`: the walk of decodeTreePage, with ids read in place
   * from the parents' bytes and no decoded objects (pages read per block at 1M keys: thousands).
   * Anything that does not parse goes through decodeTreePage, which names the fault.
   */
  #addStoredPage(root: Uint8Array, bytes: Uint8Array): void {
    const rootId = idOf(root)
    const cached = this.#pages.get(rootId)
    if (cached !== undefined) return this.#addPage(rootId, this.#slots[cached]!)
    const ids: string[] = []
    const spans: number[] = []
    const ends: number[] = []
    let at = 0
    let ok = bytes[0] !== 0 && bytes.length >= 65
    const visit = (id: string, leaf: boolean, rel: number): void => {
      const index = ids.length
      walk(id, leaf, rel)
      ends[index] = ids.length - 1
    }
    const walk = (id: string, leaf: boolean, rel: number): void => {
      if (leaf) {
        if (at + 4 > bytes.length) return void (ok = false)
        const length = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!
        at += 4
        if (at + length > bytes.length || length < 67 || bytes[at] !== 0) return void (ok = false)
        ids.push(id)
        spans.push(at, (at += length))
        return
      }
      const start = at
      const tag = bytes[start]!
      if (start + 65 > bytes.length || (tag & 1) !== 1 || tag > 7) return void (ok = false)
      at += 65
      ids.push(id)
      spans.push(start, at)
      for (let side = 0; side < 2 && ok; side++) {
        const h = start + 1 + 32 * side
        const childLeaf = (tag & (2 << side)) !== 0
        if (!isZeroAt(bytes, h) && inPageAt(childLeaf, rel + 1)) visit(idAt(bytes, h), childLeaf, rel + 1)
      }
    }
    if (ok) visit(rootId, false, 0)
    if (ok && at === bytes.length) this.#addPage(rootId, { bytes, spans: Uint32Array.from(spans), ids, ends: Uint8Array.from(ends) })
    else this.#addNodes(rootId, decodeTreePage(root, bytes).nodes)
  }

  #dropPage(id: string): void {
    const slot = this.#pages.get(id)
    if (slot === undefined) return
    const page = this.#slots[slot]!
    for (let i = 0; i < page.ids.length; i++) this.#releaseNode(page.ids[i]!, slot * 32 + i, page)
    this.#freeSlot(slot)
    this.#pages.delete(id)
  }

  #freeSlot(slot: number): void {
    this.#slots[slot] = undefined
    this.#freeSlots.push(slot)
  }

  /** One cached page less (`page`, where the node is `at`) holds `nodeId`: the node leaves the cache with its last page. */
  #releaseNode(nodeId: string, at: number, page: CachedPage): void {
    const pages = this.#shared.get(nodeId)
    if (pages === undefined) return void this.#nodes.delete(nodeId)
    // Still held by another cached page, but located in this one: it keeps a copy of its bytes.
    if (this.#nodes.get(nodeId) === at) this.#nodes.set(nodeId, page.bytes.slice(page.spans[(at & 31) * 2]!, page.spans[(at & 31) * 2 + 1]!))
    if (pages === 2) this.#shared.delete(nodeId)
    else this.#shared.set(nodeId, pages - 1)
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
    const added = new Map<string, Uint8Array>()
    for (const n of nodes) added.set(idOf(n.hash), n.bytes)
    this.written.nodes += added.size
    const ops: BatchOp[] = []
    const rootId = idOf(root)
    // Each rewritten page with the root of the page it replaces (same place in the last staged tree), when known.
    const pending: { id: string; hash: Uint8Array; replaces: string | undefined }[] = added.has(rootId) ? [{ id: rootId, hash: root, replaces: this.#lastStaged }] : []
    // One page's nodes in preorder (encodeTreePage's order and bytes; ids read in place from the parents' bytes), as
    // pieces: a new node, or an unchanged node's whole subtree copied as one range of a cached page.
    let ids: string[] = []
    let pieces: (Uint8Array | { page: CachedPage; first: number; last: number })[] = []
    let ends: number[] = []
    let size = 0
    const visit = (id: string, rel: number, replacedId: string | undefined): void => {
      const fresh = added.get(id)
      if (fresh === undefined && rel > 0) {
        const at = this.#nodes.get(id)
        const page = typeof at === 'number' ? this.#slots[at >>> 5]! : undefined
        const first = typeof at === 'number' ? at & 31 : 0
        // Unchanged: its subtree in this page is the same nodes as in the cached page (an internal node's depth
        // follows from its subtree; a leaf that moved up is a subtree of one). Not a page's own root (a lone leaf's page).
        if (page?.ends !== undefined && first > 0) {
          const last = page.ends[first]!
          const index = ids.length
          for (let k = first; k <= last; k++) {
            ids.push(page.ids[k]!)
            ends.push(page.ends[k]! - first + index)
          }
          pieces.push({ page, first, last })
          size += page.spans[2 * last + 1]! - page.spans[2 * first]! + (page.bytes[page.spans[2 * first]!] === 0 ? 4 : 0)
          return
        }
      }
      const bytes = fresh ?? this.#read(id)
      if (bytes === undefined) throw new StateTreeError('CORRUPT_NODE', 'tree page: a node of a rewritten page is not loaded', { hash: Buffer.from(id, 'latin1').toString('hex') })
      const index = ids.length
      ids.push(id)
      ends.push(index)
      pieces.push(bytes)
      const tag = bytes[0]!
      size += bytes.length + (rel > 0 && tag === 0 ? 4 : 0)
      if ((tag & 1) === 0) return
      // The replaced node at this place, followed only under new nodes (the ancestors of every rewritten page).
      const replaced = fresh === undefined || replacedId === undefined || replacedId === id ? undefined : this.#read(replacedId)
      for (let side = 0; side < 2; side++) {
        const h = 1 + 32 * side
        const replacedChild = replaced !== undefined && (replaced[0]! & 1) === 1 && (replaced[0]! & (2 << side)) === 0 && !isZeroAt(replaced, h) ? idAt(replaced, h) : undefined
        if (isZeroAt(bytes, h)) continue
        const childId = idAt(bytes, h)
        if (inPageAt((tag & (2 << side)) !== 0, rel + 1)) visit(childId, rel + 1, replacedChild)
        else if (added.has(childId)) pending.push({ id: childId, hash: bytes.subarray(h, h + 32), replaces: replacedChild })
      }
      ends[index] = ids.length - 1
    }
    for (let page = pending.pop(); page !== undefined; page = pending.pop()) {
      ids = []
      pieces = []
      ends = []
      size = 0
      visit(page.id, 0, page.replaces)
      const bytes = new Uint8Array(size)
      const spans = new Uint32Array(ids.length * 2)
      let at = 0
      let n = 0
      for (const piece of pieces) {
        if (piece instanceof Uint8Array) {
          const length = piece.length
          if (n > 0 && piece[0] === 0) {
            bytes[at] = length >>> 24
            bytes[at + 1] = (length >>> 16) & 0xff
            bytes[at + 2] = (length >>> 8) & 0xff
            bytes[at + 3] = length & 0xff
            at += 4
          }
          bytes.set(piece, at)
          spans[2 * n] = at
          spans[2 * n + 1] = at += length
          n++
          continue
        }
        // A range starts at its first node, or at that leaf's length prefix.
        const { page: from, first, last } = piece
        const start = from.spans[2 * first]! - (from.bytes[from.spans[2 * first]!] === 0 ? 4 : 0)
        const end = from.spans[2 * last + 1]!
        bytes.set(from.bytes.subarray(start, end), at)
        for (let k = first; k <= last; k++, n++) {
          spans[2 * n] = from.spans[2 * k]! - start + at
          spans[2 * n + 1] = from.spans[2 * k + 1]! - start + at
        }
        at += end - start
      }
      ops.push({ type: 'put', key: bucketKey(Bucket.treePage, page.hash), value: bytes })
      this.written.pages++
      this.written.bytes += bytes.length
      const cached: CachedPage = { bytes, spans, ids, ends: Uint8Array.from(ends) }
      if (page.replaces !== undefined && page.replaces !== page.id && this.#pages.has(page.replaces) && !this.#pages.has(page.id)) this.#replacePage(page.replaces, page.id, cached)
      else this.#addPage(page.id, cached)
    }
    this.#lastStaged = rootId
    return ops
  }

  /**
   * Caches a rewritten page in place of the version it replaces, which the next blocks no longer
   * read (a read of an older root loads it again): the nodes both hold move to the new page with
   * one map write each, no sharing counted, and the cache is not filled with superseded versions
   * (at 1M keys a block rewrites ~3k pages of ~25 nodes).
   */
  #replacePage(oldId: string, id: string, page: CachedPage): void {
    const kept = new Set(page.ids)
    const oldSlot = this.#pages.get(oldId)!
    const old = this.#slots[oldSlot]!
    const held = new Set(old.ids)
    for (let i = 0; i < old.ids.length; i++) if (!kept.has(old.ids[i]!)) this.#releaseNode(old.ids[i]!, oldSlot * 32 + i, old)
    this.#pages.delete(oldId)
    this.#freeSlot(oldSlot)
    const slot = this.#takeSlot(page)
    const nodes = this.#nodes
    for (let i = 0; i < page.ids.length; i++) {
      const nodeId = page.ids[i]!
      if (!held.has(nodeId) && nodes.has(nodeId)) this.#shared.set(nodeId, (this.#shared.get(nodeId) ?? 1) + 1)
      nodes.set(nodeId, slot * 32 + i)
    }
    this.#pages.set(id, slot)
  }

  /** Drops the least recently loaded pages until at most the bound of nodes is cached. */
  trim(): void {
    for (const id of this.#pages.keys()) {
      if (this.#nodes.size <= this.#maxNodes) break
      this.#dropPage(id)
    }
  }
}

/**
 * A cached page: its bytes, where each node lies in them ([start, end) at 2i, 2i+1) and the nodes'
 * ids, in page order; for pages in preorder (all but those joined from the earlier layout), the
 * index of each node's last descendant in the page (its subtree is nodes i..ends[i], one byte range).
 */
interface CachedPage { bytes: Uint8Array; spans: Uint32Array; ids: string[]; ends: Uint8Array | undefined }

/**
 * The state tables served from disk rather than held whole in memory: those that grow with users
 * and that no block or query scans. Accounts only: hosts, assets, validators and the indexes are
 * scanned per block; an asset's key-value pairs are scanned per asset (deletion, snapshots);
 * execution records are read synchronously by receipt and key intake (a follow-up could serve
 * them too, once those paths load first).
 */
export const DISK_TABLES: ReadonlySet<number> = new Set([TABLES.account.prefix[0]!])

/** How many values of the tables served from disk stay in memory between blocks (~150 bytes each). */
export const DEFAULT_VALUE_CACHE_ENTRIES = 200_000

/** Outcome of a run whose value misses were recorded rather than thrown. */
export type CollectedRun<T> = { missed: Uint8Array[] } & ({ ok: true; value: T } | { ok: false; error: unknown })

/**
 * The head's values of the tables served from disk (`DISK_TABLES`), read from bucket `state`
 * (written with every block) behind a bounded cache. A cached entry is the value or a known
 * absence; a key not cached is never read as absent: `get` throws StateTreeError NOT_LOADED, or,
 * inside `collect`, records the miss (and answers absent) so the caller discards that run, loads
 * what it missed and runs again. Committed writes go into the cache (the head's values stay
 * exact); `trim` (after a commit, never between a load and its run) drops the oldest entries.
 */
export class StateValueStore implements StateValueSource {
  readonly #db: Db
  /** latin1 key → latin1 value, or null: known absent. Insertion order is age (a write refreshes). */
  readonly #cache = new Map<string, string | null>()
  readonly #maxEntries: number
  #missed: Uint8Array[] | undefined
  /** Commits applied: a load that spans one reads again (its answers may predate the commit). */
  #commits = 0
  constructor(db: Db, maxEntries = DEFAULT_VALUE_CACHE_ENTRIES) {
    this.#db = db
    this.#maxEntries = maxEntries
  }

  serves(prefix: number): boolean {
    return DISK_TABLES.has(prefix)
  }

  get cachedEntries(): number {
    return this.#cache.size
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const cached = this.#cache.get(idOf(key))
    if (cached !== undefined) return cached === null ? undefined : new Uint8Array(Buffer.from(cached, 'latin1'))
    if (this.#missed === undefined) throw new StateTreeError('NOT_LOADED', 'state value not loaded', { root: undefined, keys: [key] })
    this.#missed.push(key)
    return undefined
  }

  /** Whether `key`'s value is known here without a read (served tables only; other keys: true). */
  isLoaded(key: Uint8Array): boolean {
    return !this.serves(key[0]!) || this.#cache.has(idOf(key))
  }

  apply(writes: readonly StateWrite[]): void {
    for (const w of writes) {
      const id = idOf(w.key)
      this.#cache.delete(id)
      this.#cache.set(id, w.value === undefined ? null : idOf(w.value))
    }
    this.#commits++
  }

  /** Loads the head's values of `keys` (those of served tables not cached) with one `getMany`. */
  async load(keys: readonly Uint8Array[]): Promise<void> {
    for (;;) {
      const missing = new Map<string, Uint8Array>()
      for (const key of keys) if (!this.isLoaded(key)) missing.set(idOf(key), key)
      if (missing.size === 0) return
      const commits = this.#commits
      const found = await this.#db.getMany(Bucket.state, [...missing.values()])
      // A block committed meanwhile may have changed a key read before it: read again.
      if (commits !== this.#commits) continue
      let i = 0
      for (const id of missing.keys()) {
        const value = found[i++]
        this.#cache.set(id, value === undefined ? null : idOf(value))
      }
      return
    }
  }

  /**
   * Runs `run` (synchronous) with value misses recorded instead of thrown: a run that missed
   * anything read absent where a value may exist, so its result or error means nothing and the
   * caller loads `missed` and runs again. Runs must not nest.
   */
  collect<T>(run: () => T): CollectedRun<T> {
    const missed: Uint8Array[] = []
    this.#missed = missed
    try {
      return { missed, ok: true, value: run() }
    } catch (error) {
      return { missed, ok: false, error }
    } finally {
      this.#missed = undefined
    }
  }

  /** Drops the oldest cached values beyond the bound. */
  trim(): void {
    trimOldest(this.#cache, this.#maxEntries)
  }
}
