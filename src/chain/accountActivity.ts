import { bytes32, type Codec, struct, u8, u32, u128 } from '../../blocks/codec.ts'
import { txId } from '../../blocks/ids.ts'
import { AUDIT_OUTCOME, type Block, type Hash } from '../../blocks/schema.ts'
import { equalBytes, hashParts, utf8 } from '../crypto/index.ts'

/**
 * What a block did to one subject (an account, a host or an asset), one row per fact: the
 * explorer's "txs of an account", a host's earnings, shards and audits, an asset's audit history.
 * Rows are derived from the block alone, so the index is written with the block and undone with
 * it. Role numbers are a storage format: never renumber or reuse one.
 */
export const ACTIVITY_ROLE = {
  /** Subject sent a tx (ref = tx id; amount = fee). */
  sent: 0,
  /** Subject received a transfer (ref = tx id). */
  received: 1,
  /** Host got shard `aux` of an asset at deployment (ref = asset id). */
  shardPlaced: 2,
  /** Host was assigned an execution (ref = execution id). */
  assigned: 3,
  /** Host's receipt went into a completion (ref = execution id; aux = 1 if it agreed). */
  receipt: 4,
  /** Execution payout to the subject (ref = execution id). */
  payout: 5,
  /** Storage rent paid to the subject (ref zero; aux = epoch). */
  rent: 7,
  /** Audit of shard `aux` passed (host row: ref = asset; asset row: ref = host). */
  auditPassed: 8,
  /** Audit of shard `aux` failed or went unanswered (same refs as auditPassed). */
  auditFailed: 9,
  /** Shard `aux` repaired onto a new host (host row of the new host and asset row: ref = asset / new host). */
  repaired: 10,
  /** Asset expired (deposit and grace used up; asset row). */
  expired: 11,
  /** Asset deployed (asset row: ref = owner). */
  deployed: 12,
  /** Execution requested (rows of executionsOfAsset / executionsOfSender: ref = execution id; amount = escrow). */
  executionRequested: 13,
  /** Execution settled (row of the execution id itself, ref = the same id; aux = COMPLETION_STATUS), so a lookup needs no block scan. */
  completed: 14,
  /** Asset owned (row of assetsOfOwner: ref = asset id). */
  assetOwned: 15,
  /** Deposit topped up (asset row: ref = sponsor; amount = added). */
  extended: 16,
  /** Asset deleted by its owner (asset row: ref = owner). */
  deleted: 17,
} as const
export type ActivityRole = (typeof ACTIVITY_ROLE)[keyof typeof ACTIVITY_ROLE]

export interface ActivityRow {
  subject: Hash
  height: number
  /** Entry of the block the fact comes from. */
  entry: number
  role: ActivityRole
  ref: Hash
  amount: bigint
  aux: number
  /** Slot of the block (epoch = slot / auditEpochSlots). */
  slot: number
}

export interface ActivityValue { role: number; ref: Hash; amount: bigint; aux: number; slot: number; entry: number }
export const ActivityValue: Codec<ActivityValue> = struct('ActivityValue', { role: u8, ref: bytes32, amount: u128, aux: u32, slot: u32, entry: u32 })

const ZERO = new Uint8Array(32)

/**
 * Derived subjects: list-shaped indexes (an owner's assets, an asset's or a sender's executions)
 * live under their own subject, so a page is one range read with no filtering.
 */
export const assetsOfOwner = (owner: Hash): Hash => hashParts(utf8('xsc/index/assets-of-owner'), owner)
export const executionsOfAsset = (asset: Hash): Hash => hashParts(utf8('xsc/index/executions-of-asset'), asset)
export const executionsOfSender = (sender: Hash): Hash => hashParts(utf8('xsc/index/executions-of-sender'), sender)

/** Every activity row of a block, in entry order. Bounded by the block's own size limits. */
export function computeActivityRows(block: Block): ActivityRow[] {
  const { height, slot } = block.header
  const rows: ActivityRow[] = []
  const add = (subject: Hash, entry: number, role: ActivityRole, ref: Hash, amount = 0n, aux = 0): void => {
    rows.push({ subject, height, entry, role, ref, amount, aux, slot })
  }
  block.entries.forEach((e, i) => {
    switch (e.type) {
      case 'tx':
      case 'deployment':
      case 'execution': {
        const id = txId(e.tx)
        add(e.tx.body.from, i, ACTIVITY_ROLE.sent, id, e.tx.body.fee)
        const p = e.tx.body.payload
        if (p.type === 'transfer') add(p.to, i, ACTIVITY_ROLE.received, id, p.amount)
        if (p.type === 'asset.extend') add(p.asset, i, ACTIVITY_ROLE.extended, e.tx.body.from, p.amount)
        if (p.type === 'asset.delete') add(p.asset, i, ACTIVITY_ROLE.deleted, e.tx.body.from)
        if (e.type === 'deployment') {
          add(id, i, ACTIVITY_ROLE.deployed, e.tx.body.from)
          add(assetsOfOwner(e.tx.body.from), i, ACTIVITY_ROLE.assetOwned, id)
          e.placement.forEach((host, shard) => add(host, i, ACTIVITY_ROLE.shardPlaced, id, 0n, shard))
        }
        if (e.type === 'execution') {
          for (const host of e.assignment) add(host, i, ACTIVITY_ROLE.assigned, id)
          if (p.type === 'execute') add(executionsOfAsset(p.asset), i, ACTIVITY_ROLE.executionRequested, id, e.escrow)
          add(executionsOfSender(e.tx.body.from), i, ACTIVITY_ROLE.executionRequested, id, e.escrow)
        }
        break
      }
      case 'completion':
        for (const r of e.receipts) {
          const agreed = r.body.outcome === e.outcome && r.body.fuelUsed === e.fuelUsed && equalBytes(r.body.resultHash, e.resultHash)
          add(r.body.host, i, ACTIVITY_ROLE.receipt, e.executionId, 0n, agreed ? 1 : 0)
        }
        for (const p of e.payouts) add(p.to, i, ACTIVITY_ROLE.payout, e.executionId, p.amount)
        add(e.executionId, i, ACTIVITY_ROLE.completed, e.executionId, 0n, e.status)
        break
      case 'audit':
        for (const r of e.results) {
          const role = r.outcome === AUDIT_OUTCOME.pass ? ACTIVITY_ROLE.auditPassed : ACTIVITY_ROLE.auditFailed
          add(r.host, i, role, r.asset, 0n, r.shardIndex)
          add(r.asset, i, role, r.host, 0n, r.shardIndex)
        }
        for (const r of e.repairs) {
          add(r.to, i, ACTIVITY_ROLE.repaired, r.asset, 0n, r.shardIndex)
          add(r.asset, i, ACTIVITY_ROLE.repaired, r.to, 0n, r.shardIndex)
        }
        for (const p of e.rent) add(p.to, i, ACTIVITY_ROLE.rent, ZERO, p.amount, e.epoch)
        for (const a of e.expired) add(a, i, ACTIVITY_ROLE.expired, ZERO, 0n, e.epoch)
        break
      default:
        break
    }
  })
  return rows
}

/** Where a page of one subject's rows ends: the (height, row number) of its last row. */
export interface ActivityCursor { height: number; seq: number }

/** Index key: subject ‖ u32be height ‖ u32be row number within the block (rows of one subject sort by height). */
export function computeActivityKey(subject: Hash, height: number, seq: number): Uint8Array {
  const key = new Uint8Array(40)
  key.set(subject, 0)
  const view = new DataView(key.buffer)
  view.setUint32(32, height)
  view.setUint32(36, seq)
  return key
}
