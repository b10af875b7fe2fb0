import { type AuditEntry, CAPABILITY } from '../../blocks/schema.ts'
import { equalBytes, fromHex, hashParts, toHex, u32be, utf8 } from '../crypto/index.ts'
import { route } from '../router/index.ts'
import { credit } from './accounts.ts'
import type { ApplyContext } from './applyContext.ts'
import { StateError } from './errors.ts'
import { recordReputationEvent } from './hosts.ts'
import { ASSET_STATUS, AssetRecord, HOST_STATUS, HostRecord } from './records.ts'
import { computeRouteSeed } from './routeSeed.ts'
import { slashFailedAudits } from './slashFailedAudits.ts'
import type { StateOverlay, StateReader } from './stateView.ts'
import { computeAssetsPerAudit, computeAuditSamplePositions, readAuditIndexAt, readAuditIndexCount, removeFromAuditIndex } from './storage/auditIndex.ts'
import { type AuditAnswers, type AuditEpochInput, type AuditEpochOutput, computeAuditEntry, verifyAuditEntry } from './storage/computeAuditEntry.ts'
import { computeShardsToRepair } from './storage/computeRepairs.ts'
import { computeAuditEpoch } from './storage/deriveAuditChallenges.ts'
import { dequeueRepair, queueRepairsOfHost, readRepairQueue, REPAIRS_PER_AUDIT, writeAssetRecord } from './storage/repairQueue.ts'
import { readRow, TABLES } from './tables.ts'


export function readLastAuditEpoch(state: StateReader): number | undefined {
  return readRow(state, TABLES.lastAuditEpoch.at())
}

/** Whether a block at `slot` is due to settle an audit epoch: a new epoch and something stored. */
export function isAuditDue(state: StateReader, slot: number, auditEpochSlots: number): boolean {
  const epoch = computeAuditEpoch(slot, auditEpochSlots)
  const last = readLastAuditEpoch(state)
  return (last === undefined || epoch > last) && readAuditIndexCount(state) > 0
}

/**
 * The assets an audit block samples: `computeAssetsPerAudit(auditSamplesPerBlock, k+m)` positions
 * of the audit index drawn from the route seed of the parent state's beacon mix (computeAuditSamplePositions).
 * Reads only the sampled assets and their hosts, never the whole state.
 */
export function readAuditSample(state: StateReader, ctx: ApplyContext, epoch: number): { asset: Uint8Array; record: AssetRecord }[] {
  const params = ctx.genesis.params
  const wanted = computeAssetsPerAudit(params.auditSamplesPerBlock, params.dataShards + params.parityShards)
  const seed = computeRouteSeed(ctx.beaconMix, AUDIT_SEED_SUBJECT)
  return computeAuditSamplePositions(seed, epoch, readAuditIndexCount(state), wanted).map((n) => {
    const asset = readAuditIndexAt(state, n)
    const record = readRow(state, TABLES.asset.at(asset))
    if (record === undefined) throw new StateError('UNSUPPORTED', `audit index names a missing asset ${toHex(asset)}`)
    return { asset, record }
  })
}

/** The sample plus up to REPAIRS_PER_AUDIT assets waiting in the repair queue (each once, sample first). */
function withQueuedRepairs(state: StateReader, sample: { asset: Uint8Array; record: AssetRecord }[]): { asset: Uint8Array; record: AssetRecord }[] {
  const seen = new Set(sample.map((a) => toHex(a.asset)))
  const out = sample.slice()
  for (const asset of readRepairQueue(state, REPAIRS_PER_AUDIT)) {
    const record = readRow(state, TABLES.asset.at(asset))
    if (record === undefined || seen.has(toHex(asset))) continue
    seen.add(toHex(asset))
    out.push({ asset, record })
  }
  return out
}

/** Subject of the audit's route seed, so its randomness is apart from any placement's. */
const AUDIT_SEED_SUBJECT = hashParts(utf8('XSC/audit-seed/v1'))

/**
 * What an audit block is computed from, read from the state at the block's start: the sampled
 * assets and the hosts they name. Repairs are placed by the router near the lost shard's host,
 * seeded by the beacon mix, asset and shard.
 */
export function computeAuditInput(state: StateReader, ctx: ApplyContext): AuditEpochInput {
  const params = ctx.genesis.params
  const epoch = computeAuditEpoch(ctx.slot, params.auditEpochSlots)
  const sample = readAuditSample(state, ctx, epoch)
  const assets = withQueuedRepairs(state, sample)
  const sampled = new Set(sample.map((a) => toHex(a.asset)))
  const hosts = new Map<string, HostRecord>()
  const load = (address: Uint8Array): void => {
    const hex = toHex(address)
    if (hosts.has(hex)) return
    const record = readRow(state, TABLES.host.at(address))
    if (record !== undefined) hosts.set(hex, record)
  }
  for (const a of assets) a.record.placement.forEach(load)
  const index = ctx.hostIndex
  return {
    epoch,
    seed: computeRouteSeed(ctx.beaconMix, AUDIT_SEED_SUBJECT),
    height: ctx.height,
    assets,
    repairOnly: new Set(assets.map((a) => toHex(a.asset)).filter((hex) => !sampled.has(hex))),
    hosts,
    params,
    choose: (asset, record, shardIndex, exclude) => {
      if (!index) throw new StateError('UNSUPPORTED', 'repairs need the host index')
      const old = hosts.get(toHex(record.placement[shardIndex]!))
      const request = {
        kind: 'storage' as const,
        origin: old?.params.coord ?? { x: 0, y: 0, z: 0 },
        replicas: 1,
        capabilities: CAPABILITY.storage,
        bid: record.bidPerByteEpoch,
        minFreeBytes: record.manifest.shardSize,
        exclude,
        zones: record.zones,
      }
      const to = route(request, index, hashParts(ctx.beaconMix, asset, u32be(shardIndex)))[0]
      // The new host's record joins the input so its usedBytes moves with the shard.
      if (to) load(to)
      return to
    },
  }
}

/** The proposer's side: the audit entry from the hosts' answers it gathered. */
export function computeAuditBlockEntry(state: StateReader, ctx: ApplyContext, answers: AuditAnswers): AuditEpochOutput {
  return computeAuditEntry(computeAuditInput(state, ctx), answers)
}

/**
 * Settles an audit epoch: every validator re-derives the challenges, checks each answer's
 * Merkle path, recomputes failures, reputation, rent, expiries and repairs, and rejects any
 * difference; then applies them. A draining host whose shards have all moved away has left.
 */
/** Queued assets this audit looked at leave the queue when nothing of them is lost any more, or nothing can be done (gone, expired, fewer than k shards left). */
function settleRepairQueue(state: StateOverlay, assets: readonly Uint8Array[], ctx: ApplyContext): void {
  const hostOf = (h: Uint8Array): HostRecord | undefined => readRow(state, TABLES.host.at(h))
  for (const asset of readRepairQueue(state, REPAIRS_PER_AUDIT)) {
    if (!assets.some((a) => equalBytes(a, asset))) continue
    const record = readRow(state, TABLES.asset.at(asset))
    const lost = record === undefined || record.status === ASSET_STATUS.expired || record.status === ASSET_STATUS.refunded ? [] : computeShardsToRepair(record, hostOf, ctx.genesis.params.auditFailThreshold)
    if (lost.length === 0 || record!.placement.length - lost.length < record!.manifest.k) dequeueRepair(state, asset)
  }
}

export function applyAudit(state: StateOverlay, entry: AuditEntry, ctx: ApplyContext): void {
  const input = computeAuditInput(state, ctx)
  const last = readLastAuditEpoch(state)
  if (entry.epoch !== input.epoch || (last !== undefined && entry.epoch <= last)) {
    throw new StateError('ENTRY_MISMATCH', `audit for epoch ${entry.epoch} in a block of epoch ${input.epoch} (last settled ${last ?? 'none'})`, { field: 'epoch', got: entry.epoch, expected: input.epoch })
  }
  const check = verifyAuditEntry(input, entry)
  if (!check.ok) throw new StateError('ENTRY_MISMATCH', `audit entry rejected: ${check.reason}`, { field: 'audit' })
  const out = check.output
  for (const a of out.assets) writeAssetRecord(state, a.asset, a.record)
  for (const [hex, record] of [...out.hosts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const status = record.status === HOST_STATUS.draining && record.usedBytes === 0n ? HOST_STATUS.left : record.status
    const address = fromHex(hex, 32)
    state.write(TABLES.host.at(address), { ...record, status })
    // Disqualified here: every shard it holds is lost, and waits for repair whether sampled or not.
    if (status === HOST_STATUS.disqualified && input.hosts.get(hex)?.status !== HOST_STATUS.disqualified) queueRepairsOfHost(state, address)
  }
  for (const e of out.events) recordReputationEvent(state, e.host, e.event, ctx.genesis.params.reputationHistoryLimit)
  for (const p of entry.rent) credit(state, p.to, p.amount)
  slashFailedAudits(state, entry, input.hosts, ctx)
  for (const asset of entry.expired) removeFromAuditIndex(state, asset)
  settleRepairQueue(state, input.assets.map((a) => a.asset), ctx)
  state.write(TABLES.lastAuditEpoch.at(), entry.epoch)
}
