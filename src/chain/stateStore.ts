import { bytesKey, keyBytes } from '../crypto/index.ts'
import { StateTreeError } from '../state/stateTree/index.ts'
import type { StateValueSource, StateWrite } from '../state/stateView.ts'
import { type Row, type RowCodec, TABLES } from '../state/tables.ts'
import { Bucket, type Db } from './db.ts'


/** Drops a map's oldest entries (insertion order) beyond `max`. */
function trimOldest(cache: Map<string, unknown>, max: number): void {
  let excess = cache.size - max
  if (excess <= 0) return
  for (const id of cache.keys()) {
    if (excess-- <= 0) break
    cache.delete(id)
  }
}

export { DEFAULT_TREE_CACHE_BYTES, DEFAULT_TREE_CACHE_NODES, StateTreeStore } from './StateTreeStore.ts'

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

/** How many decoded rows stay beside the cached values (the hot ones: senders and recipients of recent blocks). */
const DECODED_ROWS = 65_536

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
  /** Decoded rows by key, each with the raw value it was decoded from (a stale one is never served: its raw differs). Bounded with the cache. */
  readonly #decoded = new Map<string, { raw: string; codec: RowCodec<unknown>; value: unknown }>()
  readonly #maxEntries: number
  #missed: Uint8Array[] | undefined
  /** Commits applied: a load that spans one reads again (its answers may predate the commit). */
  #commits = 0
  /** Value reads from disk since open (for benchmarks): `getMany` calls and keys asked. */
  readonly diskReads = { getMany: 0, keys: 0 }
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
    const cached = this.#cache.get(bytesKey(key))
    if (cached !== undefined) return cached === null ? undefined : keyBytes(cached)
    if (this.#missed === undefined) throw new StateTreeError('NOT_LOADED', 'state value not loaded', { root: undefined, keys: [key] })
    this.#missed.push(key)
    return undefined
  }

  /**
   * A row decoded: the decoded value is kept beside the cached bytes (a decoded-row cache), so the
   * rows read again and again (a busy sender's account at admission, then in its block's check,
   * then by the pool after the commit) are decoded once per value. Rows are never mutated (writers
   * build new objects), so one object serves every reader. A miss behaves as `get`.
   */
  read<T>(row: Row<T>): T | undefined {
    const id = bytesKey(row.key)
    const cached = this.#cache.get(id)
    if (cached === null) return undefined
    if (cached === undefined) {
      this.get(row.key)
      return undefined
    }
    const decoded = this.#decoded.get(id)
    if (decoded !== undefined && decoded.raw === cached && decoded.codec === row.codec) return decoded.value as T
    const value = row.codec.decode(keyBytes(cached))
    this.#decoded.set(id, { raw: cached, codec: row.codec, value })
    return value
  }

  /** Whether `key`'s value is known here without a read (served tables only; other keys: true). */
  isLoaded(key: Uint8Array): boolean {
    return !this.serves(key[0]!) || this.#cache.has(bytesKey(key))
  }

  apply(writes: readonly StateWrite[]): void {
    for (const w of writes) {
      const id = bytesKey(w.key)
      this.#cache.delete(id)
      const raw = w.value === undefined ? null : bytesKey(w.value)
      this.#cache.set(id, raw)
      // The row the transition wrote, still decoded: its next reader (the pool's prune, the next admission) takes it.
      this.#decoded.delete(id)
      if (raw !== null && w.row !== undefined && !(w.row.value instanceof Uint8Array)) this.#decoded.set(id, { raw, codec: w.row.codec, value: w.row.value })
    }
    this.#commits++
  }

  /** Loads the head's values of `keys` (those of served tables not cached) with one `getMany`. */
  async load(keys: readonly Uint8Array[]): Promise<void> {
    for (;;) {
      const missing = new Map<string, Uint8Array>()
      for (const key of keys) if (!this.isLoaded(key)) missing.set(bytesKey(key), key)
      if (missing.size === 0) return
      const commits = this.#commits
      const found = await this.#db.getMany(Bucket.state, [...missing.values()])
      this.diskReads.getMany++
      this.diskReads.keys += missing.size
      // A block committed meanwhile may have changed a key read before it: read again.
      if (commits !== this.#commits) continue
      let i = 0
      for (const id of missing.keys()) {
        const value = found[i++]
        this.#cache.set(id, value === undefined ? null : bytesKey(value))
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
    trimOldest(this.#decoded, Math.min(this.#maxEntries, DECODED_ROWS))
  }
}
