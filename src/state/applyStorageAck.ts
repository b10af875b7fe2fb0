import { storageAckSigningHash } from '../../blocks/ids.ts'
import type { Address, Hash, StorageAck, StorageAckEntry } from '../../blocks/schema.ts'
import { equalBytes, toHex, verify } from '../crypto/index.ts'
import { credit } from './accounts.ts'
import type { ApplyContext } from './applyContext.ts'
import { StateError } from './errors.ts'
import { readHost } from './hosts.ts'
import { ASSET_STATUS, AssetRecord } from './records.ts'
import type { StateOverlay } from './stateView.ts'
import { addToAuditIndex } from './storage/auditIndex.ts'
import { computeAuditEpoch } from './storage/deriveAuditChallenges.ts'
import { popPlacement, readPlacementQueue } from './storage/placementQueue.ts'
import { queueRepair, writeAssetRecord } from './storage/repairQueue.ts'
import { TABLES } from './tables.ts'

/**
 * Two-phase placement. A deployment places its shards (status `placing`); each placed host
 * signs a storage ack once it holds a verified copy of its shard, and the acks go on chain in
 * storage blocks. A placement with every shard acknowledged becomes `active` (audited, paid). At
 * its deadline (storageAckBlocks after deployment) a placement with at least k+1 acknowledged
 * shards becomes active with its unacknowledged shards counted as lost, so the next audit of the
 * asset re-places them (repair from the acknowledged ones); one with fewer is refunded: the
 * deposit goes back to the owner (the deploy's fee stays paid) and the hosts' space is released.
 * Hosts are never penalized here: a shard nobody acknowledged is simply never audited.
 */

/** Why an ack cannot go on chain now, or undefined when it can. */
export function checkStorageAck(ack: StorageAck, ctx: ApplyContext, record: AssetRecord | undefined): string | undefined {
  const b = ack.body
  if (b.chainId !== ctx.genesis.chainId) return 'wrong chain'
  if (!record) return 'unknown asset'
  if (record.status !== ASSET_STATUS.placing) return 'placement is not waiting for acks'
  const placed = record.placement[b.shardIndex]
  if (!placed || !equalBytes(placed, b.host)) return 'host is not placed on this shard'
  if (!equalBytes(record.manifest.shardHashes[b.shardIndex]!, b.shardHash)) return 'shard hash differs from the manifest'
  if (record.acked[b.shardIndex] === 1) return 'shard already acknowledged'
  if (!verify(b.host, storageAckSigningHash(b), ack.signature)) return 'bad signature'
  return undefined
}

function activate(state: StateOverlay, asset: Hash, record: AssetRecord, ctx: ApplyContext): AssetRecord {
  // Rent starts when the placement does; unacknowledged shards count as lost (isShardLost), so the
  // asset's next audit re-places them and never challenges them.
  const active: AssetRecord = { ...record, status: ASSET_STATUS.active, ackDeadline: undefined, rentEpoch: computeAuditEpoch(ctx.slot, ctx.genesis.params.auditEpochSlots) }
  writeAssetRecord(state, asset, active)
  addToAuditIndex(state, asset)
  return active
}

/** Applies a storage block's acks: each must check (checkStorageAck); a placement complete with them activates. */
export function applyStorageAcks(state: StateOverlay, entry: StorageAckEntry, ctx: ApplyContext): void {
  if (entry.acks.length === 0) throw new StateError('INVALID_TX', 'a storage block carries at least one ack', { field: 'acks' })
  for (const [index, ack] of entry.acks.entries()) {
    const row = TABLES.asset.at(ack.body.asset)
    const record = state.read(row)
    const why = checkStorageAck(ack, ctx, record)
    if (why !== undefined) throw new StateError('ENTRY_MISMATCH', `storage ack ${index}: ${why}`, { field: `acks[${index}]`, got: toHex(ack.body.asset) })
    const acked = record!.acked.slice()
    acked[ack.body.shardIndex] = 1
    const next = { ...record!, acked }
    if (acked.every((a) => a === 1)) activate(state, ack.body.asset, next, ctx)
    else writeAssetRecord(state, ack.body.asset, next)
  }
}

function release(state: StateOverlay, host: Address, bytes: bigint): void {
  const h = readHost(state, host)
  if (h) state.write(TABLES.host.at(host), { ...h, usedBytes: h.usedBytes > bytes ? h.usedBytes - bytes : 0n })
}

export interface PlacementSettlement { activated: Hash[]; refunded: Hash[] }

/**
 * Runs after a block's entries: every placement whose deadline is this height or earlier either
 * activates (≥ k+1 acknowledged shards) or is refunded. Pops only due queue items.
 */
export function settlePlacementDeadlines(state: StateOverlay, ctx: ApplyContext): PlacementSettlement {
  const out: PlacementSettlement = { activated: [], refunded: [] }
  for (;;) {
    const [next] = readPlacementQueue(state, 1)
    if (next === undefined) break
    const record = state.read(TABLES.asset.at(next))
    if (record && record.status === ASSET_STATUS.placing && record.ackDeadline !== undefined && record.ackDeadline > ctx.height) break
    popPlacement(state)
    if (!record || record.status !== ASSET_STATUS.placing) continue
    const acked = record.acked.filter((a) => a === 1).length
    if (acked >= record.manifest.k + 1) {
      activate(state, next, record, ctx)
      // Its unacknowledged shards are lost: re-placed by the next audit block, sampled or not.
      if (acked < record.placement.length) queueRepair(state, next)
      out.activated.push(next)
      continue
    }
    for (const host of record.placement) release(state, host, record.manifest.shardSize)
    credit(state, record.owner, record.deposit)
    writeAssetRecord(state, next, { ...record, status: ASSET_STATUS.refunded, deposit: 0n, ackDeadline: undefined })
    out.refunded.push(next)
  }
  return out
}
