import { decode, encode } from '../../blocks/codec.ts'
import type { Block, Hash } from '../../blocks/schema.ts'
import { u32be } from '../crypto/index.ts'
import { ACTIVITY_ROLE, type ActivityCursor, type ActivityRow, ActivityValue, computeActivityKey, computeActivityRows } from './accountActivity.ts'
import { type BatchOp, Bucket, bucketKey, type Db } from './db.ts'
import { ChainStoreError } from './errors.ts'

/** First height whose rows a node without the index did not write (present while the index has that gap). */
const META_ACTIVITY_GAP = new TextEncoder().encode('activityGap')

/**
 * The explorer's activity index (bucket `activity`, rows of accountActivity.ts) as the chain
 * store writes and reads it. A node that serves no explorer (a host, by default) does not keep
 * it: its blocks then write only the rows of asset deletions, which the host's shard sweep reads
 * (`wasDeleted`), and the reads the RPC makes refuse with ACTIVITY_INDEX_OFF. The first height
 * written without the index is recorded; a node restarted with the index rebuilds the missing
 * rows from the stored block bodies (bodies pruned in between stay without rows).
 */
export class ActivityIndex {
  readonly #db: Db
  readonly kept: boolean

  constructor(db: Db, kept: boolean) {
    this.#db = db
    this.kept = kept
  }

  /** At open: a node without the index records where its gap starts; one with it fills a recorded gap (from `firstBody`: no body is stored below it). */
  async open(head: number, blockAt: (height: number) => Promise<Block | undefined>, firstBody = 1): Promise<void> {
    const gap = await this.#db.get(Bucket.meta, META_ACTIVITY_GAP)
    if (!this.kept) {
      if (gap === undefined) await this.#db.batch([{ type: 'put', key: bucketKey(Bucket.meta, META_ACTIVITY_GAP), value: u32be(head + 1) }])
      return
    }
    if (gap === undefined) return
    const from = new DataView(gap.buffer, gap.byteOffset, 4).getUint32(0)
    for (let h = Math.max(from, firstBody); h <= head; h++) {
      const block = await blockAt(h)
      if (block !== undefined) await this.#db.batch(this.rowsOf(block))
    }
    await this.#db.batch([{ type: 'del', key: bucketKey(Bucket.meta, META_ACTIVITY_GAP) }])
  }

  /** The index's writes for a committed block: every row, or without the index only asset deletions (same keys as the full index's). */
  rowsOf(block: Block): BatchOp[] {
    if (!this.kept && !block.entries.some((e) => e.type === 'tx' && e.tx.body.payload.type === 'asset.delete')) return []
    const ops: BatchOp[] = []
    computeActivityRows(block).forEach((r, seq) => {
      if (this.kept || r.role === ACTIVITY_ROLE.deleted) ops.push({ type: 'put', key: bucketKey(Bucket.activity, computeActivityKey(r.subject, r.height, seq)), value: encode(ActivityValue, r) })
    })
    return ops
  }

  /** Whether the asset was deleted by its owner (kept with or without the index). */
  async wasDeleted(asset: Hash): Promise<boolean> {
    const [last] = await this.#range(asset, computeActivityKey(asset, 0xffffffff, 0xffffffff), 1)
    return last?.row.role === ACTIVITY_ROLE.deleted
  }

  /** A subject's rows below `beforeHeight`, newest first, at most `limit` (one index range read). */
  async rows(subject: Hash, beforeHeight: number, limit: number): Promise<ActivityRow[]> {
    this.#requireKept()
    return (await this.#range(subject, computeActivityKey(subject, Math.min(beforeHeight, 0xffffffff), 0), limit)).map((r) => r.row)
  }

  /** One page of a subject's rows, newest first, strictly before `before`, each with its own cursor. */
  async page(subject: Hash, before: ActivityCursor | undefined, limit: number): Promise<{ row: ActivityRow; cursor: ActivityCursor }[]> {
    this.#requireKept()
    return this.#range(subject, before === undefined ? computeActivityKey(subject, 0xffffffff, 0xffffffff) : computeActivityKey(subject, before.height, before.seq), limit)
  }

  #requireKept(): void {
    if (!this.kept) throw new ChainStoreError('ACTIVITY_INDEX_OFF', 'this node does not keep the activity index (hosts run without it unless started with --activity-index): ask a validator or an RPC node')
  }

  async #range(subject: Hash, end: Uint8Array, limit: number): Promise<{ row: ActivityRow; cursor: ActivityCursor }[]> {
    const rows = await this.#db.rangeReverse(Bucket.activity, computeActivityKey(subject, 0, 0), end, limit)
    return rows.map(([k, v]) => {
      const value = decode(ActivityValue, v)
      const view = new DataView(k.buffer, k.byteOffset, k.byteLength)
      const cursor = { height: view.getUint32(32), seq: view.getUint32(36) }
      return { row: { subject, height: cursor.height, entry: value.entry, role: value.role as ActivityRow['role'], ref: value.ref, amount: value.amount, aux: value.aux, slot: value.slot }, cursor }
    })
  }
}
