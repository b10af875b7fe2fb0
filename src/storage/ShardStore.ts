import { ClassicLevel } from 'classic-level'

import type { Hash, Manifest } from '../../blocks/schema.ts'
import { concatBytes, equalBytes, merkleProof, merkleRoot, toHex } from '../crypto/index.ts'
import { type ChunkProof, computeChunkLength } from '../state/storage/computeChunkLeaves.ts'
import { StorageError } from '../state/storage/errors.ts'
import { type BatchOp, ShardPieceWriter } from './ShardPieceWriter.ts'
import { BUCKET, decodeRecord, encodeRecord, LEAF_PAGE_LEAVES, leafPageKey, PIECE_BYTES, pieceKey, shardKey, type ShardRecord, splitHashes, STATE_KEY } from './shardStoreKeys.ts'
import { verifyShard, verifyShardIndex } from './verifyShard.ts'

/**
 * A host's shard store on classic-level. Every write is one atomic batch (pieces, shard record,
 * chunk leaves, usage counter), so a crash never leaves usage out of step with the data.
 *
 * Buckets (first key byte; numbers are never reused):
 *   0x00 store state        -> usedBytes u64 | draining u8
 *   0x01 asset|shard        -> shard record (size u64, hash 32, chunkSize u32, chunk root 32)
 *   0x02 asset|shard|piece  -> up to PIECE_BYTES of the shard (big shards never sit in one value)
 *   0x03 asset|shard        -> chunk leaf hashes, 32 bytes each (stores written before leaf pages; read, never written)
 *   0x04 asset|shard        -> root of each leaf page, 32 bytes each
 *   0x05 asset|shard|page   -> LEAF_PAGE_LEAVES chunk leaf hashes (the last page may be shorter)
 * A Merkle path is the path inside the leaf's page followed by the page's path among the page
 * roots (pages are aligned perfect subtrees), so an audit reads two small values, never every
 * leaf of a large shard. Pieces and leaf pages without a shard record are invisible; open()
 * sweeps them (crash during putStream).
 */
export { LEAF_PAGE_LEAVES, PIECE_BYTES } from './shardStoreKeys.ts'

export interface StoredShard { asset: Hash; shardIndex: number; size: bigint; shardHash: Hash }
const RECORD_CACHE_ENTRIES = 4096

export interface StoreUsage { usedBytes: bigint; capacityBytes: bigint; draining: boolean }
export interface ShardStoreOpts {
  capacityBytes: bigint
  /** Remove pieces no shard record points at (left by a crash during putStream). Default true. */
  sweepOrphans?: boolean
  /** LevelDB table file size (TABLE_FILE_BYTES unless a benchmark compares others). */
  tableFileBytes?: number
}

/**
 * LevelDB maps each table file it reads (while the file is in its table cache, 1000 by default)
 * and the pages touched count as the process's resident memory: hosts holding a 1 GiB shard were
 * at 1.3-1.4 GiB (session 7), most of it mapped table files that compaction and reads had
 * touched. LevelDB keeps at least 64 tables open (it raises a smaller max_open_files to 74), so
 * smaller table files bound what stays mapped: 64 × 1 MiB.
 */
const TABLE_FILES_OPEN = 74
const TABLE_FILE_BYTES = 1024 * 1024

type Db = ClassicLevel<Uint8Array, Uint8Array>


export class ShardStore {
  readonly location: string
  readonly capacityBytes: bigint
  readonly #db: Db
  #usedBytes = 0n
  /** Bytes promised to streams in flight: counted against capacity before they land. */
  #reservedBytes = 0n
  readonly #streaming = new Set<string>()
  /** Shard records read lately: every read window asks for its shard's record twice (has, getRange). */
  readonly #records = new Map<string, ShardRecord>()
  #recordGeneration = 0
  #draining = false
  /** Writes run one at a time so capacity checks and the usage counter never race. */
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(location: string, db: Db, capacityBytes: bigint) {
    this.location = location
    this.#db = db
    this.capacityBytes = capacityBytes
  }

  static async open(location: string, opts: ShardStoreOpts): Promise<ShardStore> {
    if (typeof opts.capacityBytes !== 'bigint' || opts.capacityBytes < 0n) throw new StorageError('INVALID_PARAMS', 'capacityBytes must be a non-negative bigint')
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view', maxOpenFiles: TABLE_FILES_OPEN, maxFileSize: opts.tableFileBytes ?? TABLE_FILE_BYTES })
    try {
      await db.open()
    } catch (cause) {
      const locked = (cause as { code?: string; cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED' || (cause as { code?: string }).code === 'LEVEL_LOCKED'
      throw new StorageError(locked ? 'STORE_LOCKED' : 'STORE_CLOSED', locked ? `shard store ${location} is held by another process` : `cannot open shard store ${location}`, { location }, { cause })
    }
    const store = new ShardStore(location, db, opts.capacityBytes)
    const state = await db.get(STATE_KEY)
    if (state) {
      const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
      store.#usedBytes = view.getBigUint64(0)
      store.#draining = state[8] === 1
    }
    if (opts.sweepOrphans !== false) await store.sweepOrphanPieces()
    return store
  }

  async close(): Promise<void> {
    await this.#queue.catch(() => {})
    await this.#db.close()
  }

  usage(): StoreUsage {
    return { usedBytes: this.#usedBytes, capacityBytes: this.capacityBytes, draining: this.#draining }
  }

  /** Drain mode: refuse new shards, keep serving and deleting the ones held. Persisted. */
  setDraining(draining: boolean): Promise<void> {
    return this.#serial(async () => {
      await this.#call(() => this.#db.batch([this.#stateOp(this.#usedBytes, draining)]))
      this.#draining = draining
    })
  }

  /**
   * Stores shard `shardIndex` of `asset` after checking it against the manifest (length, hash,
   * chunk root). Idempotent for a shard already held. Refuses with STORE_DRAINING or STORE_FULL
   * without touching what is stored.
   */
  async put(manifest: Manifest, asset: Hash, shardIndex: number, shard: Uint8Array): Promise<void> {
    const { shardHash, chunkRoot, pages, pageRoots } = verifyShard(manifest, shardIndex, shard)
    return this.#serial(async () => {
      if (this.#draining) throw new StorageError('STORE_DRAINING', 'store is draining and accepts no new shards')
      if (this.#streaming.has(`${toHex(asset)}/${shardIndex}`)) throw new StorageError('INVALID_PARAMS', `shard ${shardIndex} is being written by a stream`)
      const recordKey = shardKey(BUCKET.shard, asset, shardIndex)
      const existing = await this.#call(() => this.#db.get(recordKey))
      if (existing && equalBytes(decodeRecord(existing).shardHash, shardHash)) return
      const previous = existing ? decodeRecord(existing).size : 0n
      const used = this.#usedBytes - previous + manifest.shardSize
      if (used + this.#reservedBytes > this.capacityBytes) {
        throw new StorageError('STORE_FULL', `shard of ${manifest.shardSize} bytes does not fit: ${this.#usedBytes} of ${this.capacityBytes} used`, {
          usedBytes: this.#usedBytes.toString(), capacityBytes: this.capacityBytes.toString(), neededBytes: manifest.shardSize.toString(),
        })
      }
      const ops: BatchOp[] = existing ? await this.#deleteOps(asset, shardIndex, decodeRecord(existing)) : []
      for (let p = 0, at = 0; at < shard.length; p++, at += PIECE_BYTES) {
        ops.push({ type: 'put', key: pieceKey(asset, shardIndex, p), value: shard.subarray(at, at + PIECE_BYTES) })
      }
      ops.push({ type: 'put', key: recordKey, value: encodeRecord({ size: manifest.shardSize, shardHash, chunkSize: manifest.chunkSize, chunkRoot }) })
      pages.forEach((page, p) => ops.push({ type: 'put', key: leafPageKey(asset, shardIndex, p), value: page }))
      ops.push({ type: 'put', key: shardKey(BUCKET.pageRoots, asset, shardIndex), value: concatBytes(...pageRoots) })
      ops.push(this.#stateOp(used, this.#draining))
      await this.#recordWrite(() => this.#db.batch(ops))
      this.#usedBytes = used
    })
  }

  /**
   * Stores a shard that arrives in pieces (a large shard from the network) without holding it
   * whole: capacity is reserved first, pieces land under their final keys but stay invisible until
   * the shard record is written, and only after the length, hash and chunk root all match the
   * manifest. On any failure the pieces written are removed and the reservation released.
   */
  async putStream(manifest: Manifest, asset: Hash, shardIndex: number, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    verifyShardIndex(manifest, shardIndex)
    const size = manifest.shardSize
    const streamKey = `${toHex(asset)}/${shardIndex}`
    const already = await this.#serial(async () => {
      if (this.#streaming.has(streamKey)) throw new StorageError('INVALID_PARAMS', `shard ${shardIndex} is already being written`)
      if (this.#draining) throw new StorageError('STORE_DRAINING', 'store is draining and accepts no new shards')
      const existing = await this.#record(asset, shardIndex)
      if (existing) {
        if (equalBytes(existing.shardHash, manifest.shardHashes[shardIndex]!)) return true
        throw new StorageError('INVALID_PARAMS', `a different shard ${shardIndex} is held: delete it first`)
      }
      if (this.#usedBytes + this.#reservedBytes + size > this.capacityBytes) {
        throw new StorageError('STORE_FULL', `shard of ${size} bytes does not fit: ${this.#usedBytes} of ${this.capacityBytes} used`, {
          usedBytes: this.#usedBytes.toString(), capacityBytes: this.capacityBytes.toString(), neededBytes: size.toString(),
        })
      }
      this.#reservedBytes += size
      this.#streaming.add(streamKey)
      return false
    })
    if (already) return
    const writer = new ShardPieceWriter(asset, shardIndex, manifest.chunkSize, (ops) => this.#call(() => this.#db.batch(ops)))
    try {
      for await (const part of source) {
        if (writer.total + BigInt(part.length) > size) throw new StorageError('SHARD_SIZE_MISMATCH', `shard stream exceeds the manifest's ${size} bytes`)
        await writer.write(part)
      }
      const { shardHash: digest, chunkRoot, pageRoots } = await writer.finish()
      if (writer.total !== size) throw new StorageError('SHARD_SIZE_MISMATCH', `shard stream had ${writer.total} bytes, manifest says ${size}`)
      if (!equalBytes(digest, manifest.shardHashes[shardIndex]!)) throw new StorageError('SHARD_HASH_MISMATCH', `shard ${shardIndex} does not hash to the manifest`, { got: toHex(digest) })
      if (!equalBytes(chunkRoot, manifest.chunkRoots[shardIndex]!)) throw new StorageError('SHARD_HASH_MISMATCH', `shard ${shardIndex} chunk root differs from the manifest`, { shardIndex })
      await this.#serial(async () => {
        const used = this.#usedBytes + size
        await this.#recordWrite(() => this.#db.batch([
          { type: 'put', key: shardKey(BUCKET.shard, asset, shardIndex), value: encodeRecord({ size, shardHash: digest, chunkSize: manifest.chunkSize, chunkRoot }) },
          { type: 'put', key: shardKey(BUCKET.pageRoots, asset, shardIndex), value: concatBytes(...pageRoots) },
          this.#stateOp(used, this.#draining),
        ]))
        this.#usedBytes = used
      })
    } catch (cause) {
      const cleanup = writer.cleanupOps()
      if (cleanup.length > 0) await this.#db.batch(cleanup).catch(() => {})
      throw cause
    } finally {
      this.#reservedBytes -= size
      this.#streaming.delete(streamKey)
    }
  }

  /** A held shard as a stream of pieces (serving a large shard without loading it whole). */
  async *getStream(asset: Hash, shardIndex: number): AsyncGenerator<Uint8Array> {
    const record = await this.#record(asset, shardIndex)
    if (!record) throw new StorageError('NOT_FOUND', `shard ${shardIndex} of ${toHex(asset)} is not held`, { shardIndex })
    const pieces = Math.ceil(Number(record.size) / PIECE_BYTES)
    for (let p = 0; p < pieces; p += 8) {
      const keys: Uint8Array[] = []
      for (let q = p; q < Math.min(pieces, p + 8); q++) keys.push(pieceKey(asset, shardIndex, q))
      const values = await this.#call(() => this.#db.getMany(keys))
      for (const v of values) {
        if (!v) throw new StorageError('NOT_FOUND', `a piece of shard ${shardIndex} is missing`)
        yield new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
      }
    }
  }

  /**
   * Deletes pieces whose shard has no record and is not being streamed in: what a crash in the
   * middle of putStream leaves. Reads keys only; returns how many pieces it removed.
   */
  sweepOrphanPieces(): Promise<number> {
    return this.#serial(async () => {
      const orphans: BatchOp[] = []
      let prefix = ''
      let keep = true
      try {
        for await (const key of this.#orphanCandidates()) {
          const shard = toHex(key.subarray(0, 34))
          if (shard !== prefix) {
            prefix = shard
            const asset = new Uint8Array(key.subarray(1, 33))
            keep = this.#streaming.has(`${toHex(asset)}/${key[33]}`) || (await this.#db.get(shardKey(BUCKET.shard, asset, key[33]!))) !== undefined
          }
          if (!keep) orphans.push({ type: 'del', key: new Uint8Array(key) })
        }
      } catch (cause) {
        throw this.#wrap(cause)
      }
      if (orphans.length > 0) await this.#call(() => this.#db.batch(orphans))
      return orphans.length
    })
  }

  async *#orphanCandidates(): AsyncGenerator<Uint8Array> {
    yield* this.#db.keys({ gte: new Uint8Array([BUCKET.piece]), lt: new Uint8Array([BUCKET.piece + 1]) })
    yield* this.#db.keys({ gte: new Uint8Array([BUCKET.leafPage]), lt: new Uint8Array([BUCKET.leafPage + 1]) })
  }

  /** The whole shard, or null when not held. */
  async get(asset: Hash, shardIndex: number): Promise<Uint8Array | null> {
    const record = await this.#record(asset, shardIndex)
    if (!record) return null
    return this.#readRange(asset, shardIndex, 0, Number(record.size))
  }

  /** `length` bytes at `offset` of a held shard (streaming retrieval, audits). */
  async getRange(asset: Hash, shardIndex: number, offset: number, length: number): Promise<Uint8Array> {
    const record = await this.#record(asset, shardIndex)
    if (!record) throw new StorageError('NOT_FOUND', `shard ${shardIndex} of ${toHex(asset)} is not held`, { shardIndex })
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || BigInt(offset + length) > record.size) {
      throw new StorageError('INVALID_PARAMS', `range ${offset}+${length} outside a shard of ${record.size} bytes`)
    }
    return this.#readRange(asset, shardIndex, offset, length)
  }

  /**
   * getRange as the stored 256 KiB pieces it overlaps (views, trimmed to the range, in order):
   * what a host sends for a read window, framed piece by piece without joining them first.
   */
  async getRangeParts(asset: Hash, shardIndex: number, offset: number, length: number): Promise<Uint8Array[]> {
    const record = await this.#record(asset, shardIndex)
    if (!record) throw new StorageError('NOT_FOUND', `shard ${shardIndex} of ${toHex(asset)} is not held`, { shardIndex })
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || BigInt(offset + length) > record.size) {
      throw new StorageError('INVALID_PARAMS', `range ${offset}+${length} outside a shard of ${record.size} bytes`)
    }
    return this.#readRangeParts(asset, shardIndex, offset, length)
  }

  async has(asset: Hash, shardIndex: number): Promise<boolean> {
    return (await this.#record(asset, shardIndex)) !== undefined
  }

  /** Removes a shard and releases its bytes; false when it was not held. */
  delete(asset: Hash, shardIndex: number): Promise<boolean> {
    return this.#serial(async () => {
      const record = await this.#record(asset, shardIndex)
      if (!record) return false
      const ops = await this.#deleteOps(asset, shardIndex, record)
      const used = this.#usedBytes - record.size
      ops.push(this.#stateOp(used, this.#draining))
      await this.#recordWrite(() => this.#db.batch(ops))
      this.#usedBytes = used
      return true
    })
  }

  /** Every shard held, in key order (asset bytes, then shard index). */
  async list(): Promise<StoredShard[]> {
    const out: StoredShard[] = []
    const it = this.#db.iterator({ gte: new Uint8Array([BUCKET.shard]), lt: new Uint8Array([BUCKET.shard + 1]) })
    try {
      for await (const [key, value] of it) {
        const r = decodeRecord(value)
        out.push({ asset: new Uint8Array(key.subarray(1, 33)), shardIndex: key[33]!, size: r.size, shardHash: r.shardHash })
      }
    } catch (cause) {
      throw this.#wrap(cause)
    }
    return out
  }

  /**
   * The root of each LEAF_PAGE_LEAVES-chunk page of a held shard, concatenated (32 bytes each; the
   * last page may be partial): what a reader checks a ranged read against, after checking that
   * they fold to the manifest's chunk root. Undefined when the shard is not held.
   */
  async pageRoots(asset: Hash, shardIndex: number): Promise<Uint8Array | undefined> {
    const record = await this.#record(asset, shardIndex)
    if (!record) return undefined
    const roots = await this.#call(() => this.#db.get(shardKey(BUCKET.pageRoots, asset, shardIndex)))
    if (roots) return new Uint8Array(roots)
    // A store written before leaf pages keeps every leaf in one value: fold them page by page.
    const leaves = await this.#call(() => this.#db.get(shardKey(BUCKET.leaves, asset, shardIndex)))
    if (!leaves) throw new StorageError('NOT_FOUND', 'chunk leaves missing')
    const all = splitHashes(leaves)
    const out: Uint8Array[] = []
    for (let at = 0; at < all.length; at += LEAF_PAGE_LEAVES) out.push(merkleRoot(all.slice(at, at + LEAF_PAGE_LEAVES)))
    return concatBytes(...out)
  }

  /** The audit answer: chunk `chunkIndex` of a held shard and its Merkle path to the chunk root. */
  async proveChunk(asset: Hash, shardIndex: number, chunkIndex: number): Promise<ChunkProof> {
    const record = await this.#record(asset, shardIndex)
    if (!record) throw new StorageError('NOT_FOUND', `shard ${shardIndex} of ${toHex(asset)} is not held`, { shardIndex })
    const length = computeChunkLength(record.size, record.chunkSize, chunkIndex)
    const chunk = await this.#readRange(asset, shardIndex, chunkIndex * record.chunkSize, length)
    const pageRoots = await this.#call(() => this.#db.get(shardKey(BUCKET.pageRoots, asset, shardIndex)))
    if (!pageRoots) {
      const leaves = await this.#call(() => this.#db.get(shardKey(BUCKET.leaves, asset, shardIndex)))
      if (!leaves) throw new StorageError('NOT_FOUND', 'chunk leaves missing')
      return { chunk, path: merkleProof(splitHashes(leaves), chunkIndex).map((h) => new Uint8Array(h)) }
    }
    const page = Math.floor(chunkIndex / LEAF_PAGE_LEAVES)
    const pageLeaves = await this.#call(() => this.#db.get(leafPageKey(asset, shardIndex, page)))
    if (!pageLeaves) throw new StorageError('NOT_FOUND', `leaf page ${page} missing`)
    const path = [...merkleProof(splitHashes(pageLeaves), chunkIndex % LEAF_PAGE_LEAVES), ...merkleProof(splitHashes(pageRoots), page)]
    return { chunk, path: path.map((h) => new Uint8Array(h)) }
  }

  async #record(asset: Hash, shardIndex: number): Promise<ShardRecord | undefined> {
    const id = `${toHex(asset)}/${shardIndex}`
    const cached = this.#records.get(id)
    if (cached !== undefined) return cached
    const generation = this.#recordGeneration
    const value = await this.#call(() => this.#db.get(shardKey(BUCKET.shard, asset, shardIndex)))
    const record = value ? decodeRecord(value) : undefined
    // Only a record no write raced with is kept (a put or delete meanwhile bumps the generation).
    if (record !== undefined && generation === this.#recordGeneration) {
      if (this.#records.size >= RECORD_CACHE_ENTRIES) this.#records.clear()
      this.#records.set(id, record)
    }
    return record
  }

  /** A batch that writes or deletes shard records: the record cache is dropped before and after it. */
  async #recordWrite(write: () => Promise<void>): Promise<void> {
    this.#records.clear()
    this.#recordGeneration++
    try {
      await this.#call(write)
    } finally {
      this.#records.clear()
      this.#recordGeneration++
    }
  }

  async #readRange(asset: Hash, shardIndex: number, offset: number, length: number): Promise<Uint8Array> {
    const parts = await this.#readRangeParts(asset, shardIndex, offset, length)
    return parts.length === 1 ? parts[0]! : concatBytes(...parts)
  }

  /** The stored pieces covering [offset, offset + length), trimmed to it: views, no copy. */
  async #readRangeParts(asset: Hash, shardIndex: number, offset: number, length: number): Promise<Uint8Array[]> {
    if (length === 0) return [new Uint8Array(0)]
    const first = Math.floor(offset / PIECE_BYTES)
    const last = Math.floor((offset + length - 1) / PIECE_BYTES)
    const keys: Uint8Array[] = []
    for (let p = first; p <= last; p++) keys.push(pieceKey(asset, shardIndex, p))
    const pieces = await this.#call(() => this.#db.getMany(keys))
    return pieces.map((piece, j) => {
      if (!piece) throw new StorageError('NOT_FOUND', `piece ${first + j} of shard ${shardIndex} is missing`)
      const pieceStart = (first + j) * PIECE_BYTES
      const from = Math.max(offset, pieceStart)
      const to = Math.min(offset + length, pieceStart + piece.length)
      if (to - from !== Math.min(offset + length, pieceStart + PIECE_BYTES) - from) throw new StorageError('NOT_FOUND', `piece ${first + j} of shard ${shardIndex} is short`)
      // A plain Uint8Array view (classic-level gives Buffers), no copy.
      return new Uint8Array(piece.buffer, piece.byteOffset + from - pieceStart, to - from)
    })
  }

  async #deleteOps(asset: Hash, shardIndex: number, record: ShardRecord): Promise<BatchOp[]> {
    const ops: BatchOp[] = [
      { type: 'del', key: shardKey(BUCKET.shard, asset, shardIndex) },
      { type: 'del', key: shardKey(BUCKET.leaves, asset, shardIndex) },
      { type: 'del', key: shardKey(BUCKET.pageRoots, asset, shardIndex) },
    ]
    const pieces = Math.ceil(Number(record.size) / PIECE_BYTES)
    for (let p = 0; p < pieces; p++) ops.push({ type: 'del', key: pieceKey(asset, shardIndex, p) })
    const pages = Math.ceil(Math.ceil(Number(record.size) / record.chunkSize) / LEAF_PAGE_LEAVES)
    for (let p = 0; p < pages; p++) ops.push({ type: 'del', key: leafPageKey(asset, shardIndex, p) })
    return ops
  }

  #stateOp(usedBytes: bigint, draining: boolean): BatchOp {
    const value = new Uint8Array(9)
    new DataView(value.buffer).setBigUint64(0, usedBytes)
    value[8] = draining ? 1 : 0
    return { type: 'put', key: STATE_KEY, value }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => {})
    return run
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (cause) {
      throw this.#wrap(cause)
    }
  }

  #wrap(cause: unknown): unknown {
    if (cause instanceof StorageError) return cause
    const code = (cause as { code?: string }).code
    if (code === 'LEVEL_DATABASE_NOT_OPEN') return new StorageError('STORE_CLOSED', `shard store ${this.location} is closed`, {}, { cause })
    return cause
  }
}

