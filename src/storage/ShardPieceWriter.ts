import type { Hash } from '../../blocks/schema.ts'
import { ChunkLeafHasher } from './ChunkLeafHasher.ts'
import { createIncrementalHash } from './incrementalHash.ts'
import { LEAF_PAGE_LEAVES, leafPageKey, PIECE_BYTES, pieceKey } from './shardStoreKeys.ts'

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

/** Lets pending I/O callbacks (pings, other streams) run before more CPU work. */
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Writes a shard that arrives in parts as PIECE_BYTES pieces and leaf pages under their final
 * keys (invisible until the caller writes the shard record), hashing as it goes, 16 ops to a
 * batch. Knows what it wrote, so a failed stream can be removed again (`cleanupOps`).
 */
export class ShardPieceWriter {
  readonly #asset: Hash
  readonly #shardIndex: number
  readonly #writeBatch: (ops: BatchOp[]) => Promise<void>
  readonly #shardHash = createIncrementalHash()
  readonly #leaves: ChunkLeafHasher
  readonly #pageRoots: Uint8Array[] = []
  readonly #piece = new Uint8Array(PIECE_BYTES)
  #ops: BatchOp[] = []
  #fill = 0
  #piecesWritten = 0
  #pagesWritten = 0
  /** Bytes taken in so far. */
  total = 0n

  constructor(asset: Hash, shardIndex: number, chunkSize: number, writeBatch: (ops: BatchOp[]) => Promise<void>) {
    this.#asset = asset
    this.#shardIndex = shardIndex
    this.#writeBatch = writeBatch
    this.#leaves = new ChunkLeafHasher(chunkSize, {
      pageLeaves: LEAF_PAGE_LEAVES,
      onPage: (page, root) => {
        this.#ops.push({ type: 'put', key: leafPageKey(asset, shardIndex, this.#pagesWritten++), value: page })
        this.#pageRoots.push(root)
      },
    })
  }

  async write(part: Uint8Array): Promise<void> {
    // Hashing a part is CPU; the parts a paused stream queued (up to 8 MiB) arrive as
    // microtasks, so without a turn of the event loop between them the process answered no
    // I/O for the whole backlog: at load 50 a host missed libp2p's ping for seconds and its
    // connection, with the hand-off on it, was aborted (session 9's 4 GiB run).
    await yieldToIo()
    this.total += BigInt(part.length)
    this.#shardHash.update(part)
    this.#leaves.update(part)
    for (let at = 0; at < part.length;) {
      const n = Math.min(PIECE_BYTES - this.#fill, part.length - at)
      this.#piece.set(part.subarray(at, at + n), this.#fill)
      this.#fill += n
      at += n
      if (this.#fill === PIECE_BYTES) await this.#flush(false)
    }
  }

  /** Writes what is left; the shard's hash, chunk root and page roots. */
  async finish(): Promise<{ shardHash: Uint8Array; chunkRoot: Uint8Array; pageRoots: Uint8Array[] }> {
    const chunkRoot = this.#leaves.finish()
    await this.#flush(true)
    return { shardHash: this.#shardHash.digest(), chunkRoot, pageRoots: this.#pageRoots }
  }

  /** Deletes of every piece and leaf page written so far. */
  cleanupOps(): BatchOp[] {
    const ops: BatchOp[] = []
    for (let p = 0; p < this.#piecesWritten; p++) ops.push({ type: 'del', key: pieceKey(this.#asset, this.#shardIndex, p) })
    for (let p = 0; p < this.#pagesWritten; p++) ops.push({ type: 'del', key: leafPageKey(this.#asset, this.#shardIndex, p) })
    return ops
  }

  async #flush(final: boolean): Promise<void> {
    if (this.#fill > 0) {
      this.#ops.push({ type: 'put', key: pieceKey(this.#asset, this.#shardIndex, this.#piecesWritten++), value: this.#piece.slice(0, this.#fill) })
      this.#fill = 0
    }
    if (this.#ops.length >= 16 || (final && this.#ops.length > 0)) {
      const batch = this.#ops
      this.#ops = []
      await this.#writeBatch(batch)
    }
  }
}
