import { decodeTrusted } from '../../blocks/codec.ts'
import { type AuditEntry, CAPABILITY } from '../../blocks/schema.ts'
import { fromHex, hashParts, toHex, u32be } from '../crypto/index.ts'
import { route } from '../router/index.ts'
import { credit } from './accounts.ts'
import type { ApplyContext } from './applyContext.ts'
import { StateError } from './errors.ts'
import { recordReputationEvent } from './hosts.ts'
import { AssetRecord, HOST_STATUS, HostRecord } from './records.ts'
import { slashFailedAudits } from './slashFailedAudits.ts'
import { assetKey, hostKey, LAST_AUDIT_EPOCH_KEY, STATE_PREFIX } from './stateKeys.ts'
import type { StateOverlay, StateReader } from './stateView.ts'
import { type AuditAnswers, type AuditEpochInput, type AuditEpochOutput, computeAuditEntry, verifyAuditEntry } from './storage/computeAuditEntry.ts'
import { computeAuditEpoch } from './storage/deriveAuditChallenges.ts'


export function readLastAuditEpoch(state: StateReader): number | undefined {
  const b = state.get(LAST_AUDIT_EPOCH_KEY)
  return b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, 4).getUint32(0)
}

/** Whether a block at `slot` is due to settle an audit epoch: a new epoch and something stored. */
export function isAuditDue(state: StateReader, slot: number, auditEpochSlots: number): boolean {
  const epoch = computeAuditEpoch(slot, auditEpochSlots)
  const last = readLastAuditEpoch(state)
  return (last === undefined || epoch > last) && state.scan(new Uint8Array([STATE_PREFIX.asset])).length > 0
}

/**
 * What an audit block is computed from, read from the state at the block's start. Repairs are
 * placed by the router near the lost shard's host, seeded by the parent hash, asset and shard.
 */
export function computeAuditInput(state: StateReader, ctx: ApplyContext): AuditEpochInput {
  const params = ctx.genesis.params
  const assets = state.scan(new Uint8Array([STATE_PREFIX.asset])).map((w) => ({ asset: w.key.subarray(1), record: decodeTrusted(AssetRecord, w.value!) }))
  const hosts = new Map(state.scan(new Uint8Array([STATE_PREFIX.host])).map((w) => [toHex(w.key.subarray(1)), decodeTrusted(HostRecord, w.value!)] as const))
  const index = ctx.hostIndex
  return {
    epoch: computeAuditEpoch(ctx.slot, params.auditEpochSlots),
    seed: ctx.prevHash,
    height: ctx.height,
    assets,
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
      return route(request, index, hashParts(ctx.prevHash, asset, u32be(shardIndex)))[0]
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
export function applyAudit(state: StateOverlay, entry: AuditEntry, ctx: ApplyContext, nextEventIndex: () => number): void {
  const input = computeAuditInput(state, ctx)
  const last = readLastAuditEpoch(state)
  if (entry.epoch !== input.epoch || (last !== undefined && entry.epoch <= last)) {
    throw new StateError('ENTRY_MISMATCH', `audit for epoch ${entry.epoch} in a block of epoch ${input.epoch} (last settled ${last ?? 'none'})`, { field: 'epoch', got: entry.epoch, expected: input.epoch })
  }
  const check = verifyAuditEntry(input, entry)
  if (!check.ok) throw new StateError('ENTRY_MISMATCH', `audit entry rejected: ${check.reason}`, { field: 'audit' })
  const out = check.output
  for (const a of out.assets) state.write(AssetRecord, assetKey(a.asset), a.record)
  for (const [hex, record] of [...out.hosts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const status = record.status === HOST_STATUS.draining && record.usedBytes === 0n ? HOST_STATUS.left : record.status
    state.write(HostRecord, hostKey(fromHex(hex, 32)), { ...record, status })
  }
  for (const e of out.events) recordReputationEvent(state, e.host, e.event, nextEventIndex(), ctx.genesis.params.reputationHistoryLimit)
  for (const p of entry.rent) credit(state, p.to, p.amount)
  slashFailedAudits(state, entry, input.hosts, ctx)
  state.set(LAST_AUDIT_EPOCH_KEY, u32be(entry.epoch))
}
