import { bool, bytes, bytes32, type Infer, list, optional, str, struct, u8, u16, u32, u64, u128 } from '../../blocks/codec.ts'
import { Coord, HostParams, LIMITS, Manifest } from '../../blocks/schema.ts'

/**
 * The records the state holds, keyed by `stateKey`. Each is encoded canonically; the chained
 * state root commits to the sorted (key, value) write set of every block.
 */

export const Account = struct('Account', { balance: u128, nonce: u32 })
export type Account = Infer<typeof Account>

export const Validator = struct('Validator', { stake: u128, peerId: str(LIMITS.peerId) })
export type Validator = Infer<typeof Validator>

export const HOST_STATUS = { active: 0, draining: 1, suspended: 2, disqualified: 3, left: 4 } as const
export type HostStatus = (typeof HOST_STATUS)[keyof typeof HOST_STATUS]

export const HostRecord = struct('HostRecord', {
  params: HostParams,
  /** Integer basis points 0..10000. */
  reputation: u16,
  /** HOST_STATUS */
  status: u8,
  usedBytes: u64,
  joinedHeight: u32,
  /** Consecutive failed audits per shard held, summed: the repair trigger reads it. */
  failedAudits: u32,
  /** Locked by host.join (hostBondBase + hostBondPerGiB × capacity); slashable; unbonds on host.leave. */
  bond: u128,
  /** Audits passed plus receipts that agreed with the quorum: vetted at `vettingPasses`. */
  passedChecks: u32,
})
export type HostRecord = Infer<typeof HostRecord>

/**
 * placing: deployed, waiting for its hosts' storage acks (not audited, no rent); refunded: its
 * placement never reached k+1 acknowledged shards and the deposit went back to the owner.
 */
export const ASSET_STATUS = { active: 0, graced: 1, expired: 2, placing: 3, refunded: 4 } as const

export const AssetRecord = struct('AssetRecord', {
  owner: bytes32,
  /** ASSET_KIND (blocks/schema.ts) */
  kind: u8,
  manifest: Manifest,
  /** Host holding shard i. */
  placement: list(bytes32, LIMITS.shards),
  /** Consecutive failed audits of shard i on its current host. */
  shardFailures: list(u8, LIMITS.shards),
  deposit: u128,
  bidPerByteEpoch: u128,
  createdHeight: u32,
  /** ASSET_STATUS */
  status: u8,
  /** Epoch in which the deposit ran out (grace starts), if it did. */
  exhaustedEpoch: optional(u32),
  /** The deploy's zone allow-list (empty: any): repairs stay inside it too. */
  zones: list(str(LIMITS.zone), LIMITS.zoneAllowList),
  /** First audit epoch whose rent is unpaid (the deploy's epoch at first); a sampled audit pays rentEpoch..its epoch. */
  rentEpoch: optional(u32),
  /** acked[i] = 1 once shard i's current host signed a storage ack; only acknowledged shards are audited. Empty on records from before acks (all treated as acknowledged). */
  acked: list(u8, LIMITS.shards),
  /** Height by which a placing asset's acks must be in (then it is re-placed or refunded). */
  ackDeadline: optional(u32),
})
export type AssetRecord = Infer<typeof AssetRecord>

export const EXECUTION_STATUS = { pending: 0, completed: 1, failed: 2 } as const

/** What an execution settled with (status agreed), kept so a contradicting receipt can be judged after settlement. */
export const AgreedResult = struct('AgreedResult', {
  /** OUTCOME (blocks/schema.ts) */
  outcome: u8,
  resultHash: bytes32,
  fuelUsed: u64,
  settledHeight: u32,
})
export type AgreedResult = Infer<typeof AgreedResult>

// Repeats the Execute payload's fields (blocks/schema.ts) on purpose: tx bytes and state bytes are two protocol layouts, so neither codec derives from the other.
export const ExecutionRecord = struct('ExecutionRecord', {
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
  /** EXECUTION_STATUS */
  status: u8,
  origin: Coord,
  /** Position in the asset's execution queue (src/state/executionQueue.ts): settled strictly in this order. */
  seq: u64,
  /** Set when it settled with status agreed (settleAgreedResult.ts): a later contradicting receipt is judged against it. */
  agreed: optional(AgreedResult),
})
export type ExecutionRecord = Infer<typeof ExecutionRecord>

/** Reputation history: one event per change, with its cause, queryable per host. */
export const ReputationEvent = struct('ReputationEvent', {
  height: u32,
  /** REPUTATION_CAUSE (blocks/schema.ts) */
  cause: u8,
  before: u16,
  after: u16,
  subject: bytes32,
})
export type ReputationEvent = Infer<typeof ReputationEvent>

/** The executions settled `executionRetentionHeights` before a height: their inputs leave state at it. */
export const ExecutionExpiry = struct('ExecutionExpiry', { executions: list(bytes32, LIMITS.entriesPerBlock) })
export type ExecutionExpiry = Infer<typeof ExecutionExpiry>

/** A host's last reputation events, oldest first (chain order); bounded by reputationHistoryLimit. */
export const ReputationHistory = struct('ReputationHistory', { events: list(ReputationEvent, 1 << 16) })
export type ReputationHistory = Infer<typeof ReputationHistory>

export const SupplyRecord = struct('SupplyRecord', { total: u128, burned: u128 })
export type SupplyRecord = Infer<typeof SupplyRecord>


/** What an unbonding entry holds. */
export const BOND_KIND = { validatorStake: 0, hostBond: 1 } as const

/** Funds on their way back to `owner`: slashable until the bucket's release height. */
export const UnbondingEntry = struct('UnbondingEntry', {
  owner: bytes32,
  /** BOND_KIND */
  kind: u8,
  amount: u128,
  /** Height at which the funds left the bond: offences from this height on still reach them. */
  startHeight: u32,
})
export type UnbondingEntry = Infer<typeof UnbondingEntry>

/** Every entry released at one height (the key's height), in insertion order. */
export const UnbondingBucket = struct('UnbondingBucket', { entries: list(UnbondingEntry, 1 << 20) })
export type UnbondingBucket = Infer<typeof UnbondingBucket>

/** Per address: where its unbonding funds sit, and whether it was slashed as a validator (tombstone). */
export const BondAccount = struct('BondAccount', {
  /** Release heights of buckets holding its entries, ascending, no duplicates. */
  releaseHeights: list(u32, 1 << 16),
  /** Height of the block whose evidence slashed it as a validator: it may never stake again. */
  slashedAtHeight: optional(u32),
})
export type BondAccount = Infer<typeof BondAccount>


/** Per asset: its execution queue (src/state/executionQueue.ts explains the rule). */
export const ExecutionQueue = struct('ExecutionQueue', {
  /** The sequence number the next execution of this asset gets. */
  nextSeq: u64,
  /** The oldest unsettled execution: the only one a completion may settle. */
  headSeq: u64,
  /** The slot at which the current head became the head (its deadline runs from there at the latest). */
  headSinceSlot: u32,
  stateHash: bytes32,
})
export type ExecutionQueue = Infer<typeof ExecutionQueue>

/** Per validator: where its beacon hash chain stands (src/state/beaconState.ts). */
export const BeaconRecord = struct('BeaconRecord', {
  lastRevealed: bytes32,
  /** Reveals made from this chain; the chain is exhausted at ChainParams.beaconChainLength. */
  revealed: u32,
  /** 0 for the genesis chain, +1 per `validator.beacon` re-commit (seeds a restarted node's chain). */
  generation: u32,
})
export type BeaconRecord = Infer<typeof BeaconRecord>
