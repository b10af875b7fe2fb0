import { decode, encode } from '../../blocks/codec.ts'
import { txId } from '../../blocks/ids.ts'
import { Block, BlockHeader, GenesisConfig, type Hash, type SignedTx } from '../../blocks/schema.ts'
import { Commit } from '../../consensus/bft/messages.ts'
import type { ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import type { ValidatorStake } from '../../consensus/validatorSet.ts'
import { equalBytes, toHex, u32be } from '../crypto/index.ts'
import { computeGenesis } from '../state/genesis.ts'
import { StateTreeError, type TreeNodeWrite } from '../state/stateTree/index.ts'
import { computeStateRoot, MemoryState, type StateWrite } from '../state/stateView.ts'
import type { ActivityCursor, ActivityRow } from './accountActivity.ts'
import { ActivityIndex } from './activityIndex.ts'
import { decodePriorities, encodePriorities, encodeValidatorSet, HeadRef, StoredValidatorSet, TxLocation } from './chainStoreFormats.ts'
import { type BatchOp, Bucket, bucketKey, Db } from './db.ts'
import { ChainStoreError } from './errors.ts'
import { DISK_TABLES, StateTreeStore, StateValueStore } from './stateStore.ts'

const META_HEAD = new TextEncoder().encode('head')
const RECENT_BLOCKS = 512
const META_FINALIZED = new TextEncoder().encode('finalized')
const META_PRIORITIES = new TextEncoder().encode('priorities')
const META_PRUNED_BELOW = new TextEncoder().encode('prunedBelow')
/** Set while a state sync writes the state bucket (src/node/network/stateSync.ts): the values there are partial. */
const META_STATE_SYNC = new TextEncoder().encode('stateSync')
/** Heights moved per batch when pruning (a batch per this many blocks). */
const PRUNE_BATCH = 256
/** Runs of one pure computation `withLoaded` allows (each loads everything the previous one missed). */
const MAX_LOADED_RUNS = 8

/** What a block brings besides itself: its commit (when BFT decided it) and the next height's proposer priorities. */
export interface BlockExtras {
  bytes?: Uint8Array | undefined
  /** >2/3 precommits for the block: stored with it, and the block is final in the same batch. */
  commit?: Commit | undefined
  /** The proposer priorities of the next height (consensus/proposerPriority.ts). */
  priorities?: ProposerPriorityState | undefined
  /** The validator set of the next height: stored when it differs from the last one stored. */
  nextValidators?: readonly ValidatorStake[] | undefined
  /** The state tree nodes the block's root adds (recomputed when absent). */
  treeNodes?: readonly TreeNodeWrite[] | undefined
}

export interface ChainStoreOpts {
  /** State tree nodes kept in memory between blocks. */
  treeCacheNodes?: number
  /** Values of the tables served from disk (accounts) kept in memory between blocks. */
  valueCacheEntries?: number
  /** Keep the explorer's activity index (default true; activityIndex.ts). */
  activityIndex?: boolean
}

export interface ChainHead { hash: Hash; height: number; header: BlockHeader }

/**
 * The chain on disk. A block, its height and tx indices, its state writes and the state tree
 * nodes its root adds, its commit (the precommits that made it final), the next height's
 * proposer priorities and the new head land in ONE classic-level batch, so a process killed at
 * any point reopens on a consistent head with no partial block. Committed blocks are final:
 * nothing is ever reverted, so no undo data is kept. The pure transition reads the head's state
 * synchronously (`state`): the tables scanned per block are held whole in memory (loaded at
 * open), the accounts are served from bucket `state` through a bounded cache (`values`), and the
 * state tree's nodes through another (`tree`). What a computation needs is loaded before it runs
 * (`load`, `withLoaded`, `readLoaded`); nothing unloaded is ever read as absent.
 */
export class ChainStore {
  readonly tree: StateTreeStore
  readonly values: StateValueStore
  readonly state: MemoryState
  readonly activity: ActivityIndex
  /** Called with every change applied to `state` (commits and reverts), after it is durable. */
  onStateChange: ((writes: readonly StateWrite[]) => void) | undefined
  readonly genesis: GenesisConfig
  readonly genesisHash: Hash
  readonly #recent = new Map<string, Block>()
  #head!: ChainHead
  #finalized!: HeadRef
  #priorities: ProposerPriorityState | undefined
  /** Blocks below this height keep only their header (and commit): `pruneBodies`. */
  #prunedBelow = 1
  /** The encoding of the newest stored validator set (to store a set only when it changes). */
  #lastValidatorSet: Uint8Array | undefined
  readonly #db: Db

  private constructor(db: Db, genesis: GenesisConfig, genesisHash: Hash, opts: ChainStoreOpts) {
    this.#db = db
    this.tree = new StateTreeStore(db, opts.treeCacheNodes)
    this.values = new StateValueStore(db, opts.valueCacheEntries)
    this.state = new MemoryState(this.tree, this.values)
    this.activity = new ActivityIndex(db, opts.activityIndex !== false)
    this.genesis = genesis
    this.genesisHash = genesisHash
  }

  static async open(dir: string, genesis: GenesisConfig, opts: ChainStoreOpts = {}): Promise<ChainStore> {
    const db = await Db.open(dir)
    try {
      const g = computeGenesis(genesis)
      const store = new ChainStore(db, genesis, g.hash, opts)
      const headBytes = await db.get(Bucket.meta, META_HEAD)
      if (headBytes === undefined) {
        await store.#commit(g.block, g.hash, g.writes, { treeNodes: g.treeNodes })
        await db.batch([{ type: 'put', key: bucketKey(Bucket.meta, META_FINALIZED), value: encode(HeadRef, { hash: g.hash, height: 0 }) }])
        store.#finalized = { hash: g.hash, height: 0 }
        await store.activity.open(0, async () => undefined)
        return store
      }
      const stored0 = await db.get(Bucket.heightIndex, u32be(0))
      if (stored0 === undefined || !equalBytes(stored0, g.hash)) {
        throw new ChainStoreError('WRONG_GENESIS', `the data dir holds another chain (genesis ${stored0 ? toHex(stored0) : 'missing'}, expected ${toHex(g.hash)})`)
      }
      // A state sync cut short: its partial values go, the genesis state comes back (the head never moved).
      if ((await db.get(Bucket.meta, META_STATE_SYNC)) !== undefined) await store.#resetStateTo(g.writes, [{ type: 'del', key: bucketKey(Bucket.meta, META_STATE_SYNC) }])
      // Only the tables held in memory: a range read between each two tables served from disk.
      let from = 0
      for (const prefix of [...DISK_TABLES, 256].sort((a, b) => a - b)) {
        const range = { gte: new Uint8Array([from]), lt: prefix === 256 ? undefined : new Uint8Array([prefix]) }
        if (prefix > from) for await (const [k, v] of db.entries(Bucket.state, range)) store.state.apply([{ key: k, value: v }])
        from = prefix + 1
      }
      const head = decode(HeadRef, headBytes)
      const headBlock = await store.getBlock(head.hash)
      if (headBlock === undefined) throw new ChainStoreError('CORRUPT', 'head block missing')
      store.#head = { hash: head.hash, height: head.height, header: headBlock.header }
      const fin = await db.get(Bucket.meta, META_FINALIZED)
      store.#finalized = fin ? decode(HeadRef, fin) : { hash: g.hash, height: 0 }
      const priorities = await db.get(Bucket.meta, META_PRIORITIES)
      store.#priorities = priorities === undefined ? undefined : decodePriorities(priorities)
      const pruned = await db.get(Bucket.meta, META_PRUNED_BELOW)
      if (pruned !== undefined) store.#prunedBelow = new DataView(pruned.buffer, pruned.byteOffset, 4).getUint32(0)
      store.#lastValidatorSet = (await db.rangeReverse(Bucket.validatorSet, u32be(0), u32be(0xffffffff), 1))[0]?.[1]
      await store.activity.open(head.height, (h) => store.getBlockByHeight(h), store.#prunedBelow)
      return store
    } catch (e) {
      await db.close()
      throw e
    }
  }

  get head(): ChainHead {
    return this.#head
  }

  get finalized(): HeadRef {
    return this.#finalized
  }

  /** The proposer priorities of height head+1, as stored with the head (undefined before the first BFT block). */
  get priorities(): ProposerPriorityState | undefined {
    return this.#priorities
  }

  /**
   * Appends a block that was verified against the head's state; `writes` is its write set and
   * `extras.treeNodes` the state tree nodes its root adds (recomputed when not given).
   */
  async commitBlock(block: Block, hash: Hash, writes: StateWrite[], extras: BlockExtras = {}): Promise<void> {
    if (!equalBytes(block.header.prevHash, this.#head.hash) || block.header.height !== this.#head.height + 1) {
      throw new ChainStoreError('NOT_HEAD_CHILD', `block ${toHex(hash)} does not extend the head`)
    }
    const prevRoot = this.#head.header.stateRoot
    const treeNodes = extras.treeNodes ?? (await this.tree.withLoaded(() => computeStateRoot(this.tree, prevRoot, writes))).treeNodes
    await this.#commit(block, hash, writes, { ...extras, treeNodes })
  }

  async #commit(block: Block, hash: Hash, writes: StateWrite[], extras: BlockExtras = {}): Promise<void> {
    const ops: BatchOp[] = this.tree.stage(block.header.stateRoot, extras.treeNodes ?? [])
    const height = block.header.height
    ops.push({ type: 'put', key: bucketKey(Bucket.block, hash), value: extras.bytes ?? encode(Block, block) })
    ops.push({ type: 'put', key: bucketKey(Bucket.heightIndex, u32be(block.header.height)), value: hash })
    block.entries.forEach((e, index) => {
      if ('tx' in e) ops.push({ type: 'put', key: bucketKey(Bucket.txIndex, txId(e.tx)), value: encode(TxLocation, { blockHash: hash, height: block.header.height, index }) })
    })
    ops.push(...this.activity.rowsOf(block))
    if (extras.commit !== undefined) {
      ops.push({ type: 'put', key: bucketKey(Bucket.commit, u32be(height)), value: encode(Commit, extras.commit) })
      ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_FINALIZED), value: encode(HeadRef, { hash, height }) })
    }
    if (extras.priorities !== undefined) ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_PRIORITIES), value: encodePriorities(extras.priorities) })
    const nextSet = extras.nextValidators === undefined ? undefined : encodeValidatorSet(extras.nextValidators)
    const setChanged = nextSet !== undefined && (this.#lastValidatorSet === undefined || !equalBytes(nextSet, this.#lastValidatorSet))
    if (setChanged) ops.push({ type: 'put', key: bucketKey(Bucket.validatorSet, u32be(height + 1)), value: nextSet })
    for (const w of writes) {
      const key = bucketKey(Bucket.state, w.key)
      ops.push(w.value === undefined ? { type: 'del', key } : { type: 'put', key, value: w.value })
    }
    ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_HEAD), value: encode(HeadRef, { hash, height: block.header.height }) })
    // Not synced: a commit lost in a crash is fetched again by range sync; what must never be
    // lost is what this validator signed, and that is the sign guard's fsynced file.
    await this.#db.batch(ops)
    this.state.apply(writes)
    this.#head = { hash, height, header: block.header }
    if (extras.commit !== undefined) this.#finalized = { hash, height }
    if (extras.priorities !== undefined) this.#priorities = extras.priorities
    if (setChanged) this.#lastValidatorSet = nextSet
    this.tree.trim()
    this.values.trim()
    this.onStateChange?.(writes)
  }

  /** Replaces every value of the state bucket by `values` (with `extra` ops), in one batch. */
  async #resetStateTo(values: readonly StateWrite[], extra: BatchOp[]): Promise<void> {
    const ops: BatchOp[] = []
    for await (const [k] of this.#db.entries(Bucket.state)) ops.push({ type: 'del', key: bucketKey(Bucket.state, k) })
    for (const w of values) if (w.value !== undefined) ops.push({ type: 'put', key: bucketKey(Bucket.state, w.key), value: w.value })
    await this.#db.batch([...ops, ...extra], true)
  }

  /**
   * State sync, step 1: empties the state bucket and marks the sync under way, so a crash before
   * `finishStateSync` reopens on the genesis state (never on part of a synced one). Only on a
   * store still at genesis.
   */
  async beginStateSync(): Promise<void> {
    if (this.#head.height !== 0) throw new ChainStoreError('NOT_HEAD_CHILD', `state sync needs a store at genesis; this one is at height ${this.#head.height}`)
    await this.#resetStateTo([], [{ type: 'put', key: bucketKey(Bucket.meta, META_STATE_SYNC), value: new Uint8Array([1]) }])
  }

  /** State sync, step 2 (per verified chunk): its values and tree nodes, in one batch. */
  async writeStateChunk(values: readonly { key: Uint8Array; value: Uint8Array }[], treeNodes: readonly TreeNodeWrite[]): Promise<void> {
    const ops: BatchOp[] = treeNodes.map((n) => ({ type: 'put', key: bucketKey(Bucket.treeNode, n.hash), value: n.bytes }))
    for (const v of values) ops.push({ type: 'put', key: bucketKey(Bucket.state, v.key), value: v.value })
    await this.#db.batch(ops)
  }

  /**
   * State sync, last step: the synced block becomes head, final and the earliest block held
   * (like a pruned history: nothing below it), with its commit, the next height's priorities
   * and validator set, and the boundary tree nodes; the sync mark goes in the same synced batch.
   * The store closes: reopen it to read the synced state.
   */
  async finishStateSync(synced: { block: Block; hash: Hash; bytes: Uint8Array; commit: Commit; priorities: ProposerPriorityState; nextValidators: readonly ValidatorStake[]; treeNodes: readonly TreeNodeWrite[] }): Promise<void> {
    const height = synced.block.header.height
    const ops: BatchOp[] = synced.treeNodes.map((n) => ({ type: 'put', key: bucketKey(Bucket.treeNode, n.hash), value: n.bytes }))
    ops.push({ type: 'put', key: bucketKey(Bucket.block, synced.hash), value: synced.bytes })
    ops.push({ type: 'put', key: bucketKey(Bucket.heightIndex, u32be(height)), value: synced.hash })
    ops.push({ type: 'put', key: bucketKey(Bucket.commit, u32be(height)), value: encode(Commit, synced.commit) })
    ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_FINALIZED), value: encode(HeadRef, { hash: synced.hash, height }) })
    ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_HEAD), value: encode(HeadRef, { hash: synced.hash, height }) })
    ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_PRIORITIES), value: encodePriorities(synced.priorities) })
    ops.push({ type: 'put', key: bucketKey(Bucket.validatorSet, u32be(height + 1)), value: encodeValidatorSet(synced.nextValidators) })
    ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_PRUNED_BELOW), value: u32be(height) })
    ops.push({ type: 'del', key: bucketKey(Bucket.meta, META_STATE_SYNC) })
    await this.#db.batch(ops, true)
    await this.#db.close()
  }

  /** Loads the head's values of `keys` (tables served from disk) and their state tree paths. */
  async load(keys: readonly Uint8Array[]): Promise<void> {
    await Promise.all([this.values.load(keys), this.tree.load(this.#head.header.stateRoot, keys)])
  }

  /**
   * Runs `run`, a pure computation over the head's state (a block's transition, a proposal), until
   * it misses nothing: a run that missed a value (read as absent meanwhile) or a tree node is
   * thrown away, what it named is loaded and it runs again. Results and errors are those of a
   * run that missed nothing, so a value not loaded never reads as absent. Side effects of `run`
   * must be deferred by the caller until it returns.
   */
  async withLoaded<T>(run: () => T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const outcome = this.values.collect(run)
      const err = outcome.ok ? undefined : outcome.error
      const treeMiss = err instanceof StateTreeError && err.code === 'NOT_LOADED' ? err.details : undefined
      if (outcome.missed.length === 0 && treeMiss === undefined) {
        if (outcome.ok) return outcome.value
        throw err
      }
      if (attempt >= MAX_LOADED_RUNS) throw new StateTreeError('NOT_LOADED', `state still not loaded after ${attempt} runs`, { root: undefined, keys: outcome.missed })
      await Promise.all([
        outcome.missed.length > 0 ? this.load(outcome.missed) : undefined,
        treeMiss !== undefined ? (treeMiss.root === undefined ? this.values.load(treeMiss.keys) : this.tree.load(treeMiss.root, treeMiss.keys)) : undefined,
      ])
    }
  }

  /**
   * Loads the values of `keys`, then runs `read` (synchronous; a value it reads that is not loaded
   * throws NOT_LOADED): for admission and queries outside the block path. A value evicted by a
   * commit in between, or one `read` needs beyond `keys`, is loaded and `read` runs again, so
   * `read` must throw before any side effect (the mempool's checks come before its insert).
   */
  async readLoaded<T>(keys: readonly Uint8Array[], read: () => T): Promise<T> {
    await this.values.load(keys)
    for (let attempt = 1; ; attempt++) {
      try {
        return read()
      } catch (err) {
        if (!(err instanceof StateTreeError) || err.code !== 'NOT_LOADED' || err.details.root !== undefined || attempt >= MAX_LOADED_RUNS) throw err
        await this.values.load(err.details.keys)
      }
    }
  }

  /** Every state entry of the head, from disk, in key order (tools and tests: O(state)). */
  async readWholeState(): Promise<StateWrite[]> {
    const out: StateWrite[] = []
    for await (const [key, value] of this.#db.entries(Bucket.state)) out.push({ key, value })
    return out
  }

  /** The commit stored with the block at `height` (undefined for genesis and blocks finalized without BFT). */
  async getCommit(height: number): Promise<Commit | undefined> {
    if (!Number.isInteger(height) || height < 1 || height > this.#head.height) return undefined
    const bytes = await this.#db.get(Bucket.commit, u32be(height))
    return bytes === undefined ? undefined : decode(Commit, bytes)
  }

  /**
   * The validator set whose precommits commit the block at `height` (the set after block
   * height−1), as stored when it changed; undefined for heights before the first stored set (a
   * data dir older than the bucket) or beyond head+1.
   */
  async getValidatorSetAt(height: number): Promise<ValidatorStake[] | undefined> {
    if (!Number.isInteger(height) || height < 1 || height > this.#head.height + 1) return undefined
    const found = await this.#db.rangeReverse(Bucket.validatorSet, u32be(0), u32be(height + 1), 1)
    return found[0] === undefined ? undefined : decode(StoredValidatorSet, found[0][1])
  }

  /** Stores the set of height head+1 when none is stored yet (a fresh chain's genesis set, or an older data dir's current set). */
  async initValidatorSet(set: readonly ValidatorStake[]): Promise<void> {
    if (this.#lastValidatorSet !== undefined) return
    const bytes = encodeValidatorSet(set)
    await this.#db.batch([{ type: 'put', key: bucketKey(Bucket.validatorSet, u32be(this.#head.height + 1)), value: bytes }])
    this.#lastValidatorSet = bytes
  }

  async setFinalized(ref: HeadRef): Promise<void> {
    if (ref.height <= this.#finalized.height) return
    await this.#db.batch([{ type: 'put', key: bucketKey(Bucket.meta, META_FINALIZED), value: encode(HeadRef, ref) }])
    this.#finalized = ref
  }

  /**
   * Blocks are immutable values: recent ones stay decoded (RPC reads and range sync hit the same
   * few blocks; their tx ids are memoized on the objects too).
   */
  async getBlock(hash: Hash): Promise<Block | undefined> {
    const id = toHex(hash)
    const hit = this.#recent.get(id)
    if (hit !== undefined) return hit
    const bytes = await this.#db.get(Bucket.block, hash)
    if (bytes === undefined) return undefined
    const block = decode(Block, bytes)
    if (this.#recent.size >= RECENT_BLOCKS) this.#recent.delete(this.#recent.keys().next().value as string)
    this.#recent.set(id, block)
    return block
  }

  async getBlockBytes(hash: Hash): Promise<Uint8Array | undefined> {
    return this.#db.get(Bucket.block, hash)
  }

  /** Blocks below this height keep only their header and commit (1: nothing pruned). */
  get prunedBelow(): number {
    return this.#prunedBelow
  }

  /** A committed block's header, whether or not its body was pruned. */
  async getHeader(hash: Hash): Promise<BlockHeader | undefined> {
    const block = await this.getBlock(hash)
    if (block !== undefined) return block.header
    const bytes = await this.#db.get(Bucket.header, hash)
    return bytes === undefined ? undefined : decode(BlockHeader, bytes)
  }

  /** Whether a block is committed here (its body may be pruned). */
  async hasBlock(hash: Hash): Promise<boolean> {
    return (await this.#db.get(Bucket.block, hash)) !== undefined || (await this.#db.get(Bucket.header, hash)) !== undefined
  }

  /**
   * Drops the bodies of the blocks below `keepFrom` (never the head's): each keeps its header,
   * height index and commit, so headers and finality stay provable; the state tree keeps every
   * root. A block body once pruned is gone from this node (range sync and RPC say so). Returns
   * the new `prunedBelow`. Safe beside commits: it writes only keys of old heights.
   */
  async pruneBodies(keepFrom: number): Promise<number> {
    const until = Math.min(keepFrom, this.#head.height)
    while (this.#prunedBelow < until) {
      const end = Math.min(until, this.#prunedBelow + PRUNE_BATCH)
      const ops: BatchOp[] = []
      for (let h = this.#prunedBelow; h < end; h++) {
        const hash = await this.#db.get(Bucket.heightIndex, u32be(h))
        const bytes = hash && (await this.#db.get(Bucket.block, hash))
        if (!hash || !bytes) continue
        ops.push({ type: 'put', key: bucketKey(Bucket.header, hash), value: encode(BlockHeader, decode(Block, bytes).header) })
        ops.push({ type: 'del', key: bucketKey(Bucket.block, hash) })
        this.#recent.delete(toHex(hash))
      }
      ops.push({ type: 'put', key: bucketKey(Bucket.meta, META_PRUNED_BELOW), value: u32be(end) })
      await this.#db.batch(ops)
      this.#prunedBelow = end
    }
    return this.#prunedBelow
  }

  async getHashAtHeight(height: number): Promise<Hash | undefined> {
    if (!Number.isInteger(height) || height < 0 || height > this.#head.height) return undefined
    return this.#db.get(Bucket.heightIndex, u32be(height))
  }

  async getBlockByHeight(height: number): Promise<Block | undefined> {
    const hash = await this.getHashAtHeight(height)
    return hash === undefined ? undefined : this.getBlock(hash)
  }

  /** Where an included tx is (kept when its block's body is pruned). */
  async getTxLocation(id: Hash): Promise<TxLocation | undefined> {
    const loc = await this.#db.get(Bucket.txIndex, id)
    return loc === undefined ? undefined : decode(TxLocation, loc)
  }

  async getTx(id: Hash): Promise<{ tx: SignedTx; location: TxLocation } | undefined> {
    const location = await this.getTxLocation(id)
    if (location === undefined) return undefined
    const block = await this.getBlock(location.blockHash)
    if (block === undefined && location.height < this.#prunedBelow) throw new ChainStoreError('PRUNED', `the block at height ${location.height} holding this tx was pruned here (bodies below ${this.#prunedBelow} are gone)`)
    const entry = block?.entries[location.index]
    if (entry === undefined || !('tx' in entry)) throw new ChainStoreError('CORRUPT', `tx index points at a missing entry`)
    return { tx: entry.tx, location }
  }

  /** A subject's activity rows below `beforeHeight`, newest first, at most `limit` (ACTIVITY_INDEX_OFF on a node without the index). */
  async getActivity(subject: Hash, beforeHeight: number, limit: number): Promise<ActivityRow[]> {
    return this.activity.rows(subject, beforeHeight, limit)
  }

  /**
   * One page of a subject's rows, newest first, strictly before `before` (a previous page's
   * cursor), each with its own cursor: the list RPCs page on (height, row) so rows of one block
   * are never skipped or repeated. ACTIVITY_INDEX_OFF on a node without the index.
   */
  async getActivityPage(subject: Hash, before: ActivityCursor | undefined, limit: number): Promise<{ row: ActivityRow; cursor: ActivityCursor }[]> {
    return this.activity.page(subject, before, limit)
  }

  async close(): Promise<void> {
    await this.#db.close()
  }
}

