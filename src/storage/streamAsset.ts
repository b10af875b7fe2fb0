import type { Address, Manifest } from '../../blocks/schema.ts'
import { equalBytes, hash, merkleRoot, toHex } from '../crypto/index.ts'
import { verifyManifestShape } from '../state/storage/computeChunkLeaves.ts'
import { computePageRoot } from './computePageRoot.ts'
import { computeSegmentLayout, type SegmentLayout } from './decodeAsset.ts'
import { BlobError } from './errors.ts'
import { type FastCoder, getFastCoder } from './fastCoder.ts'
import { createIncrementalHash, type IncrementalHash } from './incrementalHash.ts'
import { LEAF_PAGE_LEAVES, splitHashes as splitPageRoots } from './shardStoreKeys.ts'
import { WindowBufferPool } from './WindowBufferPool.ts'

/**
 * `length` bytes at `offset` of one shard from its host (libp2p shard/range, a local store, a test
 * double). `into`, when given, is a buffer of exactly `length` bytes the answer may be written to
 * (and returned): the reader reuses it for later windows, so an implementation must not keep it.
 */
export type ReadShardRange = (host: Address, shardIndex: number, offset: number, length: number, into?: Uint8Array) => Promise<Uint8Array>

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
  /** Shard bytes asked of each host per request, rounded down to whole segments (default 2 MiB). */
  windowBytes?: number
  /** Windows fetched at once, the one being yielded included (default 3): memory is about depth × (k+1) × windowBytes. */
  depth?: number
  /** A piece still missing this long after the rest of its window arrived counts as slow: the next shard is asked instead (default 3 s). */
  slowAfterMs?: number
  /**
   * A host's page roots for its shard (ShardStore.pageRoots, 32 bytes per LEAF_PAGE_LEAVES chunks).
   * With it, a read that does not cover whole shards (a range) checks every piece against the
   * manifest's chunk roots and needs only k shards; without it, ranges rely on the k+1 check.
   */
  readPageRoots?: (host: Address, shardIndex: number) => Promise<Uint8Array>
}

/** Pages larger than this (chunks over 512 bytes) are too coarse to check a range by: the k+1 check is used instead. */
const MAX_CHECKED_PAGE_BYTES = 4 * 1024 * 1024

/** A host's answer that does not match the manifest: its shard is dropped, never its bytes used. */
class WrongBytesError extends Error {}

const DEFAULT_WINDOW_BYTES = 2 * 1024 * 1024
/** Largest buffer streamAsset yields (see the output loop: small buffers die young). */
const OUTPUT_CHUNK_BYTES = 256 * 1024
const DEFAULT_DEPTH = 3
const DEFAULT_SLOW_AFTER_MS = 3_000
/** How often one read takes back a shard it dropped for a fault (not for wrong bytes). */
const MAX_FAULT_RETRIES = 2

/** A run of consecutive segments read with one ranged request per shard: the same shard bytes [shardOffset, +shardLength) of every shard. */
interface Window { segs: SegmentLayout[]; shardOffset: number; shardLength: number }

/** The windows covering data bytes [start, end), each at most `windowBytes` of every shard (at least one segment). */
function computeWindows(manifest: Manifest, start: number, end: number, windowBytes: number): Window[] {
  const full = Math.ceil(manifest.segmentSize / manifest.k)
  const perWindow = Math.max(1, Math.floor(windowBytes / full))
  const segs = computeSegmentLayout(manifest).filter((s) => s.dataOffset < end && s.dataOffset + s.dataLength > start)
  const out: Window[] = []
  for (let i = 0; i < segs.length; i += perWindow) {
    const run = segs.slice(i, i + perWindow)
    const last = run.at(-1)!
    out.push({ segs: run, shardOffset: run[0]!.shardOffset, shardLength: last.shardOffset + last.shardLength - run[0]!.shardOffset })
  }
  return out
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

/**
 * Whether the pieces (one window of ≥ k+1 shards) are one codeword: the first k rebuild every
 * other one. Any single wrong piece makes this false; it costs one coding pass (GB/s), not a hash.
 */
function isCodeword(coder: FastCoder, k: number, m: number, pieces: ReadonlyMap<number, Uint8Array>, scratch: (length: number, j: number) => Uint8Array): boolean {
  const indices = [...pieces.keys()].sort((a, b) => a - b)
  const basis = indices.slice(0, k)
  const rest = indices.slice(k)
  if (rest.length === 0) return true
  const len = pieces.get(basis[0]!)!.length
  const outs = rest.map((_, j) => scratch(len, j))
  coder.rebuild(k, m, basis, rest, basis.map((i) => pieces.get(i)!), outs)
  return rest.every((i, j) => sameBytes(outs[j]!, pieces.get(i)!))
}

/**
 * The one wrong piece among ≥ k+2 (the piece whose removal leaves a codeword), or undefined
 * when no single piece explains the mismatch (two or more wrong: the read fails instead).
 */
function findWrongPiece(coder: FastCoder, k: number, m: number, pieces: ReadonlyMap<number, Uint8Array>, scratch: (length: number, j: number) => Uint8Array): number | undefined {
  const suspects = [...pieces.keys()].filter((x) => isCodeword(coder, k, m, new Map([...pieces].filter(([i]) => i !== x)), scratch))
  return suspects.length === 1 ? suspects[0] : undefined
}

/**
 * Streams an asset's bytes [start, end) from its hosts with memory bounded by a few windows:
 * each window is a run of segments, fetched as one ranged request per shard from k+1 hosts in
 * parallel (`depth` windows at once), checked, rebuilt and yielded in order. A range reads only
 * the windows it overlaps.
 *
 * Checks, so that wrong bytes never reach the consumer:
 * - every window is read from k+1 shards when k+1 are reachable and must be one codeword (the
 *   first k rebuild the extra one): a single host serving wrong bytes fails it. The remaining
 *   shards of that window are then fetched, the wrong piece is found (the one whose removal
 *   leaves a codeword), its host is dropped for the rest of the read (`onBad`) and the window
 *   is rebuilt from the good ones;
 * - a host that fails, answers short or stays `slowAfterMs` behind the rest of its window is
 *   dropped and the next shard in `order` asked for the remaining windows (no catch-up: ranges);
 * - a read that covers whole shards hashes every shard used from start to end and compares with
 *   the manifest's shard hashes before the last window is released (hosts colluding on one
 *   codeword, or a read left with only k shards, still cannot pass wrong bytes: the read fails).
 * Throws BlobError UNAVAILABLE with fewer than k usable shards, VERIFY_FAILED, BAD_RANGE.
 */
export async function* streamAsset(manifest: Manifest, placement: readonly Address[], readRange: ReadShardRange, opts: StreamAssetOpts = {}): AsyncGenerator<Uint8Array> {
  verifyManifestShape(manifest)
  const size = Number(manifest.size)
  const start = opts.start ?? 0
  const end = opts.end ?? size
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > size || start > end) throw new BlobError('BAD_RANGE', `range ${start}..${end} is outside 0..${size}`, { start, end, size })
  if (size === 0) {
    if (!equalBytes(hash(new Uint8Array(0)), manifest.dataHash)) throw new BlobError('VERIFY_FAILED', 'empty data does not match the manifest data hash', { what: 'data hash' })
    return
  }
  if (start === end) return
  const { k, m } = manifest
  const coder = opts.coder ?? getFastCoder()
  const slowAfterMs = opts.slowAfterMs ?? DEFAULT_SLOW_AFTER_MS
  const order = [...(opts.order ?? Array.from({ length: k + m }, (_, i) => i))].filter((i) => i >= 0 && i < k + m && placement[i] !== undefined)
  const bad = new Set<number>()
  const tried: { host: string; shardIndex: number; reason: string }[] = []
  /** Shards dropped for a fault (error, timeout, slowness), not for wrong bytes: how often each came back. */
  const faulty = new Map<number, number>()
  const dropShard = (i: number, reason: string): void => {
    if (bad.has(i)) return
    bad.add(i)
    if (!reason.includes('wrong bytes') && !reason.includes('do not fold') && !reason.includes('hash mismatch')) faulty.set(i, faulty.get(i) ?? 0)
    tried.push({ host: toHex(placement[i]!), shardIndex: i, reason })
    opts.onBad?.({ host: placement[i]!, shardIndex: i, reason })
  }
  const usable = (): number[] => order.filter((i) => !bad.has(i))

  const windows = computeWindows(manifest, start, end, opts.windowBytes ?? DEFAULT_WINDOW_BYTES)
  const shardSize = Number(manifest.shardSize)
  const depth = Math.max(1, opts.depth ?? DEFAULT_DEPTH)
  // Window pieces are reused from one window to the next (GC of fresh 2 MiB buffers was ~20 % of a read).
  const pool = new WindowBufferPool(Math.max(...windows.map((w) => w.shardLength)), depth * (k + m))
  // The codeword check's rebuilt pieces: compared and dropped synchronously, so one set serves every window.
  const scratchBufs: Uint8Array[] = []
  const scratch = (length: number, j: number): Uint8Array => {
    if ((scratchBufs[j]?.length ?? -1) < length) scratchBufs[j] = new Uint8Array(length)
    return scratchBufs[j]!.subarray(0, length)
  }
  // Whole-shard hashes: only when the read starts at shard byte 0 and runs to the end.
  const wholeShards = windows[0]!.shardOffset === 0 && windows.at(-1)!.shardOffset + windows.at(-1)!.shardLength === shardSize
  const pageBytes = LEAF_PAGE_LEAVES * manifest.chunkSize
  const readPageRoots = opts.readPageRoots
  // A range cannot be held to the shard hashes: check each piece against the chunk roots instead.
  const pagesCheckable = readPageRoots !== undefined && pageBytes <= MAX_CHECKED_PAGE_BYTES
  const checkPages = !wholeShards && pagesCheckable
  const pageRoots = new Map<number, Promise<Uint8Array[]>>()
  const rootsOf = (i: number): Promise<Uint8Array[]> => {
    let p = pageRoots.get(i)
    if (p === undefined) {
      p = readPageRoots!(placement[i]!, i).then((bytes) => {
        const roots = splitPageRoots(bytes)
        const pages = Math.ceil(Math.ceil(shardSize / manifest.chunkSize) / LEAF_PAGE_LEAVES)
        if (roots.length !== pages || !equalBytes(merkleRoot(roots), manifest.chunkRoots[i]!)) throw new WrongBytesError('page roots do not fold to the manifest chunk root')
        return roots
      })
      pageRoots.set(i, p)
    }
    return p
  }
  /** The whole pages (the last may run to the shard's end) that shard bytes of window `w` touch. */
  const pagesOf = (w: Window): { from: number; to: number } => ({
    from: Math.floor(w.shardOffset / pageBytes) * pageBytes,
    to: Math.min(shardSize, Math.ceil((w.shardOffset + w.shardLength) / pageBytes) * pageBytes),
  })
  const fetchCovering = async (i: number, w: Window): Promise<{ bytes: Uint8Array; from: number }> => {
    const { from, to } = pagesOf(w)
    void rootsOf(i).catch(() => undefined)
    const bytes = await readRange(placement[i]!, i, from, to - from)
    if (bytes.length !== to - from) throw new Error(`answered ${bytes.length} of ${to - from} bytes`)
    return { bytes, from }
  }
  /** Window `w`'s bytes out of the pages fetched, every page checked against its root (WrongBytesError). */
  const checkCovering = (i: number, w: Window, bytes: Uint8Array, from: number, roots: Uint8Array[]): Uint8Array => {
    const to = from + bytes.length
    for (let at = from; at < to; at += pageBytes) {
      if (!equalBytes(computePageRoot(bytes.subarray(at - from, Math.min(to, at + pageBytes) - from), manifest.chunkSize), roots[at / pageBytes]!)) throw new WrongBytesError(`wrong bytes at ${at}..${Math.min(to, at + pageBytes)} of shard ${i} (chunk root)`)
    }
    return bytes.subarray(w.shardOffset - from, w.shardOffset - from + w.shardLength)
  }

  /**
   * Fetches `indices` for window `w` into `pieces`; failures, wrong bytes and slow hosts are
   * dropped. "Slow" counts network time only: a piece not arrived `slowAfterMs` after the first
   * piece of its window arrived (checking a piece's pages is CPU time, not the host's).
   */
  const fetchInto = async (w: Window, indices: number[], pieces: Map<number, Uint8Array>): Promise<void> => {
    let firstArrived: number | undefined
    const arrived = new Set<number>()
    const SLOW = Symbol('slow')
    const slowGuard = (i: number, fetched: Promise<unknown>): Promise<typeof SLOW> => new Promise((resolve) => {
      const poll = setInterval(() => {
        // Only with a shard to spare: under load every host is slow, and dropping them all would fail the read.
        const spare = usable().length > (checkPages ? k : k + 1)
        // Dropped meanwhile by another window: stop waiting for it.
        if (bad.has(i)) {
          clearInterval(poll)
          resolve(SLOW)
        } else if (spare && firstArrived !== undefined && !arrived.has(i) && Date.now() - firstArrived > slowAfterMs) {
          clearInterval(poll)
          resolve(SLOW)
        }
      }, Math.min(250, slowAfterMs))
      void fetched.then(() => clearInterval(poll), () => clearInterval(poll))
    })
    await Promise.all(indices.map(async (i) => {
      try {
        // A pooled buffer goes back only once its window is done; a request dropped while still running keeps its buffer (GC takes it).
        const fetched = (checkPages ? fetchCovering(i, w) : readRange(placement[i]!, i, w.shardOffset, w.shardLength, pool.acquire(w.shardLength)).then((bytes) => ({ bytes, from: w.shardOffset }))).then((r) => {
          arrived.add(i)
          firstArrived ??= Date.now()
          return r
        })
        const got = await Promise.race([fetched, slowGuard(i, fetched)])
        if (got === SLOW) {
          fetched.catch(() => undefined)
          dropShard(i, `slower than ${slowAfterMs} ms behind the other shards`)
          return
        }
        const bytes = checkPages ? checkCovering(i, w, got.bytes, got.from, await rootsOf(i)) : got.bytes
        if (bytes.length !== w.shardLength) throw new Error(`answered ${bytes.length} of ${w.shardLength} bytes`)
        if (!bad.has(i)) pieces.set(i, bytes)
      } catch (err) {
        dropShard(i, err instanceof Error ? err.message : String(err))
      }
    }))
  }

  /** Re-reads window `w` from each of `indices` page by page against the chunk roots; drops the hosts that fail; returns how many. */
  const blameByPages = async (w: Window, indices: number[]): Promise<number> => {
    const before = bad.size
    await Promise.all(indices.map(async (i) => {
      try {
        const got = await fetchCovering(i, w)
        checkCovering(i, w, got.bytes, got.from, await rootsOf(i))
      } catch (err) {
        dropShard(i, err instanceof Error ? err.message : String(err))
      }
    }))
    return bad.size - before
  }

  /** A window's pieces from k+1 shards (k when no more are reachable), checked as above. */
  const fetchWindow = async (w: Window): Promise<Map<number, Uint8Array>> => {
    const pieces = new Map<number, Uint8Array>()
    for (;;) {
      for (const i of pieces.keys()) if (bad.has(i)) pieces.delete(i)
      // Pieces checked against their pages need no extra shard to vouch for them.
      const want = Math.min(checkPages ? k : k + 1, usable().length)
      if (want < k) {
        // A host that timed out or erred under load may answer now: take it back, at most twice
        // per read (hosts that served wrong bytes never come back).
        const retry = [...faulty].filter(([, n]) => n < MAX_FAULT_RETRIES).map(([i]) => i)
        if (retry.length > 0) {
          for (const i of retry) {
            faulty.set(i, faulty.get(i)! + 1)
            bad.delete(i)
          }
          continue
        }
        const lastTry = [...new Map(tried.map((t) => [t.shardIndex, t])).values()]
        throw new BlobError('UNAVAILABLE', `only ${usable().length} of the ${k} shards needed could be read`, { tried: lastTry })
      }
      const missing = usable().filter((i) => !pieces.has(i)).slice(0, want - pieces.size)
      if (missing.length > 0) {
        await fetchInto(w, missing, pieces)
        continue
      }
      if (pieces.size === k && !checkPages && pagesCheckable) {
        // Exactly k left: no extra shard can vouch for this window, so its pages do.
        if ((await blameByPages(w, [...pieces.keys()])) > 0) continue
        return pieces
      }
      if (pieces.size <= k || isCodeword(coder, k, m, pieces, scratch)) return pieces
      // Some piece is wrong: read the window from every other shard to find which.
      await fetchInto(w, usable().filter((i) => !pieces.has(i)), pieces)
      const wrong = pieces.size >= k + 2 ? findWrongPiece(coder, k, m, pieces, scratch) : undefined
      if (wrong !== undefined) {
        dropShard(wrong, `wrong bytes at ${w.shardOffset}..${w.shardOffset + w.shardLength}`)
        continue
      }
      // Too few shards left to outvote, or several wrong: check each piece's pages against the chunk roots.
      const blamed = pagesCheckable ? await blameByPages(w, [...pieces.keys()]) : 0
      if (blamed === 0) throw new BlobError('VERIFY_FAILED', `shards disagree at shard bytes ${w.shardOffset}..${w.shardOffset + w.shardLength} and no single one is to blame`, { what: 'shard consistency' })
    }
  }

  const shardHashes = new Map<number, { hash: IncrementalHash; position: number }>()
  const inflight: Promise<Map<number, Uint8Array>>[] = []
  const launch = (w: Window): void => {
    const p = fetchWindow(w)
    p.catch(() => undefined)
    inflight.push(p)
  }
  let next = 0
  const rebuilt = Array.from({ length: k }, () => new Uint8Array(0))
  let held: Uint8Array[] | undefined
  try {
    for (const w of windows) {
      while (next < windows.length && inflight.length < depth) launch(windows[next++]!)
      const pieces = await inflight.shift()!
      const chosen = [...pieces.keys()].sort((a, b) => a - b).slice(0, k)
      if (wholeShards) {
        // The k shards decoded from determine the data: hashing the extra one would add nothing.
        for (const i of chosen) {
          const bytes = pieces.get(i)!
          const h = shardHashes.get(i) ?? (w.shardOffset === 0 ? { hash: createIncrementalHash(), position: 0 } : undefined)
          if (h === undefined || h.position !== w.shardOffset) continue
          h.hash.update(bytes)
          h.position += bytes.length
          shardHashes.set(i, h)
        }
      }
      const lost = Array.from({ length: k }, (_, d) => d).filter((d) => !pieces.has(d))
      // Data shards decode by copying: the coder runs only when a data shard is missing.
      if (lost.length > 0) {
        const outs = lost.map((_, j) => (rebuilt[j]!.length >= w.shardLength ? rebuilt[j]! : (rebuilt[j] = new Uint8Array(w.shardLength))).subarray(0, w.shardLength))
        coder.rebuild(k, m, chosen, lost, chosen.map((i) => pieces.get(i)!), outs)
        lost.forEach((d, j) => pieces.set(d, outs[j]!))
      }
      const from = Math.max(start, w.segs[0]!.dataOffset)
      const to = Math.min(end, w.segs.at(-1)!.dataOffset + w.segs.at(-1)!.dataLength)
      // Output in chunks of at most OUTPUT_CHUNK_BYTES: a whole window (k × 2 MiB) as one buffer
      // outlives a young-generation collection while the consumer writes it, and such buffers made
      // V8 run a full mark-compact every few MiB of a read.
      const out: Uint8Array[] = []
      let chunk = new Uint8Array(0)
      let fill = 0
      for (const seg of w.segs) {
        for (let d = 0; d < k; d++) {
          const at = seg.dataOffset + d * seg.shardLength
          let lo = Math.max(from, at)
          const hi = Math.min(to, at + seg.shardLength, seg.dataOffset + seg.dataLength)
          const piece = pieces.get(d)!
          while (lo < hi) {
            if (fill === chunk.length) {
              chunk = new Uint8Array(Math.min(OUTPUT_CHUNK_BYTES, to - lo))
              fill = 0
              out.push(chunk)
            }
            const n = Math.min(hi - lo, chunk.length - fill)
            const pieceAt = seg.shardOffset - w.shardOffset + (lo - at)
            chunk.set(piece.subarray(pieceAt, pieceAt + n), fill)
            fill += n
            lo += n
          }
        }
      }
      // Every byte of the pieces is in `out` (and hashed): their buffers serve the next windows.
      for (const piece of pieces.values()) pool.release(piece)
      if (held !== undefined) yield* held
      held = out
    }
    for (const [i, h] of shardHashes) {
      if (h.position !== shardSize) continue
      if (!equalBytes(h.hash.digest(), manifest.shardHashes[i]!)) {
        dropShard(i, 'shard hash mismatch')
        throw new BlobError('VERIFY_FAILED', `shard ${i} from ${toHex(placement[i]!)} does not match the manifest`, { what: `shard ${i} hash` })
      }
    }
    if (held !== undefined) yield* held
  } finally {
    for (const p of inflight) p.catch(() => undefined)
  }
}
