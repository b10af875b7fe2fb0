import type { Address, Hash, Payout } from '../../../blocks/schema.ts'
import { compareBytes, toHex } from '../../crypto/index.ts'
import { ASSET_STATUS, type AssetRecord } from '../records.ts'
import { StorageError } from './errors.ts'

/**
 * Storage rent for one audit epoch, integer and conserved.
 *
 * Rate of shard i: r_i = min(ask per byte-epoch of its host, the asset's bid) (a host that raised
 * its ask after placement never charges more than the deployer agreed to).
 *   epochCost = Σ_i shardSize × r_i                     (all k+m shards)
 *   due_i     = shardSize × r_i × epochs if shard i passed its audit this epoch, else 0
 *               (epochs: since the asset was last settled, as audits sample assets)
 * If deposit ≥ Σ due: each host gets due_i. Otherwise the deposit is shared pro rata,
 *   pay_i = floor(deposit × due_i / Σ due), and the remainder deposit − Σ pay_i goes one base unit
 *   at a time to the passing shards in shard-index order (the remainder rule), so the deposit
 *   ends at exactly 0. Always: Σ pay_i + depositAfter = depositBefore.
 * Status: an active asset whose deposit after paying is below epochCost is exhausted: it turns
 * `graced` with exhaustedEpoch = epoch. A graced asset expires (status `expired`, listed in the
 * audit entry's `expired`) once epoch ≥ exhaustedEpoch + rentGraceEpochs; it is then no longer
 * audited, paid, or repaired, and hosts may delete its shards.
 */
export interface RentAsset {
  asset: Hash
  record: AssetRecord
  /** passed[i]: shard i passed this epoch's audit. */
  passed: readonly boolean[]
  /** Epochs this settlement pays for (a sampled asset pays the epochs since it was last settled); 1 when absent. */
  epochs?: number
}

export interface RentOutcome {
  asset: Hash
  deposit: bigint
  status: number
  exhaustedEpoch: number | undefined
  paid: bigint
}

export interface StorageRent {
  /** One payout per host, summed over assets, sorted by host address. */
  payouts: Payout[]
  assets: RentOutcome[]
  /** Assets that expired this epoch, sorted. */
  expired: Hash[]
  paidTotal: bigint
}

export function computeShardRates(record: { placement: readonly Address[]; bidPerByteEpoch: bigint }, askOf: (host: Address) => bigint | undefined): bigint[] {
  return record.placement.map((host) => {
    const ask = askOf(host)
    if (ask === undefined) return 0n
    return ask < record.bidPerByteEpoch ? ask : record.bidPerByteEpoch
  })
}

export function computeStorageRent(epoch: number, assets: readonly RentAsset[], askOf: (host: Address) => bigint | undefined, params: { rentGraceEpochs: number }): StorageRent {
  const perHost = new Map<string, { to: Address; amount: bigint }>()
  const outcomes: RentOutcome[] = []
  const expired: Hash[] = []
  let paidTotal = 0n
  const sorted = [...assets].sort((a, b) => compareBytes(a.asset, b.asset))
  for (const { asset, record, passed, epochs = 1 } of sorted) {
    if (record.status === ASSET_STATUS.expired) {
      outcomes.push({ asset, deposit: record.deposit, status: record.status, exhaustedEpoch: record.exhaustedEpoch, paid: 0n })
      continue
    }
    if (passed.length !== record.placement.length) throw new StorageError('INVALID_PARAMS', 'one audit flag per shard is needed for rent')
    if (record.deposit < 0n) throw new StorageError('INVALID_PARAMS', 'negative deposit')
    const size = record.manifest.shardSize
    const rates = computeShardRates(record, askOf)
    const epochCost = rates.reduce((s, r) => s + r * size, 0n)
    if (!Number.isInteger(epochs) || epochs < 0) throw new StorageError('INVALID_PARAMS', 'rent epochs must be a non-negative integer')
    const due = rates.map((r, i) => (passed[i] ? r * size * BigInt(epochs) : 0n))
    const totalDue = due.reduce((s, d) => s + d, 0n)
    let pay: bigint[]
    if (record.deposit >= totalDue) pay = due
    else {
      pay = due.map((d) => (record.deposit * d) / totalDue)
      let rest = record.deposit - pay.reduce((s, p) => s + p, 0n)
      for (let i = 0; rest > 0n; i = (i + 1) % pay.length) {
        if (due[i]! > 0n) {
          pay[i]! += 1n
          rest -= 1n
        }
      }
    }
    const paid = pay.reduce((s, p) => s + p, 0n)
    const deposit = record.deposit - paid
    pay.forEach((amount, i) => {
      if (amount === 0n) return
      const host = record.placement[i]!
      const key = toHex(host)
      const entry = perHost.get(key)
      if (entry) entry.amount += amount
      else perHost.set(key, { to: host, amount })
    })
    paidTotal += paid
    let status = record.status
    let exhaustedEpoch = record.exhaustedEpoch
    if (status === ASSET_STATUS.active && deposit < epochCost) {
      status = ASSET_STATUS.graced
      exhaustedEpoch = epoch
    }
    if (status === ASSET_STATUS.graced && exhaustedEpoch !== undefined && epoch >= exhaustedEpoch + params.rentGraceEpochs) {
      status = ASSET_STATUS.expired
      expired.push(asset)
    }
    outcomes.push({ asset, deposit, status, exhaustedEpoch, paid })
  }
  const payouts = [...perHost.values()].sort((a, b) => compareBytes(a.to, b.to)).map((p) => ({ to: p.to, amount: p.amount }))
  return { payouts, assets: outcomes, expired, paidTotal }
}
