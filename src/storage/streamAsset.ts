import type { Address, Manifest } from '../../blocks/schema.ts'
import { equalBytes, hash, toHex } from '../crypto/index.ts'
import { verifyManifestShape } from '../state/storage/computeChunkLeaves.ts'
import { computeSegmentLayout, type SegmentLayout } from './decodeAsset.ts'
import { BlobError } from './errors.ts'
import { type FastCoder, getFastCoder } from './fastCoder.ts'
import { createIncrementalHash, type IncrementalHash } from './incrementalHash.ts'

/** A whole shard as a byte stream from its host (libp2p, a local store, a test double); aborting `signal` ends it. */
export type OpenShardStream = (host: Address, shardIndex: number, signal: AbortSignal) => AsyncIterable<Uint8Array>

export interface StreamAssetOpts {
  /** First byte to yield (default 0). */
  start?: number
  /** One past the last byte to yield (default the asset's size). */
  end?: number
  /** Shard indices in the order to try them (default: data shards first, which decode by copying). */
  order?: readonly number[]
  /** Told of every shard source dropped, so the caller can avoid the host next time. */
  onBad?(report: { host: Address; shardIndex: number; reason: string }): void
  coder?: FastCoder
}

/** Exact-length reads over a chunk stream, hashing everything read. */
class ShardCursor {
  readonly hash: IncrementalHash = createIncrementalHash()
  /** Bytes read so far. */
  position = 0
  readonly #it: AsyncIterator<Uint8Array>
  #chunk: Uint8Array = new Uint8Array(0)
  #at = 0
  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]()
  }
  async read(n: number): Promise<Uint8Array> {
    if (this.#chunk.length - this.#at >= n) return this.#take(n)
    const out = new Uint8Array(n)
    let fill = 0
    while (fill < n) {
      if (this.#at === this.#chunk.length) {
        const r = await this.#it.next()
        if (r.done === true) throw new BlobError('VERIFY_FAILED', `shard ended ${n - fill} bytes early`, { what: 'shard length' })
        this.#chunk = r.value
        this.#at = 0
        continue
      }
      const part = this.#take(Math.min(n - fill, this.#chunk.length - this.#at))
      out.set(part, fill)
      fill += part.length
    }
    return out
  }
  /** Reads and hashes `n` bytes without keeping them (a replacement source catching up). */
  async skip(n: number): Promise<void> {
    for (let left = n; left > 0;) {
      const step = Math.min(left, 1 << 20)
      await this.read(step)
      left -= step
    }
  }
  async expectEnd(): Promise<void> {
    if (this.#at < this.#chunk.length) throw new BlobError('VERIFY_FAILED', 'shard longer than the manifest says', { what: 'shard length' })
    const r = await this.#it.next()
    if (r.done !== true && r.value.length > 0) throw new BlobError('VERIFY_FAILED', 'shard longer than the manifest says', { what: 'shard length' })
  }
  close(): void {
    void this.#it.return?.().catch(() => undefined)
  }
  #take(n: number): Uint8Array {
    const v = this.#chunk.subarray(this.#at, this.#at + n)
    this.#at += n
    this.position += n
    this.hash.update(v)
    return v
  }
}

interface Source { index: number; cursor: ShardCursor; abort: AbortController }

export interface LockstepOpts {
  /** Shard indices in the order to try them. */
  order?: readonly number[]
  onBad?(report: { host: Address; shardIndex: number; reason: string }): void
}

/** One segment read from k shards: `pieces` holds each chosen shard's piece (views valid until the next segment). */
export interface LockstepSegment { seg: SegmentLayout; chosen: number[]; pieces: Map<number, Uint8Array> }

/**
 * Reads k whole-shard streams in lockstep, one segment's piece from each at a time (memory: one
 * segment). A source that fails or ends early is dropped (`onBad`) and the next shard index in
 * `order` is opened and read from its start up to the current segment (its hash covers the
 * whole shard). After the last segment every shard used is checked against the manifest's
 * shard hash (VERIFY_FAILED). Fewer than k readable shards is UNAVAILABLE.
 */
export async function* readShardsInLockstep(manifest: Manifest, placement: readonly Address[], open: OpenShardStream, opts: LockstepOpts = {}): AsyncGenerator<LockstepSegment> {
  const { k, m } = manifest
  const candidates = [...(opts.order ?? Array.from({ length: k + m }, (_, i) => i))].filter((i) => i >= 0 && i < k + m && placement[i] !== undefined)
  const tried: { host: string; shardIndex: number; reason: string }[] = []
  const active: Source[] = []
  const openNext = (): Source | undefined => {
    const index = candidates.shift()
    if (index === undefined) return undefined
    const abort = new AbortController()
    return { index, abort, cursor: new ShardCursor(open(placement[index]!, index, abort.signal)) }
  }
  const drop = (s: Source, err: unknown): void => {
    s.abort.abort()
    s.cursor.close()
    const reason = err instanceof Error ? err.message : String(err)
    tried.push({ host: toHex(placement[s.index]!), shardIndex: s.index, reason })
    opts.onBad?.({ host: placement[s.index]!, shardIndex: s.index, reason })
  }
  try {
    for (const seg of computeSegmentLayout(manifest)) {
      // Fill the k sources, replacing any that fail; a newcomer catches up from its shard's start.
      const pieces = new Map<number, Uint8Array>()
      for (;;) {
        while (active.length < k) {
          const s = openNext()
          if (s === undefined) break
          active.push(s)
        }
        if (active.length < k) throw new BlobError('UNAVAILABLE', `only ${active.length} of the ${k} shards needed could be read`, { tried })
        const results = await Promise.allSettled(active.map(async (s) => {
          if (pieces.has(s.index)) return
          const behind = seg.shardOffset - s.cursor.position
          if (behind > 0) await s.cursor.skip(behind)
          const p = await s.cursor.read(seg.shardLength)
          pieces.set(s.index, p)
        }))
        const failed = active.filter((_, j) => results[j]!.status === 'rejected')
        if (failed.length === 0) break
        failed.forEach((s) => drop(s, (results[active.indexOf(s)] as PromiseRejectedResult).reason))
        for (const s of failed) active.splice(active.indexOf(s), 1)
      }
      yield { seg, chosen: active.map((s) => s.index).sort((a, b) => a - b), pieces }
    }
    for (const s of active) {
      await s.cursor.expectEnd()
      if (!equalBytes(s.cursor.hash.digest(), manifest.shardHashes[s.index]!)) {
        opts.onBad?.({ host: placement[s.index]!, shardIndex: s.index, reason: 'shard hash mismatch' })
        throw new BlobError('VERIFY_FAILED', `shard ${s.index} from ${toHex(placement[s.index]!)} does not match the manifest`, { what: `shard ${s.index} hash` })
      }
    }
  } finally {
    for (const s of active) {
      s.abort.abort()
      s.cursor.close()
    }
  }
}

/**
 * Streams an asset's bytes [start, end) from its hosts with memory bounded by one segment:
 * k shard streams are read in lockstep, a segment at a time; missing data pieces are rebuilt
 * from parity. A host that fails or ends early is replaced by the next shard index, which is
 * read from its start (its hash covers the whole shard) up to the current segment. Every shard
 * used and the data are checked against the manifest at the end, and the last bytes are held
 * back until then: a consumer that sees the stream end normally got exactly the asset's bytes.
 * (A range is read to the end of the asset for that check.) Throws BlobError UNAVAILABLE with
 * fewer than k good shards, VERIFY_FAILED on a hash mismatch, BAD_RANGE.
 */
export async function* streamAsset(manifest: Manifest, placement: readonly Address[], open: OpenShardStream, opts: StreamAssetOpts = {}): AsyncGenerator<Uint8Array> {
  verifyManifestShape(manifest)
  const size = Number(manifest.size)
  const start = opts.start ?? 0
  const end = opts.end ?? size
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > size || start > end) throw new BlobError('BAD_RANGE', `range ${start}..${end} is outside 0..${size}`, { start, end, size })
  if (size === 0) {
    if (!equalBytes(hash(new Uint8Array(0)), manifest.dataHash)) throw new BlobError('VERIFY_FAILED', 'empty data does not match the manifest data hash', { what: 'data hash' })
    return
  }
  const { k, m } = manifest
  const coder = opts.coder ?? getFastCoder()
  const full = Math.ceil(manifest.segmentSize / k)
  const dataHash = createIncrementalHash()
  const segment = new Uint8Array(manifest.segmentSize)
  const rebuilt = Array.from({ length: k }, () => new Uint8Array(full))
  let held: Uint8Array | undefined
  for await (const { seg, chosen, pieces } of readShardsInLockstep(manifest, placement, open, opts)) {
    const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !chosen.includes(i))
    const outs = missing.map((_, j) => rebuilt[j]!.subarray(0, seg.shardLength))
    // Data shards decode by copying: the coder runs only when a data shard is missing.
    if (missing.length > 0) coder.rebuild(k, m, chosen, missing, chosen.map((i) => pieces.get(i)!), outs)
    for (let d = 0; d < k; d++) {
      const at = d * seg.shardLength
      if (at >= seg.dataLength) break
      const mi = missing.indexOf(d)
      const src = mi >= 0 ? outs[mi]! : pieces.get(d)!
      segment.set(src.subarray(0, Math.min(seg.shardLength, seg.dataLength - at)), at)
    }
    const data = segment.subarray(0, seg.dataLength)
    dataHash.update(data)
    const from = Math.max(start, seg.dataOffset)
    const to = Math.min(end, seg.dataOffset + seg.dataLength)
    if (from < to) {
      if (held !== undefined) yield held
      held = data.slice(from - seg.dataOffset, to - seg.dataOffset)
    }
  }
  if (!equalBytes(dataHash.digest(), manifest.dataHash)) throw new BlobError('VERIFY_FAILED', 'rebuilt data does not match the manifest data hash', { what: 'data hash' })
  if (held !== undefined) yield held
}
