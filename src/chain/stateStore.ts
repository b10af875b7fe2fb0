import { computeKeyPath, computeStateProof, decodeTreeNode, type StateProof, StateTreeError, type TreeNodeReader, type TreeNodeWrite } from '../state/stateTree/index.ts'
import { isEmptyRef, pathBit, type TreeRef } from '../state/stateTree/treeNode.ts'
import { type BatchOp, Bucket, bucketKey, type Db } from './db.ts'

const idOf = (hash: Uint8Array): string => Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1')

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
        if (!(err instanceof StateTreeError) || err.code !== 'NOT_LOADED' || attempt >= 3) throw err
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
    let excess = this.#cache.size - this.#maxNodes
    if (excess <= 0) return
    for (const id of this.#cache.keys()) {
      if (excess-- <= 0) break
      this.#cache.delete(id)
    }
  }
}
