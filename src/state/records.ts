import { bool, bytes, bytes32, list, optional, str, struct, u8, u16, u32, u64, u128, type Codec } from '../../blocks/codec.ts'
import { Coord, HostParams, LIMITS, Manifest, type Address, type Hash } from '../../blocks/schema.ts'

/**
 * The records the state holds, keyed by `stateKey`. Each is encoded canonically; the chained
 * state root commits to the sorted (key, value) write set of every block.
 */

export interface Account { balance: bigint; nonce: number }
export const Account: Codec<Account> = struct('Account', { balance: u128, nonce: u32 })

export interface Validator { stake: bigint; peerId: string }
export const Validator: Codec<Validator> = struct('Validator', { stake: u128, peerId: str(LIMITS.peerId) })

export const HOST_STATUS = { active: 0, draining: 1, suspended: 2, disqualified: 3, left: 4 } as const
export type HostStatus = (typeof HOST_STATUS)[keyof typeof HOST_STATUS]

export interface HostRecord {
  params: HostParams
  /** Integer basis points 0..10000. */
  reputation: number
  status: number
  usedBytes: bigint
  joinedHeight: number
  /** Consecutive failed audits per shard held, summed: the repair trigger reads it. */
  failedAudits: number
}
export const HostRecord: Codec<HostRecord> = struct('HostRecord', {
  params: HostParams,
  reputation: u16,
  status: u8,
  usedBytes: u64,
  joinedHeight: u32,
  failedAudits: u32,
})

export const ASSET_STATUS = { active: 0, graced: 1, expired: 2 } as const

export interface AssetRecord {
  owner: Address
  kind: number
  manifest: Manifest
  /** Host holding shard i. */
  placement: Address[]
  /** Consecutive failed audits of shard i on its current host. */
  shardFailures: number[]
  deposit: bigint
  bidPerByteEpoch: bigint
  createdHeight: number
  status: number
  /** Epoch in which the deposit ran out (grace starts), if it did. */
  exhaustedEpoch: number | undefined
}
export const AssetRecord: Codec<AssetRecord> = struct('AssetRecord', {
  owner: bytes32,
  kind: u8,
  manifest: Manifest,
  placement: list(bytes32, LIMITS.shards),
  shardFailures: list(u8, LIMITS.shards),
  deposit: u128,
  bidPerByteEpoch: u128,
  createdHeight: u32,
  status: u8,
  exhaustedEpoch: optional(u32),
})

export const EXECUTION_STATUS = { pending: 0, completed: 1, failed: 2 } as const

export interface ExecutionRecord {
  client: Address
  asset: Hash
  fn: string
  input: Uint8Array
  fuelLimit: bigint
  bidPerFuel: bigint
  replicas: number
  quorum: number
  private: boolean
  assignment: Address[]
  escrow: bigint
  startSlot: number
  deadlineSlot: number
  status: number
  origin: Coord
}
export const ExecutionRecord: Codec<ExecutionRecord> = struct('ExecutionRecord', {
  client: bytes32,
  asset: bytes32,
  fn: str(LIMITS.fnName),
  input: bytes({ max: LIMITS.input }),
  fuelLimit: u64,
  bidPerFuel: u128,
  replicas: u8,
  quorum: u8,
  private: bool,
  assignment: list(bytes32, LIMITS.shards),
  escrow: u128,
  startSlot: u32,
  deadlineSlot: u32,
  status: u8,
  origin: Coord,
})

/** Reputation history: one event per change, with its cause, queryable per host. */
export const REPUTATION_CAUSE = { auditPass: 0, auditFail: 1, auditNoAnswer: 2, receiptAgreed: 3, receiptDissent: 4, noShow: 5 } as const

export interface ReputationEvent { height: number; cause: number; before: number; after: number; subject: Hash }
export const ReputationEvent: Codec<ReputationEvent> = struct('ReputationEvent', {
  height: u32,
  cause: u8,
  before: u16,
  after: u16,
  subject: bytes32,
})

export interface SupplyRecord { total: bigint; burned: bigint }
export const SupplyRecord: Codec<SupplyRecord> = struct('SupplyRecord', { total: u128, burned: u128 })

