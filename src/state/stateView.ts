import { bytesKey, compareBytes, keyBytes } from '../crypto/index.ts'
import { computeTreeUpdate } from './stateTree/computeTreeUpdate.ts'
import { StateTreeError } from './stateTree/errors.ts'
import { MemoryTreeNodes } from './stateTree/MemoryTreeNodes.ts'
import { EMPTY_TREE_ROOT, type TreeNodeReader, type TreeNodeWrite } from './stateTree/treeNode.ts'
import type { Row, RowCodec } from './tables.ts'

/** Read access to committed state: synchronous, so the transition stays pure. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined
  /** Entries whose key starts with `prefix`, in key order. */
  scan(prefix: Uint8Array): StateWrite[]
  /** The state tree's nodes (src/state/stateTree): the new state root is computed from them. */
  readonly treeNodes: TreeNodeReader
  /** A row decoded, when the reader keeps decoded rows (the same object for the same value: rows are never mutated); `readRow` uses it. */
  read?<T>(row: Row<T>): T | undefined
}

/**
 * One write of a block's write set: value undefined = delete. `row`: the decoded row the value
 * encodes, when the transition held it decoded (`StateOverlay.writeSet`): `MemoryState.apply`
 * keeps it, so the committed row is not decoded again by its next reader.
 */
export interface StateWrite { key: Uint8Array; value: Uint8Array | undefined; row?: { codec: RowCodec<unknown>; value: unknown } }

/** How many decoded rows of the in-memory tables `MemoryState` keeps (oldest dropped first). */
const DECODED_ROWS = 16_384

/**
 * The values of the state tables served from disk (accounts: they grow with users and no block
 * scans them), as far as they are loaded: src/chain/stateStore.ts `StateValueStore`, a bounded
 * cache over the chain store's bucket `state`. Reads are synchronous; a value not loaded is never
 * read as absent: `get` throws StateTreeError NOT_LOADED (or, inside the store's `withLoaded`,
 * records the miss so the run is repeated once it is loaded).
 */
export interface StateValueSource {
  /** Whether the table of this key prefix is served here rather than held whole in memory. */
  serves(prefix: number): boolean
  get(key: Uint8Array): Uint8Array | undefined
  /** A row decoded, when the source keeps decoded rows (the same object for the same value: rows are never mutated). */
  read?<T>(row: Row<T>): T | undefined
  /** A committed block's writes to the tables served here. */
  apply(writes: readonly StateWrite[]): void
}

/**
 * Committed state values: the tables scanned per block (validators, hosts, assets, indexes) held
 * whole in memory, the tables that grow with users served by a `StateValueSource` when one is
 * given (the chain store loads the in-memory tables from disk at start and persists each block's
 * write set with the block). Map keys are latin1 strings of the key bytes. Built with no node
 * store, it keeps its own state tree in memory and `apply` advances it (tests, tools); given one
 * (the chain store's disk-backed cache), the owner of that store advances it.
 */
export class MemoryState implements StateReader {
  // One map per key prefix byte (a state table): a scan walks its table only, so the validator
  // set or the asset table is read without walking every account. Values are kept as latin1
  // strings: a short string costs a fraction of a Uint8Array and its buffer (measured ~0.48 KB
  // per account with Uint8Array values).
  readonly #tables = new Map<number, Map<string, string>>()
  readonly treeNodes: TreeNodeReader
  readonly #ownTree: MemoryTreeNodes | undefined
  readonly #values: StateValueSource | undefined
  /** Rows of the in-memory tables decoded, by key, each with the stored value it came from (`read`). */
  readonly #decoded = new Map<string, { raw: string; codec: RowCodec<unknown>; value: unknown }>()
  #size = 0
  /** The state root of the values held (own tree only). */
  root: Uint8Array = EMPTY_TREE_ROOT
  constructor(treeNodes?: TreeNodeReader, values?: StateValueSource) {
    this.#ownTree = treeNodes === undefined ? new MemoryTreeNodes() : undefined
    this.treeNodes = treeNodes ?? this.#ownTree!
    this.#values = values
  }
  get(key: Uint8Array): Uint8Array | undefined {
    if (this.#values?.serves(key[0]!)) return this.#values.get(key)
    const value = this.#tables.get(key[0]!)?.get(bytesKey(key))
    return value === undefined ? undefined : keyBytes(value)
  }
  /**
   * A row decoded: kept decoded by the value source when it serves the row's table (accounts);
   * a row of an in-memory table is kept decoded here beside its stored value (an execution
   * record is read by the receipt pool for each of its receipts, by the completion's transition
   * and by the pool's prune): decoded once per value. Rows are never mutated (writers build new
   * objects); a kept row whose stored value changed since is decoded again.
   */
  read<T>(row: Row<T>): T | undefined {
    const values = this.#values
    const prefix = row.key[0]!
    if (values?.serves(prefix)) {
      if (values.read !== undefined) return values.read(row)
      const bytes = values.get(row.key)
      return bytes === undefined ? undefined : row.codec.decode(bytes)
    }
    const id = bytesKey(row.key)
    const raw = this.#tables.get(prefix)?.get(id)
    if (raw === undefined) return undefined
    const kept = this.#decoded.get(id)
    if (kept !== undefined && kept.raw === raw && kept.codec === row.codec) return kept.value as T
    const value = row.codec.decode(keyBytes(raw))
    if (value instanceof Uint8Array) return value // raw rows: nothing decoded, and a caller may own its copy
    this.#keepDecoded(id, raw, row.codec as RowCodec<unknown>, value)
    return value
  }
  #keepDecoded(id: string, raw: string, codec: RowCodec<unknown>, value: unknown): void {
    this.#decoded.delete(id) // re-inserted last: the oldest go first
    if (this.#decoded.size >= DECODED_ROWS) this.#decoded.delete(this.#decoded.keys().next().value!)
    this.#decoded.set(id, { raw, codec, value })
  }
  apply(writes: readonly StateWrite[]): void {
    const served: StateWrite[] = []
    for (const w of writes) {
      if (this.#values?.serves(w.key[0]!)) {
        served.push(w)
        continue
      }
      let table = this.#tables.get(w.key[0]!)
      if (table === undefined) this.#tables.set(w.key[0]!, (table = new Map()))
      const before = table.size
      const id = bytesKey(w.key)
      if (w.value === undefined) table.delete(id)
      else {
        const raw = bytesKey(w.value)
        table.set(id, raw)
        if (w.row !== undefined && !(w.row.value instanceof Uint8Array)) this.#keepDecoded(id, raw, w.row.codec, w.row.value)
      }
      this.#size += table.size - before
    }
    if (served.length > 0) this.#values!.apply(served)
    if (this.#ownTree !== undefined) {
      const update = computeTreeUpdate(this.#ownTree, this.root, writes)
      this.#ownTree.add(update.nodes)
      this.root = update.root
    }
  }
  /** Entries held in memory (the tables a value source serves are not counted). */
  get size(): number {
    return this.#size
  }
  /**
   * Entries whose key starts with `prefix`, in key order; work ∝ the size of the prefix's table
   * (all in-memory tables for an empty prefix). A table served from disk is never walked.
   */
  scan(prefix: Uint8Array): StateWrite[] {
    if (prefix.length > 0 && this.#values?.serves(prefix[0]!)) throw new StateTreeError('NOT_SCANNABLE', `state table 0x${prefix[0]!.toString(16)} is served from disk and read by key only`, { prefix: prefix[0]! })
    const p = bytesKey(prefix)
    const tables = prefix.length === 0 ? [...this.#tables.values()] : [this.#tables.get(prefix[0]!) ?? new Map<string, string>()]
    const out: StateWrite[] = []
    for (const table of tables) for (const [k, v] of table) if (k.startsWith(p)) out.push({ key: keyBytes(k), value: keyBytes(v) })
    return out.sort((a, b) => compareBytes(a.key, b.key))
  }
}

/**
 * Pending writes over a reader: what a block's transition reads and writes. Typed accessors
 * keep decoded records, so a record touched by many txs of a block (the proposer's account, a
 * busy sender) is decoded once and encoded once, in `writeSet()`. Records are treated as
 * immutable values (writers build new objects). `writeSet()` is sorted by key, so the write set
 * and its hash do not depend on the order in which the transition touched keys.
 */
interface Slot { codec: RowCodec<unknown> | undefined; value: unknown; bytes: Uint8Array | undefined; dirty: boolean }

export class StateOverlay implements StateReader {
  readonly #base: StateReader
  readonly #parent: StateOverlay | undefined
  readonly #slots = new Map<string, Slot>()
  readonly treeNodes: TreeNodeReader
  constructor(base: StateReader) {
    this.#base = base
    this.treeNodes = base.treeNodes
    this.#parent = base instanceof StateOverlay ? base : undefined
  }
  get(key: Uint8Array): Uint8Array | undefined {
    const slot = this.#slots.get(bytesKey(key))
    if (slot === undefined) return this.#base.get(key)
    return slotBytes(slot)
  }
  set(key: Uint8Array, value: Uint8Array | undefined): void {
    this.#slots.set(bytesKey(key), { codec: undefined, value: undefined, bytes: value, dirty: true })
  }
  read<T>(row: Row<T>): T | undefined {
    const { key, codec } = row
    const id = bytesKey(key)
    const slot = this.#slots.get(id)
    if (slot !== undefined) {
      if (slot.codec === codec) return slot.value as T | undefined
      const bytes = slotBytes(slot)
      return bytes === undefined ? undefined : codec.decode(bytes)
    }
    if (this.#parent !== undefined) return this.#parent.read(row)
    // A base that keeps decoded rows hands its object (bytes are then encoded only if ever asked for).
    const base = this.#base
    const bytes = base.read === undefined ? base.get(key) : undefined
    const value = base.read !== undefined ? base.read(row) : bytes === undefined ? undefined : codec.decode(bytes)
    // Cache clean reads too: the next tx touching this key skips the decode.
    this.#slots.set(id, { codec: codec as RowCodec<unknown>, value, bytes, dirty: false })
    return value
  }
  write<T>(row: Row<T>, value: T | undefined): void {
    this.#slots.set(bytesKey(row.key), { codec: row.codec as RowCodec<unknown>, value, bytes: undefined, dirty: true })
  }
  scan(prefix: Uint8Array): StateWrite[] {
    const p = bytesKey(prefix)
    const merged = new Map<string, Uint8Array | undefined>()
    for (const w of this.#base.scan(prefix)) merged.set(bytesKey(w.key), w.value)
    for (const [id, slot] of this.#slots) if (slot.dirty && id.startsWith(p)) merged.set(id, slotBytes(slot))
    const out: StateWrite[] = []
    for (const id of [...merged.keys()].sort()) {
      const value = merged.get(id)
      if (value !== undefined) out.push({ key: keyBytes(id), value })
    }
    return out
  }
  /** A child overlay: writes land in it and reach this one only through `mergeInto`. */
  child(): StateOverlay {
    return new StateOverlay(this)
  }
  mergeInto(parent: StateOverlay): void {
    for (const [id, slot] of this.#slots) if (slot.dirty) parent.#slots.set(id, slot)
  }
  writeSet(): StateWrite[] {
    const ids: string[] = []
    for (const [id, slot] of this.#slots) if (slot.dirty) ids.push(id)
    ids.sort()
    return ids.map((id) => {
      const slot = this.#slots.get(id)!
      const value = slotBytes(slot)
      return value !== undefined && slot.codec !== undefined ? { key: keyBytes(id), value, row: { codec: slot.codec, value: slot.value } } : { key: keyBytes(id), value }
    })
  }
}

function slotBytes(slot: Slot): Uint8Array | undefined {
  if (slot.bytes === undefined && slot.value !== undefined && slot.codec !== undefined) slot.bytes = slot.codec.encode(slot.value)
  return slot.bytes
}

/** The new state root, the tree nodes it adds and the keys of writes that change nothing (TreeUpdate.unchanged). */
export interface StateRootUpdate { stateRoot: Uint8Array; treeNodes: TreeNodeWrite[]; unchanged: Uint8Array[] }

/**
 * The state commitment (ARCHITECTURE.md §4): the root of the state tree after `writes`, from the
 * tree at `prevStateRoot` (src/state/stateTree). Work ∝ writes × log(state size).
 */
export function computeStateRoot(treeNodes: TreeNodeReader, prevStateRoot: Uint8Array, writes: readonly StateWrite[]): StateRootUpdate {
  const update = computeTreeUpdate(treeNodes, prevStateRoot, writes)
  return { stateRoot: update.root, treeNodes: update.nodes, unchanged: update.unchanged }
}
