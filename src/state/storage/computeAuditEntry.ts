import { encode } from '../../../blocks/codec.ts'
import { type Address, AUDIT_OUTCOME, type AuditEntry, type AuditResult, BlockEntry, type ChainParams, type Hash, LIMITS, REPUTATION_CAUSE, type ReputationChange } from '../../../blocks/schema.ts'
import { equalBytes, toHex } from '../../crypto/index.ts'
import { computeReputationUpdate } from '../market/reputation.ts'
import { ASSET_STATUS, type AssetRecord, type HostRecord, type ReputationEvent } from '../records.ts'
import type { ChunkProof } from './computeChunkLeaves.ts'
import { type ChooseRepairHost, computeRepairs } from './computeRepairs.ts'
import { computeStorageRent } from './computeStorageRent.ts'
import { type AuditChallenge, deriveAuditChallenges } from './deriveAuditChallenges.ts'
import { computeAuditResult, verifyAuditResult } from './verifyAuditResult.ts'


export type AuditParams = Pick<ChainParams, 'auditFailThreshold' | 'rentGraceEpochs' | 'reputationAlphaBp' | 'reputationSuspendBp' | 'reputationDisqualifyBp'>

/** Everything an audit block is computed from: state, the epoch seed and the router. */
export interface AuditEpochInput {
  epoch: number
  /** Block hash the challenges derive from (see deriveAuditChallenges). */
  seed: Hash
  /** Height of the audit block (for reputation events). */
  height: number
  /** Every stored asset (expired ones are ignored). */
  assets: readonly { asset: Hash; record: AssetRecord }[]
  /** Assets (toHex) taken from the repair queue, not the sample: repaired, not challenged (an audit block stays bounded by the sample). */
  repairOnly?: ReadonlySet<string>
  /** Host records keyed by toHex(address). */
  hosts: ReadonlyMap<string, HostRecord>
  params: AuditParams
  /** The router, for repair placements; must be deterministic given the block. */
  choose: ChooseRepairHost
}

/** What the host answered to a challenge, gathered by the shell before building the block. */
export type AuditAnswers = (challenge: AuditChallenge) => ChunkProof | undefined

export interface AuditEpochOutput {
  entry: AuditEntry
  challenges: AuditChallenge[]
  /** Every non-expired input asset after the epoch (failures, placement, deposit, status). */
  assets: { asset: Hash; record: AssetRecord }[]
  /** Hosts whose record changed, keyed by toHex(address). */
  hosts: Map<string, HostRecord>
  events: { host: Address; event: ReputationEvent }[]
  /** Assets with fewer than k healthy shards. */
  unrecoverable: Hash[]
}

const CAUSE_OF_OUTCOME: Record<number, number> = {
  [AUDIT_OUTCOME.pass]: REPUTATION_CAUSE.auditPass,
  [AUDIT_OUTCOME.fail]: REPUTATION_CAUSE.auditFail,
  [AUDIT_OUTCOME.noAnswer]: REPUTATION_CAUSE.auditNoAnswer,
}

/**
 * Blocks after its deployment block during which an asset is not audited. The deploying
 * validator hands shards to their hosts only once the hosts have imported the deployment block
 * (storageCoordinator retries for about 9.5 s); a challenge before then would record hosts that
 * never got a valid copy as failing, a penalty for a failure they do not control. Blocks are at
 * least one slot apart, so 20 blocks last at least 20 slots: 10 s at the devnet's 500 ms slots,
 * one devnet audit epoch. A host that never stores is still caught by the first audit after it.
 */
export const AUDIT_GRACE_BLOCKS = 20

/** Audited, paid and repaired: active or graced (not placing, refunded or expired). */
function isStored(status: number): boolean {
  return status === ASSET_STATUS.active || status === ASSET_STATUS.graced
}

/** Whether an asset created at `createdHeight` is past its grace at an audit block of `height`. */
export function isPastAuditGrace(createdHeight: number, height: number): boolean {
  return height - createdHeight >= AUDIT_GRACE_BLOCKS
}

/**
 * Exactly the challenges computeAuditEntry answers for this input: the non-expired assets past
 * their grace (AUDIT_GRACE_BLOCKS), sampled to fit one entry (LIMITS.auditResults results,
 * LIMITS.payouts hosts paid). The proposer asks hosts for these.
 */
export function computeAuditChallenges(input: Pick<AuditEpochInput, 'seed' | 'epoch' | 'height' | 'assets' | 'repairOnly'>): AuditChallenge[] {
  const live = input.assets.filter((a) => isStored(a.record.status) && isPastAuditGrace(a.record.createdHeight, input.height) && !input.repairOnly?.has(toHex(a.asset)))
  return deriveAuditChallenges(input.seed, input.epoch, live.map((a) => ({ asset: a.asset, manifest: a.record.manifest, placement: a.record.placement, acked: a.record.acked })), LIMITS.auditResults, LIMITS.payouts)
}

/**
 * The audit block entry of an epoch, in this order:
 *  1. challenges from the seed (assets still in their grace are left out: no result, no
 *     failure, no rent); one result per challenge from the answers;
 *  2. per shard: a pass resets its failure count, a fail or no answer adds one (host's
 *     failedAudits follows the sum); reputation moves per result (market/reputation.ts);
 *  3. rent for the shards that passed (computeStorageRent), exhaustion and expiry;
 *  4. repairs of lost shards of assets still stored (computeRepairs), with the new placement;
 *     host usedBytes moves with repaired shards and is released for expired assets.
 */
export function computeAuditEntry(input: AuditEpochInput, answers: AuditAnswers): AuditEpochOutput {
  const { epoch, height, params } = input
  const live = input.assets.filter((a) => isStored(a.record.status))
  const byAsset = new Map<string, { asset: Hash; record: AssetRecord }>()
  for (const a of live) byAsset.set(toHex(a.asset), { asset: a.asset, record: { ...a.record, shardFailures: a.record.shardFailures.slice() } })
  const hosts = new Map<string, HostRecord>()
  const hostOf = (h: Address): HostRecord | undefined => hosts.get(toHex(h)) ?? input.hosts.get(toHex(h))
  const setHost = (h: Address, r: HostRecord): void => void hosts.set(toHex(h), r)

  const challenges = computeAuditChallenges(input)
  const audited = new Set(challenges.map((c) => toHex(c.asset)))
  const results: AuditResult[] = []
  const reputation: ReputationChange[] = []
  const events: { host: Address; event: ReputationEvent }[] = []
  const passed = new Map<string, boolean[]>()
  for (const c of challenges) {
    const entry = byAsset.get(toHex(c.asset))!
    const result = computeAuditResult(entry.record.manifest, c, answers(c))
    results.push(result)
    const before = entry.record.shardFailures[c.shardIndex] ?? 0
    const after = result.outcome === AUDIT_OUTCOME.pass ? 0 : Math.min(255, before + 1)
    entry.record.shardFailures[c.shardIndex] = after
    let flags = passed.get(toHex(c.asset))
    if (!flags) passed.set(toHex(c.asset), (flags = entry.record.placement.map(() => false)))
    flags[c.shardIndex] = result.outcome === AUDIT_OUTCOME.pass
    const host = hostOf(c.host)
    if (!host) continue
    const update = computeReputationUpdate(c.host, host, CAUSE_OF_OUTCOME[result.outcome]!, params, height, c.asset)
    setHost(c.host, { ...update.record, failedAudits: Math.max(0, host.failedAudits - before + after) })
    reputation.push(update.change)
    events.push({ host: c.host, event: update.event })
  }

  // Rent and expiry follow this epoch's audits: assets left out of a sampled epoch wait.
  // A sampled asset settles every epoch since its last settlement (rentEpoch..epoch); a failed shard forfeits them.
  const rent = computeStorageRent(epoch, [...byAsset.values()].filter((a) => audited.has(toHex(a.asset)) || a.record.manifest.shardSize === 0n).map((a) => ({
    asset: a.asset,
    record: a.record,
    passed: passed.get(toHex(a.asset)) ?? a.record.placement.map(() => false),
    epochs: computeRentEpochs(a.record, epoch),
  })), (h) => hostOf(h)?.params.askPerByteEpoch, params)
  for (const o of rent.assets) {
    const a = byAsset.get(toHex(o.asset))!
    a.record = { ...a.record, deposit: o.deposit, status: o.status, exhaustedEpoch: o.exhaustedEpoch, rentEpoch: epoch + 1 }
  }
  const release = (h: Address, bytes: bigint): void => {
    const r = hostOf(h)
    if (r) setHost(h, { ...r, usedBytes: r.usedBytes > bytes ? r.usedBytes - bytes : 0n })
  }
  for (const asset of rent.expired) {
    const { record } = byAsset.get(toHex(asset))!
    for (const h of record.placement) release(h, record.manifest.shardSize)
  }

  const plan = computeRepairs([...byAsset.values()], hostOf, params, input.choose, LIMITS.auditResults)
  for (const r of plan.repairs) {
    const a = byAsset.get(toHex(r.asset))!
    const size = a.record.manifest.shardSize
    const from = hostOf(r.from)
    if (from) setHost(r.from, { ...from, usedBytes: from.usedBytes > size ? from.usedBytes - size : 0n, failedAudits: Math.max(0, from.failedAudits - (a.record.shardFailures[r.shardIndex] ?? 0)) })
    const to = hostOf(r.to)
    if (to) setHost(r.to, { ...to, usedBytes: to.usedBytes + size })
  }
  for (const u of plan.assets) byAsset.get(toHex(u.asset))!.record = u.record

  const entry: AuditEntry = { type: 'audit', epoch, results, repairs: plan.repairs, rent: rent.payouts, expired: rent.expired, reputation }
  return { entry, challenges, assets: [...byAsset.values()], hosts, events, unrecoverable: plan.unrecoverable }
}

/** Epochs a settlement at `epoch` pays for: rentEpoch (the first unpaid epoch) through `epoch`; one when unknown. */
export function computeRentEpochs(record: AssetRecord, epoch: number): number {
  if (record.rentEpoch === undefined) return 1
  return epoch >= record.rentEpoch ? epoch - record.rentEpoch + 1 : 0
}

export type AuditEntryCheck = { ok: true; output: AuditEpochOutput } | { ok: false; reason: string }

/**
 * A validator's check of a received audit entry: one result per derived challenge, each
 * consistent with its manifest (verifyAuditResult), and results, repairs, rent, expiries and
 * reputation byte-identical to recomputing the epoch from those answers.
 */
export function verifyAuditEntry(input: AuditEpochInput, entry: AuditEntry): AuditEntryCheck {
  const live = input.assets.filter((a) => isStored(a.record.status))
  const manifests = new Map(live.map((a) => [toHex(a.asset), a.record.manifest]))
  const challenges = computeAuditChallenges(input)
  if (entry.epoch !== input.epoch) return { ok: false, reason: `epoch ${entry.epoch}, expected ${input.epoch}` }
  if (entry.results.length !== challenges.length) return { ok: false, reason: `${entry.results.length} results for ${challenges.length} challenges` }
  for (let i = 0; i < challenges.length; i++) {
    const c = challenges[i]!
    if (!verifyAuditResult(manifests.get(toHex(c.asset))!, c, entry.results[i]!)) return { ok: false, reason: `result ${i} does not match its challenge or proof` }
  }
  const recorded = new Map(entry.results.map((r) => [`${toHex(r.asset)}/${r.shardIndex}`, r]))
  const output = computeAuditEntry(input, (c) => {
    const r = recorded.get(`${toHex(c.asset)}/${c.shardIndex}`)!
    return r.outcome === AUDIT_OUTCOME.noAnswer ? undefined : { chunk: r.chunk, path: r.path }
  })
  const same = equalBytes(encode(BlockEntry, output.entry), encode(BlockEntry, entry))
  return same ? { ok: true, output } : { ok: false, reason: 'repairs, rent, expiries or reputation differ from the recomputation' }
}
