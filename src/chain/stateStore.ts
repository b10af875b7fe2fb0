import { computeKeyPath, computeStateProof, decodeTreeNode, type StateProof, StateTreeError, type TreeNodeReader, type TreeNodeWrite } from '../state/stateTree/index.ts'
import { isEmptyRef, pathBit, type TreeRef } from '../state/stateTree/treeNode.ts'
import type { StateValueSource, StateWrite } from '../state/stateView.ts'
import { TABLES } from '../state/tables.ts'
import { type BatchOp, Bucket, bucketKey, type Db } from './db.ts'

const idOf = (hash: Uint8Array): string => Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')

/** Drops a map's oldest entries (insertion order) beyond `max`: both caches here age this way. */
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

/**
 * The state tree's nodes on disk (classic-level bucket `treeNode`, content-addressed) behind a
 * bounded in-memory cache. The pure tree code reads the cache synchronously; what it misses it
 * names (StateTreeError NOT_LOADED), `load` fetches those paths level by level with one
 * `getMany` per level, and the caller runs again. The cache is trimmed only by `trim` (after a
 * commit), so nodes loaded for a run stay until it has run.
 */
export class StateTreeStore implements TreeNodeReader {
  readonly #db: Db
  readonly #cache = new Map<string, Uint8Array>()
  readonly #maxNodes: number
  constructor(db: Db, maxNodes = DEFAULT_TREE_CACHE_NODES) {
    this.#db = db
    this.#maxNodes = maxNodes
  }

  node(hash: Uint8Array): Uint8Array | undefined {
    return this.#cache.get(idOf(hash))
  }

  get cachedNodes(): number {
    return this.#cache.size
  }

  /** One stored node by hash, from the cache or disk, without caching it (state-sync serving walks whole ranges). */
  async readNode(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#cache.get(idOf(hash)) ?? (await this.#db.get(Bucket.treeNode, hash))
  }

  /** Loads into the cache every node on the paths of `keys` in the tree at `root`. */
  async load(root: Uint8Array, keys: readonly Uint8Array[]): Promise<void> {
    let frontier: { ref: TreeRef; paths: Uint8Array[]; depth: number }[] = [{ ref: { hash: root, leaf: false }, paths: keys.map(computeKeyPath), depth: 0 }]
    while (frontier.length > 0) {
      const missing = frontier.filter((f) => !isEmptyRef(f.ref) && !this.#cache.has(idOf(f.ref.hash)))
      if (missing.length > 0) {
        const found = await this.#db.getMany(Bucket.treeNode, missing.map((f) => f.ref.hash))
        found.forEach((bytes, i) => {
          const hash = missing[i]!.ref.hash
          if (bytes === undefined) throw new StateTreeError('CORRUPT_NODE', 'a state tree node is missing from the database', { hash: Buffer.from(hash).toString('hex') })
          this.#cache.set(idOf(hash), bytes)
        })
      }
      const next: typeof frontier = []
      for (const f of frontier) {
        if (isEmptyRef(f.ref)) continue
        const node = decodeTreeNode(f.ref.hash, this.#cache.get(idOf(f.ref.hash))!)
        if (node.kind === 'leaf') continue
        const left = f.paths.filter((p) => pathBit(p, f.depth) === 0)
        const right = f.paths.filter((p) => pathBit(p, f.depth) === 1)
        if (left.length > 0) next.push({ ref: node.left, paths: left, depth: f.depth + 1 })
        if (right.length > 0) next.push({ ref: node.right, paths: right, depth: f.depth + 1 })
      }
      frontier = next
    }
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

  /** New nodes of a committed block: their batch ops, and they join the cache (the next block reads them). */
  stage(nodes: readonly TreeNodeWrite[]): BatchOp[] {
    const ops: BatchOp[] = []
    for (const n of nodes) {
      ops.push({ type: 'put', key: bucketKey(Bucket.treeNode, n.hash), value: n.bytes })
      this.#cache.set(idOf(n.hash), n.bytes)
    }
    return ops
  }

  /** Drops the oldest cached nodes beyond the bound (insertion order: recent blocks' paths stay). */
  trim(): void {
    trimOldest(this.#cache, this.#maxNodes)
  }
}

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
