import type { Address, Manifest } from '../../blocks/schema.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { computeSegmentLayout, type SegmentLayout } from './decodeAsset.ts'
import { BlobError } from './errors.ts'
import { createIncrementalHash, type IncrementalHash } from './incrementalHash.ts'

/** A whole shard as a byte stream from its host (libp2p, a local store, a test double); aborting `signal` ends it. */
export type OpenShardStream = (host: Address, shardIndex: number, signal: AbortSignal) => AsyncIterable<Uint8Array>

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
