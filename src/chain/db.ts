import { ClassicLevel } from 'classic-level'

import { DbError } from './errors.ts'

/**
 * Buckets: one prefix byte each. The numbers are a storage format: never reuse one.
 * All tables are declared here (reth's habit) so the layout can be read in one place.
 */
export const Bucket = {
  block: 1, // block hash → encoded Block
  heightIndex: 2, // u32be height → block hash (canonical chain)
  txIndex: 3, // tx id → TxLocation
  state: 4, // state key → value (the head's state)
  meta: 5, // name → value (head, finalized)
  // 6 (undo records) and 7 (block meta for fork choice) are retired: committed blocks are never reverted.
  activity: 8, // subject ‖ u32be height ‖ u32be row → ActivityValue (src/chain/accountActivity.ts), for the explorer
  treeNode: 9, // node hash → state tree node (src/state/stateTree/treeNode.ts), content-addressed: data dirs before tree pages, and state-sync chunks
  commit: 10, // u32be height → encoded Commit (consensus/bft/messages.ts): >2/3 precommits for the block at that height
  validatorSet: 11, // u32be first height → the validator set (address, stake) from that height until the next entry
  header: 12, // block hash → encoded BlockHeader, for blocks whose bodies were pruned (`xsc node --prune`)
  treePage: 13, // page root hash → state tree page (src/state/stateTree/treePage.ts): data dirs of sessions 5–8 (read, no longer written)
  treePageCompact: 14, // page root hash → compact tree page (src/state/stateTree/compactTreePage.ts): how new roots' nodes are stored; bucket 9 holds older data dirs' and state sync's single nodes
} as const
export type Bucket = (typeof Bucket)[keyof typeof Bucket]

/** classic-level's write to its native binding (abstract-level's private API, which its public batch ends in). */
interface NativeBatch { _batch(ops: readonly BatchOp[], options: { sync: boolean }): Promise<void> }

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

export function bucketKey(bucket: Bucket, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1)
  out[0] = bucket
  out.set(key, 1)
  return out
}

/**
 * The thin layer over classic-level: binary keys and values, `undefined` for not found, a clear
 * error when another process holds the lock.
 */
export class Db {
  readonly #level: ClassicLevel<Uint8Array, Uint8Array>
  private constructor(level: ClassicLevel<Uint8Array, Uint8Array>) {
    this.#level = level
  }

  static async open(dir: string): Promise<Db> {
    const level = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await level.open()
    } catch (cause) {
      const code = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as { code?: string }).code
      if (code === 'LEVEL_LOCKED') throw new DbError('LOCKED', `database ${dir} is in use by another process (is a node already running on this --data dir?)`, { dir }, { cause })
      throw new DbError('OPEN_FAILED', `cannot open database ${dir}`, { dir }, { cause })
    }
    return new Db(level)
  }

  async get(bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.#level.get(bucketKey(bucket, key))
    return v === undefined ? undefined : new Uint8Array(v)
  }

  async getMany(bucket: Bucket, keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const vs = await this.#level.getMany(keys.map((k) => bucketKey(bucket, k)))
    return vs.map((v) => (v === undefined ? undefined : new Uint8Array(v)))
  }

  /** Every (key, value) of a bucket in key order (gte <= key < lt when given), keys without the bucket byte. */
  async *entries(bucket: Bucket, range: { gte?: Uint8Array | undefined; lt?: Uint8Array | undefined } = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const gte = range.gte === undefined ? new Uint8Array([bucket]) : bucketKey(bucket, range.gte)
    const lt = range.lt === undefined ? new Uint8Array([bucket + 1]) : bucketKey(bucket, range.lt)
    for await (const [k, v] of this.#level.iterator({ gte, lt })) yield [new Uint8Array(k.subarray(1)), new Uint8Array(v)]
  }

  /** Up to `limit` (key, value) pairs with gte <= key < lt, newest (highest key) first; keys without the bucket byte. */
  async rangeReverse(bucket: Bucket, gte: Uint8Array, lt: Uint8Array, limit: number): Promise<[Uint8Array, Uint8Array][]> {
    const out: [Uint8Array, Uint8Array][] = []
    for await (const [k, v] of this.#level.iterator({ gte: bucketKey(bucket, gte), lt: bucketKey(bucket, lt), reverse: true, limit })) out.push([new Uint8Array(k.subarray(1)), new Uint8Array(v)])
    return out
  }

  /**
   * One atomic write. Our ops are already what classic-level's native batch reads (type, key,
   * value as bytes), so they go to it directly: abstract-level's public batch copies every op
   * (options spread, encodings, prefixing) before handing them on, about as much CPU as the
   * native write itself for a block's few thousand ops. Not open (closing, closed): the public
   * path, which throws its typed error.
   */
  async batch(ops: BatchOp[], sync = false): Promise<void> {
    if (ops.length === 0) return
    if (this.#level.status !== 'open') {
      await this.#level.batch(ops, { sync })
      return
    }
    await (this.#level as unknown as NativeBatch)._batch(ops, { sync })
  }

  async close(): Promise<void> {
    await this.#level.close()
  }
}
