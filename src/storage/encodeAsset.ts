import type { ChainParams, Manifest } from '../../blocks/schema.ts'
import { hash } from '../crypto/index.ts'
import { computeShardSize } from '../state/storage/computeChunkLeaves.ts'
import { StorageError } from '../state/storage/errors.ts'
import { ChunkLeafHasher } from './ChunkLeafHasher.ts'
import type { ErasureCoder } from './erasureCoder.ts'
import { getFastCoder } from './fastCoder.ts'
import { createIncrementalHash, type IncrementalHash } from './incrementalHash.ts'

/** The coding parameters of an asset (from ChainParams at deploy time). */
export interface CodingParams { k: number; m: number; segmentSize: number; chunkSize: number }

export function codingParamsOf(params: Pick<ChainParams, 'dataShards' | 'parityShards' | 'segmentSize' | 'chunkSize'>): CodingParams {
  return { k: params.dataShards, m: params.parityShards, segmentSize: params.segmentSize, chunkSize: params.chunkSize }
}

/** The coding of the golden vectors (fixtures/storage); a chain uses codingParamsOf(genesis.params) (devnet: 256-byte chunks). */
export const DEFAULT_CODING: CodingParams = { k: 4, m: 2, segmentSize: 4 * 1024 * 1024, chunkSize: 4096 }

function checkCodingParams(p: CodingParams): void {
  const ok = Number.isInteger(p.k) && Number.isInteger(p.m) && p.k >= 1 && p.m >= 1 && p.k + p.m <= 255
    && Number.isInteger(p.segmentSize) && p.segmentSize >= 1 && p.segmentSize <= 0xffff_ffff
    && Number.isInteger(p.chunkSize) && p.chunkSize >= 1 && p.chunkSize <= 1 << 20
  if (!ok) throw new StorageError('INVALID_PARAMS', `invalid coding parameters ${JSON.stringify(p)}`, { ...p })
}

export interface EncoderOpts {
  /** Compute the chunk roots (default true). */
  chunkRoots?: boolean
}

/**
 * Streaming encoder: feed bytes with `write` (it consumes up to the end of the current segment),
 * collect each finished segment's k+m shard pieces with `takeSegment` (views valid until the next
 * write), and get the manifest from `finish`. Memory: one segment buffer plus O(log chunks) hashes per shard.
 */
export class AssetEncoder {
  readonly params: CodingParams
  readonly #coder: ErasureCoder
  readonly #segment: Uint8Array
  readonly #dataHash: IncrementalHash = createIncrementalHash()
  readonly #shardHashes: IncrementalHash[] = []
  readonly #chunkers: ChunkLeafHasher[] = []
  #fill = 0
  #size = 0n
  #ready: Uint8Array[] | undefined
  #done = false

  /**
   * `opts.chunkRoots: false` leaves the chunk trees out (the manifest's chunkRoots come back
   * empty): at 256-byte chunks they are most of the encoder's CPU, and a validator handing shards
   * off only needs the shard hashes to know the blob is the one deployed (hosts check the roots).
   */
  constructor(params: CodingParams, coder: ErasureCoder = getFastCoder(), opts: EncoderOpts = {}) {
    checkCodingParams(params)
    this.params = params
    this.#coder = coder
    const { k, m, segmentSize } = params
    this.#segment = new Uint8Array((k + m) * Math.ceil(segmentSize / k))
    for (let i = 0; i < k + m; i++) {
      this.#shardHashes.push(createIncrementalHash())
      if (opts.chunkRoots !== false) this.#chunkers.push(new ChunkLeafHasher(params.chunkSize))
    }
  }

  /** Consumes bytes up to the end of the current segment; returns how many it took. */
  write(bytes: Uint8Array): number {
    if (this.#done) throw new StorageError('INVALID_PARAMS', 'encoder already finished')
    if (this.#ready) throw new StorageError('INVALID_PARAMS', 'take the finished segment before writing more')
    const n = Math.min(bytes.length, this.params.segmentSize - this.#fill)
    this.#segment.set(bytes.subarray(0, n), this.#fill)
    this.#fill += n
    this.#dataHash.update(bytes.subarray(0, n))
    this.#size += BigInt(n)
    if (this.#fill === this.params.segmentSize) this.#encodeSegment()
    return n
  }

  /** The k+m shard pieces of the segment just completed, if one was. */
  takeSegment(): Uint8Array[] | undefined {
    const out = this.#ready
    this.#ready = undefined
    return out
  }

  /** Encodes the last partial segment (take it with takeSegment) and returns the manifest. */
  finish(): Manifest {
    if (this.#ready) throw new StorageError('INVALID_PARAMS', 'take the finished segment before finishing')
    if (!this.#done && this.#fill > 0) this.#encodeSegment()
    this.#done = true
    const { k, m, segmentSize, chunkSize } = this.params
    return {
      size: this.#size,
      dataHash: this.#dataHash.digest(),
      k,
      m,
      segmentSize,
      shardSize: computeShardSize(this.#size, segmentSize, k),
      chunkSize,
      shardHashes: this.#shardHashes.map((h) => h.digest()),
      chunkRoots: this.#chunkers.map((c) => c.finish()),
    }
  }

  #encodeSegment(): void {
    const { k, m } = this.params
    const len = Math.ceil(this.#fill / k)
    const buf = this.#segment.subarray(0, (k + m) * len)
    buf.fill(0, this.#fill, k * len)
    this.#coder.encode(buf, k, m)
    const pieces: Uint8Array[] = []
    for (let i = 0; i < k + m; i++) {
      const piece = buf.subarray(i * len, (i + 1) * len)
      this.#shardHashes[i]!.update(piece)
      this.#chunkers[i]?.update(piece)
      pieces.push(piece)
    }
    this.#fill = 0
    this.#ready = pieces
  }
}

export interface EncodedAsset { manifest: Manifest; shards: Uint8Array[] }

/** Manifest and the k+m shards of in-memory data. */
export function encodeAsset(data: Uint8Array, params: CodingParams = DEFAULT_CODING, coder?: ErasureCoder): EncodedAsset {
  const encoder = new AssetEncoder(params, coder)
  const shardSize = Number(computeShardSize(BigInt(data.length), params.segmentSize, params.k))
  const shards = Array.from({ length: params.k + params.m }, () => new Uint8Array(shardSize))
  let at = 0
  let offset = 0
  const collect = (): void => {
    const pieces = encoder.takeSegment()
    if (!pieces) return
    pieces.forEach((p, i) => shards[i]!.set(p, offset))
    offset += pieces[0]!.length
  }
  while (at < data.length) {
    at += encoder.write(data.subarray(at))
    collect()
  }
  const manifest = encoder.finish()
  collect()
  return { manifest, shards }
}

/** Just the manifest (what a deployer signs), computed the same way. */
export function computeManifest(data: Uint8Array, params: CodingParams = DEFAULT_CODING): Manifest {
  return encodeAsset(data, params).manifest
}

/** Receives each segment's shard pieces in order; may apply backpressure by returning a promise. */
export type ShardPieceSink = (pieces: readonly Uint8Array[], segmentIndex: number) => void | Promise<void>

/**
 * Encodes a stream of any length with bounded memory (one segment buffer): every segment's k+m
 * pieces go to `sink` (shard i of the asset is piece i of every segment, appended in order).
 */
export async function encodeAssetStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, params: CodingParams, sink: ShardPieceSink, coder?: ErasureCoder, opts: EncoderOpts = {}): Promise<Manifest> {
  const encoder = new AssetEncoder(params, coder, opts)
  let segmentIndex = 0
  for await (const chunk of source) {
    let at = 0
    while (at < chunk.length) {
      at += encoder.write(chunk.subarray(at))
      const pieces = encoder.takeSegment()
      if (pieces) await sink(pieces, segmentIndex++)
    }
  }
  const manifest = encoder.finish()
  const pieces = encoder.takeSegment()
  if (pieces) await sink(pieces, segmentIndex++)
  return manifest
}

/** The data hash of empty data, for callers that check a zero-size manifest. */
export const EMPTY_DATA_HASH = hash(new Uint8Array(0))
