import type { Address, Hash, Manifest } from '../../../blocks/schema.ts'
import { compareBytes, hashParts, seedToBigInt, toHex, u32be, utf8 } from '../../crypto/index.ts'
import { computeChunkCount } from './computeChunkLeaves.ts'
import { StorageError } from './errors.ts'

/** An asset as audits see it: its id (deploy tx id), manifest and current placement. */
export interface AuditedAsset {
  asset: Hash
  manifest: Manifest
  placement: readonly Address[]
  /** acked[i] = 1 when shard i's host acknowledged it; only those are challenged. Absent or empty: all. */
  acked?: readonly number[]
}

/** One challenge: host `host` must answer with chunk `chunkIndex` of shard `shardIndex`. */
export interface AuditChallenge { asset: Hash; shardIndex: number; host: Address; chunkIndex: number }

const DOMAIN = utf8('XSC/audit/v1')
const SAMPLE_DOMAIN = utf8('XSC/audit-sample/v1')

/** Audit epoch of a slot: epochs are `auditEpochSlots` slots long, epoch 0 starts at slot 0. */
export function computeAuditEpoch(slot: number, auditEpochSlots: number): number {
  if (!Number.isInteger(auditEpochSlots) || auditEpochSlots < 1) throw new StorageError('INVALID_PARAMS', 'auditEpochSlots must be a positive integer')
  return Math.floor(slot / auditEpochSlots)
}

/**
 * The epoch's challenges: every shard of every non-empty asset (or of a seeded sample of assets
 * when there are more than `maxChallenges` shards, see computeAuditSample), one chunk each, picked by
 *   chunkIndex = first 8 bytes of sha256("XSC/audit/v1" || seed || epoch u32be || asset || shard u8) mod chunkCount
 * The seed is a block hash the host cannot know before the epoch (the lead's choice: the hash of
 * the last block before the epoch starts). Output order is by asset id bytes then shard index,
 * whatever the input order, so every validator derives the same list.
 */
export function deriveAuditChallenges(seed: Hash, epoch: number, assets: readonly AuditedAsset[], maxChallenges = Infinity, maxHosts = Infinity): AuditChallenge[] {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffff_ffff) throw new StorageError('INVALID_PARAMS', `epoch ${epoch} out of range`)
  const sorted = [...assets].sort((a, b) => compareBytes(a.asset, b.asset))
  for (let a = 1; a < sorted.length; a++) {
    if (compareBytes(sorted[a - 1]!.asset, sorted[a]!.asset) === 0) throw new StorageError('INVALID_PARAMS', 'duplicate asset in audit set')
  }
  const audited = computeAuditSample(seed, epoch, sorted.filter((a) => a.manifest.shardSize > 0n), maxChallenges, maxHosts)
  const out: AuditChallenge[] = []
  for (const { asset, manifest, placement, acked } of audited) {
    const count = computeChunkCount(manifest.shardSize, manifest.chunkSize)
    const shards = manifest.k + manifest.m
    if (placement.length !== shards) throw new StorageError('INVALID_PARAMS', `placement has ${placement.length} hosts for ${shards} shards`)
    for (let shardIndex = 0; shardIndex < shards; shardIndex++) {
      // A host is never challenged for a shard it did not acknowledge receiving.
      if (acked !== undefined && acked.length > 0 && acked[shardIndex] !== 1) continue
      const h = hashParts(DOMAIN, seed, u32be(epoch), asset, new Uint8Array([shardIndex]))
      const chunkIndex = Number(seedToBigInt(h) % BigInt(count))
      out.push({ asset, shardIndex, host: placement[shardIndex]!, chunkIndex })
    }
  }
  return out
}

/**
 * When every shard of every asset would not fit in one audit entry (LIMITS.auditResults), the
 * epoch audits a sample: assets ordered by sha256("XSC/audit-sample/v1" || seed || epoch || asset),
 * taken while their shards fit (and, with `maxHosts`, while the distinct hosts paid rent fit
 * LIMITS.payouts), returned in asset id order. Assets left out are simply not audited
 * (nor paid rent, nor counted as failing) this epoch; the seed changes the sample every epoch.
 */
export function computeAuditSample<T extends AuditedAsset>(seed: Hash, epoch: number, sortedAssets: readonly T[], maxChallenges: number, maxHosts = Infinity): T[] {
  const total = sortedAssets.reduce((n, a) => n + a.manifest.k + a.manifest.m, 0)
  const allHosts = new Set(sortedAssets.flatMap((a) => a.placement.map(toHex)))
  if (total <= maxChallenges && allHosts.size <= maxHosts) return sortedAssets.slice()
  const keyed = sortedAssets.map((a) => ({ a, key: hashParts(SAMPLE_DOMAIN, seed, u32be(epoch), a.asset) }))
  keyed.sort((x, y) => compareBytes(x.key, y.key))
  const picked: T[] = []
  const hosts = new Set<string>()
  let used = 0
  for (const { a } of keyed) {
    const n = a.manifest.k + a.manifest.m
    const fresh = [...new Set(a.placement.map(toHex))].filter((h) => !hosts.has(h))
    if (used + n > maxChallenges || hosts.size + fresh.length > maxHosts) continue
    picked.push(a)
    fresh.forEach((h) => hosts.add(h))
    used += n
  }
  return picked.sort((x, y) => compareBytes(x.asset, y.asset))
}
