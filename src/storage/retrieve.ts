import type { Address, Manifest } from '../../blocks/schema.ts'
import { equalBytes, hash, toHex } from '../crypto/index.ts'
import { verifyManifestShape } from '../state/storage/computeChunkLeaves.ts'
import { StorageError } from '../state/storage/errors.ts'
import { decodeAsset } from './decodeAsset.ts'
import type { FastCoder } from './fastCoder.ts'

/**
 * Fetches shard `shardIndex` from `host`; null when the host does not have it. Injected: an
 * in-process store today, a libp2p request-response later. Should stop when `signal` aborts.
 */
export type FetchShard = (host: Address, shardIndex: number, signal: AbortSignal) => Promise<Uint8Array | null>

/** Exponentially weighted response times per host (ms), to ask the fastest hosts first. */
export class LatencyTracker {
  readonly #ms = new Map<string, number>()
  /** Prior for hosts never measured: neither first nor last. */
  readonly unknownMs: number
  constructor(unknownMs = 100) {
    this.unknownMs = unknownMs
  }
  record(host: Address, ms: number): void {
    const key = toHex(host)
    const prev = this.#ms.get(key)
    this.#ms.set(key, prev === undefined ? ms : prev * 0.7 + ms * 0.3)
  }
  estimate(host: Address): number {
    return this.#ms.get(toHex(host)) ?? this.unknownMs
  }
}

export interface BadShardReport {
  host: Address
  shardIndex: number
  /** corrupt: bytes that fail the manifest (reputation); missing: host said it has none; error: request failed. */
  reason: 'corrupt' | 'missing' | 'error'
}

export interface RetrieveOpts {
  latency?: LatencyTracker
  /** Requests started beyond k at once, so one slow host does not hold up the read (long tail). */
  extra?: number
  /** Start one more request whenever this long passes without a new good shard. */
  hedgeAfterMs?: number
  coder?: FastCoder
}

export interface RetrieveResult {
  data: Uint8Array
  /** Shard indices whose verified bytes were used. */
  used: number[]
  bad: BadShardReport[]
}

/**
 * Collects k verified shards like Storj's long-tail cut-off: ask the k+extra fastest hosts of the
 * placement at once, verify every answer against the manifest, replace a failed or corrupt answer
 * with the next-fastest host, and cancel the rest once k good shards are in. Shard indices in
 * `skip` are not asked (repair skips the shard it rebuilds).
 */
export async function collectShards(manifest: Manifest, placement: readonly Address[], fetchShard: FetchShard, opts: RetrieveOpts & { skip?: readonly number[] } = {}): Promise<{ good: Map<number, Uint8Array>; bad: BadShardReport[] }> {
  verifyManifestShape(manifest)
  const { k, m } = manifest
  if (placement.length !== k + m) throw new StorageError('INVALID_PARAMS', `placement has ${placement.length} hosts, manifest ${k + m} shards`)
  const latency = opts.latency ?? new LatencyTracker()
  const skip = new Set(opts.skip ?? [])
  // Fastest first; on equal estimates data shards first (no rebuild needed), then by index.
  const order = Array.from({ length: k + m }, (_, i) => i)
    .filter((i) => !skip.has(i))
    .sort((a, b) => latency.estimate(placement[a]!) - latency.estimate(placement[b]!) || a - b)
  const controller = new AbortController()
  const good = new Map<number, Uint8Array>()
  const bad: BadShardReport[] = []
  let next = 0
  let pending = 0

  await new Promise<void>((resolve) => {
    let hedge: ReturnType<typeof setTimeout> | undefined
    const armHedge = (): void => {
      if (opts.hedgeAfterMs === undefined) return
      clearTimeout(hedge)
      hedge = setTimeout(() => {
        launch()
        armHedge()
      }, opts.hedgeAfterMs)
    }
    const finish = (): void => {
      clearTimeout(hedge)
      controller.abort()
      resolve()
    }
    const settle = (): void => {
      if (good.size >= k || (pending === 0 && next >= order.length)) finish()
    }
    const launch = (): void => {
      if (next >= order.length || good.size >= k) return
      const index = order[next++]!
      const host = placement[index]!
      const started = performance.now()
      pending++
      fetchShard(host, index, controller.signal).then(
        (bytes) => {
          if (controller.signal.aborted) return
          latency.record(host, performance.now() - started)
          if (bytes === null) bad.push({ host, shardIndex: index, reason: 'missing' })
          else if (BigInt(bytes.length) !== manifest.shardSize || !equalBytes(hash(bytes), manifest.shardHashes[index]!)) bad.push({ host, shardIndex: index, reason: 'corrupt' })
          else {
            good.set(index, bytes)
            armHedge()
            return
          }
          launch()
        },
        () => {
          if (controller.signal.aborted) return
          latency.record(host, performance.now() - started)
          bad.push({ host, shardIndex: index, reason: 'error' })
          launch()
        },
      ).finally(() => {
        pending--
        settle()
      })
    }
    const first = Math.min(order.length, k + Math.max(0, opts.extra ?? 1))
    if (first === 0) finish()
    for (let i = 0; i < first; i++) launch()
    armHedge()
  })

  if (good.size < k) {
    throw new StorageError('TOO_FEW_SHARDS', `only ${good.size} good shards from ${order.length} hosts, ${k} needed`, {
      good: good.size, needed: k, bad: bad.map((b) => ({ host: toHex(b.host), shardIndex: b.shardIndex, reason: b.reason })),
    })
  }
  return { good, bad }
}

/** Reads an asset: collectShards, rebuild, check the data hash. Corrupt hosts come back in `bad`. */
export async function retrieve(manifest: Manifest, placement: readonly Address[], fetchShard: FetchShard, opts: RetrieveOpts = {}): Promise<RetrieveResult> {
  verifyManifestShape(manifest)
  if (manifest.size === 0n) return { data: decodeAsset(manifest, []), used: [], bad: [] }
  const { good, bad } = await collectShards(manifest, placement, fetchShard, opts)
  const shards: (Uint8Array | undefined)[] = Array.from({ length: manifest.k + manifest.m }, (_, i) => good.get(i))
  const data = decodeAsset(manifest, shards, { trusted: true, ...(opts.coder ? { coder: opts.coder } : {}) })
  return { data, used: [...good.keys()].sort((a, b) => a - b), bad }
}
