import type { Address, Hash } from '../../blocks/schema.ts'
import { concatBytes, u32be } from '../crypto/index.ts'

/**
 * State keys: one prefix byte per bucket, then the id. The prefixes are protocol constants (they
 * enter the state root): never renumber or reuse one.
 */
export const STATE_PREFIX = {
  account: 0x01,
  validator: 0x02,
  host: 0x03,
  asset: 0x04,
  execution: 0x05,
  assetKv: 0x06,
  supply: 0x07,
  reputationEvent: 0x08,
  meta: 0x09,
  executionQueue: 0x11,
  executionQueueEntry: 0x12,
  /** Executions whose input leaves state at a height: prefix | u32 height → ExecutionExpiry. */
  executionExpiry: 0x0a,
  /** The keys of a host's reputation events still in state, oldest first: prefix | host → ReputationLog. */
  reputationLog: 0x0b,
  /** Unbonding funds by release height (UnbondingBucket): released with one read per block. */
  unbonding: 0x0c,
  /** Per address: its unbonding release heights and slash tombstone (BondAccount); per (execution, host): a slashed receipt. */
  bonds: 0x0d,
  /** Audit index of active assets, dense so a sample is drawn from a count (storage/auditIndex.ts). */
  auditIndex: 0x0e,
  /** Placements waiting for storage acks, a queue in deadline order (storage/placementQueue.ts). */
  placementQueue: 0x0f,
  /** Which shards each host holds: prefix | host | asset | u8 shard index (storage/repairQueue.ts). */
  hostShards: 0x25,
  /** Assets with a lost shard, repaired by the next audit blocks whether sampled or not: prefix | asset. */
  repairQueue: 0x26,
  /** The beacon's running mix (one key, src/state/beaconState.ts). */
  beaconMix: 0x20,
  /** Per validator: its beacon chain's last revealed value, reveals made, chain generation (BeaconRecord). */
  beaconRecord: 0x21,
} as const

const one = (prefix: number, id: Uint8Array): Uint8Array => concatBytes(new Uint8Array([prefix]), id)

export const accountKey = (a: Address): Uint8Array => one(STATE_PREFIX.account, a)
export const validatorKey = (a: Address): Uint8Array => one(STATE_PREFIX.validator, a)
export const hostKey = (a: Address): Uint8Array => one(STATE_PREFIX.host, a)
export const assetKey = (id: Hash): Uint8Array => one(STATE_PREFIX.asset, id)
export const executionKey = (id: Hash): Uint8Array => one(STATE_PREFIX.execution, id)
/** The value of an index entry: presence is the information. */
export const INDEX_MARK = new Uint8Array(0)
export const assetKvKey = (asset: Hash, key: Uint8Array): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.assetKv]), asset, key)
export const executionExpiryKey = (height: number): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.executionExpiry]), u32be(height))
export const reputationLogKey = (host: Address): Uint8Array => one(STATE_PREFIX.reputationLog, host)
export const SUPPLY_KEY = new Uint8Array([STATE_PREFIX.supply])
/** The last epoch an audit block settled (u32). */
export const LAST_AUDIT_EPOCH_KEY = new Uint8Array([STATE_PREFIX.meta, 0x01])
export const BEACON_MIX_KEY = new Uint8Array([STATE_PREFIX.beaconMix])
export const beaconRecordKey = (a: Address): Uint8Array => one(STATE_PREFIX.beaconRecord, a)
/** The unbonding entries released at `height`. */
export const unbondingKey = (releaseHeight: number): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.unbonding]), u32be(releaseHeight))
/** Sub-buckets of STATE_PREFIX.bonds (second key byte). */
const BONDS_SUB = { account: 0x01, agreedResult: 0x02, receiptOffence: 0x03 } as const
export const bondAccountKey = (a: Address): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.bonds, BONDS_SUB.account]), a)
/** The result an execution settled with (AgreedResult): a later receipt that contradicts it is evidence. */
export const agreedResultKey = (executionId: Hash): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.bonds, BONDS_SUB.agreedResult]), executionId)
/** Marks a host's receipt for an execution as slashed, so that offence is punished once. */
export const receiptOffenceKey = (executionId: Hash, host: Address): Uint8Array => concatBytes(new Uint8Array([STATE_PREFIX.bonds, BONDS_SUB.receiptOffence]), executionId, host)
