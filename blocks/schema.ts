import { CodecError } from './errors.ts'
import { bool, bytes, bytes32, bytes64, list, optional, str, struct, u8, u16, u32, u64, u128, union, versioned, type Codec } from './codec.ts'

/**
 * Every wire type of the protocol, in one file. Field order is wire order; union tags are
 * protocol constants (never renumber or reuse a tag). Amounts are u128 bigints in base units,
 * fuel and timestamps u64 bigints, heights/slots/nonces u32 numbers.
 */

export type Hash = Uint8Array
export type Address = Uint8Array

export const PROTOCOL_VERSION = 1

// ---------- limits that shape the wire ----------
export const LIMITS = {
  chainId: 64,
  zone: 32,
  peerId: 256,
  fnName: 128,
  input: 1 << 20,
  output: 1 << 20,
  log: 64 * 1024,
  txsPerBlock: 10_000,
  entriesPerBlock: 10_000,
  proofBytes: 1 << 16,
  shards: 255,
  receipts: 64,
  writeSet: 10_000,
  stateKey: 256,
  stateValue: 64 * 1024,
  manifestSegments: 1 << 16,
  payouts: 1024,
  auditResults: 10_000,
} as const

const chainId = str(LIMITS.chainId, /^[a-z0-9][a-z0-9-]*$/)

export interface Coord { x: number; y: number; z: number }
export const Coord: Codec<Coord> = struct('Coord', { x: u32, y: u32, z: u32 })

export interface Payout { to: Address; amount: bigint }
export const Payout: Codec<Payout> = struct('Payout', { to: bytes32, amount: u128 })

// ---------- hosts ----------

/** Capability bits a host advertises; the router filters on them. */
export const CAPABILITY = { storage: 1, compute: 2, private: 4 } as const

export interface HostParams {
  coord: Coord
  zone: string
  capacityBytes: bigint
  capabilities: number
  askPerFuel: bigint
  askPerByteEpoch: bigint
  /** libp2p peer id of the host's node, so peers can reach it. */
  peerId: string
}
export const HostParams: Codec<HostParams> = struct('HostParams', {
  coord: Coord,
  zone: str(LIMITS.zone),
  capacityBytes: u64,
  capabilities: u32,
  askPerFuel: u128,
  askPerByteEpoch: u128,
  peerId: str(LIMITS.peerId),
})

// ---------- storage manifest ----------

export const ASSET_KIND = { blob: 0, module: 1, component: 2 } as const
export type AssetKind = keyof typeof ASSET_KIND

/**
 * What a deployment records about stored data: enough for any node to check every shard and
 * every audited chunk without the data. Shard i is the concatenation of shard i of every
 * segment; chunks are fixed-size pieces of a shard, the unit of audits.
 */
export interface Manifest {
  size: bigint
  dataHash: Hash
  k: number
  m: number
  segmentSize: number
  shardSize: bigint
  chunkSize: number
  shardHashes: Hash[]
  chunkRoots: Hash[]
}
export const Manifest: Codec<Manifest> = struct('Manifest', {
  size: u64,
  dataHash: bytes32,
  k: u8,
  m: u8,
  segmentSize: u32,
  shardSize: u64,
  chunkSize: u32,
  shardHashes: list(bytes32, LIMITS.shards),
  chunkRoots: list(bytes32, LIMITS.shards),
})

// ---------- transactions ----------

export type TxPayload =
  | { type: 'transfer'; to: Address; amount: bigint }
  | { type: 'host.join'; host: HostParams }
  | { type: 'host.update'; host: HostParams }
  | { type: 'host.leave' }
  | { type: 'stake'; amount: bigint }
  | { type: 'unstake'; amount: bigint }
  | {
      type: 'deploy'
      assetKind: number
      manifest: Manifest
      /** Storage rent deposit, paid out per byte-epoch to hosts that pass audits. */
      deposit: bigint
      /** Highest ask per byte-epoch the deployer accepts (the router's price filter). */
      bidPerByteEpoch: bigint
      origin: Coord
    }
  | {
      type: 'execute'
      asset: Hash
      fn: string
      input: Uint8Array
      fuelLimit: bigint
      bidPerFuel: bigint
      replicas: number
      quorum: number
      private: boolean
      deadlineSlots: number
      origin: Coord
    }

export const TxPayload: Codec<TxPayload> = union<TxPayload>('TxPayload', {
  transfer: { tag: 1, codec: struct('Transfer', { to: bytes32, amount: u128 }) },
  'host.join': { tag: 2, codec: struct('HostJoin', { host: HostParams }) },
  'host.update': { tag: 3, codec: struct('HostUpdate', { host: HostParams }) },
  'host.leave': { tag: 4, codec: struct('HostLeave', {}) },
  stake: { tag: 5, codec: struct('Stake', { amount: u128 }) },
  unstake: { tag: 6, codec: struct('Unstake', { amount: u128 }) },
  deploy: {
    tag: 7,
    codec: struct('Deploy', { assetKind: u8, manifest: Manifest, deposit: u128, bidPerByteEpoch: u128, origin: Coord }),
  },
  execute: {
    tag: 8,
    codec: struct('Execute', {
      asset: bytes32,
      fn: str(LIMITS.fnName),
      input: bytes({ max: LIMITS.input }),
      fuelLimit: u64,
      bidPerFuel: u128,
      replicas: u8,
      quorum: u8,
      private: bool,
      deadlineSlots: u32,
      origin: Coord,
    }),
  },
})

export type TxType = TxPayload['type']

export interface TxBody {
  chainId: string
  from: Address
  nonce: number
  fee: bigint
  payload: TxPayload
}
export const TxBody: Codec<TxBody> = versioned('TxBody', PROTOCOL_VERSION, struct('TxBodyFields', {
  chainId,
  from: bytes32,
  nonce: u32,
  fee: u128,
  payload: TxPayload,
}))

export interface SignedTx { body: TxBody; signature: Uint8Array }
export const SignedTx: Codec<SignedTx> = struct('SignedTx', { body: TxBody, signature: bytes64 })

// ---------- receipts and attestations ----------

/** How an execution ended on one host; identical on every honest host. */
export const OUTCOME = { ok: 0, trap: 1, outOfFuel: 2, limit: 3, invalid: 4 } as const

export interface ReceiptBody {
  chainId: string
  executionId: Hash
  host: Address
  outcome: number
  resultHash: Hash
  fuelUsed: bigint
  writeSetHash: Hash
  output: Uint8Array
}
export const ReceiptBody: Codec<ReceiptBody> = versioned('ReceiptBody', PROTOCOL_VERSION, struct('ReceiptFields', {
  chainId,
  executionId: bytes32,
  host: bytes32,
  outcome: u8,
  resultHash: bytes32,
  fuelUsed: u64,
  writeSetHash: bytes32,
  output: bytes({ max: LIMITS.output }),
}))

export interface Receipt { body: ReceiptBody; signature: Uint8Array }
export const Receipt: Codec<Receipt> = struct('Receipt', { body: ReceiptBody, signature: bytes64 })

/**
 * What a host gossips after an execution: its signed receipt and the write set the receipt's
 * writeSetHash commits to (the completion block carries the agreed write set).
 */
export interface ReceiptGossip { receipt: Receipt; writeSet: KvWrite[] }

export interface AttestationBody { chainId: string; height: number; blockHash: Hash; validator: Address }
export const AttestationBody: Codec<AttestationBody> = versioned('AttestationBody', PROTOCOL_VERSION, struct('AttestationFields', {
  chainId,
  height: u32,
  blockHash: bytes32,
  validator: bytes32,
}))

export interface Attestation { body: AttestationBody; signature: Uint8Array }
export const Attestation: Codec<Attestation> = struct('Attestation', { body: AttestationBody, signature: bytes64 })

// ---------- state writes ----------

/** One write of an asset's key-value state: value absent means delete. */
export interface KvWrite { key: Uint8Array; value: Uint8Array | undefined }
export const KvWrite: Codec<KvWrite> = struct('KvWrite', {
  key: bytes({ max: LIMITS.stateKey }),
  value: optional(bytes({ max: LIMITS.stateValue })),
})

export interface ReputationChange { host: Address; before: number; after: number; cause: number }
export const ReputationChange: Codec<ReputationChange> = struct('ReputationChange', { host: bytes32, before: u16, after: u16, cause: u8 })

export const ReceiptGossip: Codec<ReceiptGossip> = struct('ReceiptGossip', { receipt: Receipt, writeSet: list(KvWrite, LIMITS.writeSet) })

// ---------- block entries ----------

export const COMPLETION_STATUS = { agreed: 0, failed: 1 } as const
export const AUDIT_OUTCOME = { pass: 0, fail: 1, noAnswer: 2 } as const

export interface AuditResult {
  asset: Hash
  shardIndex: number
  host: Address
  chunkIndex: number
  outcome: number
  chunk: Uint8Array
  path: Hash[]
}
export const AuditResult: Codec<AuditResult> = struct('AuditResult', {
  asset: bytes32,
  shardIndex: u8,
  host: bytes32,
  chunkIndex: u32,
  outcome: u8,
  chunk: bytes({ max: 1 << 20 }),
  path: list(bytes32, 64),
})

export interface Repair { asset: Hash; shardIndex: number; from: Address; to: Address }
export const Repair: Codec<Repair> = struct('Repair', { asset: bytes32, shardIndex: u8, from: bytes32, to: bytes32 })

export type BlockEntry =
  | { type: 'genesis'; config: Uint8Array }
  | { type: 'tx'; tx: SignedTx }
  | { type: 'deployment'; tx: SignedTx; placement: Address[] }
  | { type: 'execution'; tx: SignedTx; assignment: Address[]; escrow: bigint }
  | {
      type: 'completion'
      executionId: Hash
      status: number
      outcome: number
      resultHash: Hash
      fuelUsed: bigint
      output: Uint8Array
      writeSet: KvWrite[]
      receipts: Receipt[]
      payouts: Payout[]
      refund: bigint
      burn: bigint
      reputation: ReputationChange[]
    }
  | {
      type: 'audit'
      epoch: number
      results: AuditResult[]
      repairs: Repair[]
      rent: Payout[]
      expired: Hash[]
      reputation: ReputationChange[]
    }

export const BlockEntry: Codec<BlockEntry> = union<BlockEntry>('BlockEntry', {
  genesis: { tag: 0, codec: struct('GenesisEntry', { config: bytes({ max: 1 << 24 }) }) },
  tx: { tag: 1, codec: struct('TxEntry', { tx: SignedTx }) },
  deployment: { tag: 2, codec: struct('DeploymentEntry', { tx: SignedTx, placement: list(bytes32, LIMITS.shards) }) },
  execution: { tag: 3, codec: struct('ExecutionEntry', { tx: SignedTx, assignment: list(bytes32, LIMITS.shards), escrow: u128 }) },
  completion: {
    tag: 4,
    codec: struct('CompletionEntry', {
      executionId: bytes32,
      status: u8,
      outcome: u8,
      resultHash: bytes32,
      fuelUsed: u64,
      output: bytes({ max: LIMITS.output }),
      writeSet: list(KvWrite, LIMITS.writeSet),
      receipts: list(Receipt, LIMITS.receipts),
      payouts: list(Payout, LIMITS.payouts),
      refund: u128,
      burn: u128,
      reputation: list(ReputationChange, LIMITS.receipts),
    }),
  },
  audit: {
    tag: 5,
    codec: struct('AuditEntry', {
      epoch: u32,
      results: list(AuditResult, LIMITS.auditResults),
      repairs: list(Repair, LIMITS.auditResults),
      rent: list(Payout, LIMITS.payouts),
      expired: list(bytes32, LIMITS.auditResults),
      reputation: list(ReputationChange, LIMITS.auditResults),
    }),
  },
})

// ---------- blocks ----------

export const BLOCK_KINDS = ['genesis', 'ledger', 'deployment', 'execution', 'completion', 'audit'] as const
export type BlockKind = (typeof BLOCK_KINDS)[number]
/** Which entry type each block kind carries. */
export const ENTRY_TYPE_OF_KIND: Record<BlockKind, BlockEntry['type']> = {
  genesis: 'genesis',
  ledger: 'tx',
  deployment: 'deployment',
  execution: 'execution',
  completion: 'completion',
  audit: 'audit',
}

const blockKind: Codec<BlockKind> = {
  name: 'BlockKind',
  toWire: (v) => {
    const i = BLOCK_KINDS.indexOf(v)
    if (i < 0) throw new RangeError(`unknown block kind ${v}`)
    return i
  },
  fromWire: (w, path) => {
    const i = u8.fromWire(w, path)
    const kind = BLOCK_KINDS[i]
    if (kind === undefined) throw new CodecError('UNKNOWN_TAG', `${path}: unknown block kind ${i}`, { path })
    return kind
  },
}

export interface Proof { scheme: string; data: Uint8Array }
export const Proof: Codec<Proof> = struct('Proof', { scheme: str(16, /^[a-z]+$/), data: bytes({ max: LIMITS.proofBytes }) })

export interface BlockHeader {
  chainId: string
  height: number
  prevHash: Hash
  kind: BlockKind
  slot: number
  timestamp: bigint
  proposer: Address
  bodyRoot: Hash
  stateRoot: Hash
  proofs: Proof[]
  signature: Uint8Array
}

const headerFields = {
  chainId,
  height: u32,
  prevHash: bytes32,
  kind: blockKind,
  slot: u32,
  timestamp: u64,
  proposer: bytes32,
  bodyRoot: bytes32,
  stateRoot: bytes32,
}

export const BlockHeader: Codec<BlockHeader> = versioned('BlockHeader', PROTOCOL_VERSION, struct('BlockHeaderFields', {
  ...headerFields,
  proofs: list(Proof, 8),
  signature: bytes64,
}))

/** The header without proofs and signature: what proofs commit to (work's nonce search hashes this). */
export type SealFields = Omit<BlockHeader, 'proofs' | 'signature'>
export const SealFields: Codec<SealFields> = versioned('SealFields', PROTOCOL_VERSION, struct('SealFieldsFields', headerFields))

/** The header without the signature: what the proposer signs. */
export type UnsignedHeader = Omit<BlockHeader, 'signature'>
export const UnsignedHeader: Codec<UnsignedHeader> = versioned('UnsignedHeader', PROTOCOL_VERSION, struct('UnsignedHeaderFields', {
  ...headerFields,
  proofs: list(Proof, 8),
}))

export interface Block { header: BlockHeader; entries: BlockEntry[] }
export const Block: Codec<Block> = struct('Block', { header: BlockHeader, entries: list(BlockEntry, LIMITS.entriesPerBlock) })

// ---------- genesis ----------

export interface ConsensusConfig {
  /** Proof schemes every block must carry, in this order. */
  schemes: string[]
  /** Max distance (ms) between a header timestamp and its slot start. */
  driftMs: number
  /** time: sequential sha256 iterations and checkpoints per block. */
  timeIterations: number
  timeCheckpoints: number
  /** work: required leading zero bits of the work hash. */
  workBits: number
  /** space: plot size in 32-byte entries (power of two) and lookups per proof. */
  spacePlotEntries: number
  spaceLookups: number
}
export const ConsensusConfig: Codec<ConsensusConfig> = struct('ConsensusConfig', {
  schemes: list(str(16, /^[a-z]+$/), 8),
  driftMs: u32,
  timeIterations: u32,
  timeCheckpoints: u8,
  workBits: u8,
  spacePlotEntries: u32,
  spaceLookups: u8,
})

/** Protocol parameters the state transition reads. All integers; *Bp are basis points. */
export interface ChainParams {
  dataShards: number
  parityShards: number
  chunkSize: number
  segmentSize: number
  auditEpochSlots: number
  auditFailThreshold: number
  rentGraceEpochs: number
  gridSize: number
  privatePremiumBp: number
  firstReceiptBonusBp: number
  proposerFeeBp: number
  storageUtilizationSlopeBp: number
  reputationInitialBp: number
  reputationAlphaBp: number
  reputationSuspendBp: number
  reputationDisqualifyBp: number
  minStake: bigint
  maxFuelLimit: bigint
  maxReplicas: number
  maxModuleBytes: number
}
export const ChainParams: Codec<ChainParams> = struct('ChainParams', {
  dataShards: u8,
  parityShards: u8,
  chunkSize: u32,
  segmentSize: u32,
  auditEpochSlots: u32,
  auditFailThreshold: u8,
  rentGraceEpochs: u32,
  gridSize: u32,
  privatePremiumBp: u32,
  firstReceiptBonusBp: u32,
  proposerFeeBp: u32,
  storageUtilizationSlopeBp: u32,
  reputationInitialBp: u16,
  reputationAlphaBp: u16,
  reputationSuspendBp: u16,
  reputationDisqualifyBp: u16,
  minStake: u128,
  maxFuelLimit: u64,
  maxReplicas: u8,
  maxModuleBytes: u32,
})

export interface GenesisConfig {
  chainId: string
  genesisTime: bigint
  slotMs: number
  tokenSymbol: string
  tokenDecimals: number
  allocations: Payout[]
  validators: { address: Address; stake: bigint; peerId: string }[]
  consensus: ConsensusConfig
  params: ChainParams
}
export const GenesisConfig: Codec<GenesisConfig> = versioned('GenesisConfig', PROTOCOL_VERSION, struct('GenesisConfigFields', {
  chainId,
  genesisTime: u64,
  slotMs: u32,
  tokenSymbol: str(16),
  tokenDecimals: u8,
  allocations: list(Payout, 10_000),
  validators: list(struct('GenesisValidator', { address: bytes32, stake: u128, peerId: str(LIMITS.peerId) }), 1024),
  consensus: ConsensusConfig,
  params: ChainParams,
}))

