import { Evidence } from '../consensus/bft/messages.ts'
import { bool, bytes, bytes32, bytes64, enumOf, type Infer, list, optional, str, struct, u8, u16, u32, u64, u128, union, versioned } from './codec.ts'
import { PROTOCOL_VERSION } from './protocolVersion.ts'

/**
 * Every wire type of the protocol, in one file. Field order is wire order; union tags are
 * protocol constants (never renumber or reuse a tag). Amounts are u128 bigints in base units,
 * fuel and timestamps u64 bigints, heights/slots/nonces u32 numbers.
 *
 * Each codec is the one description of its type: the TypeScript type is inferred from it
 * (`type Manifest = Infer<typeof Manifest>`) and the JSON-RPC form is derived from it
 * (src/rpc/jsonWireOf.ts). Codes carried in u8 fields (outcomes, statuses) are named here,
 * next to the type that carries them.
 */

export type Hash = Uint8Array
export type Address = Uint8Array

export { PROTOCOL_VERSION }

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
  /** Zones one request may allow (Deploy/Execute `zones`). */
  zoneAllowList: 16,
  /** Offences one block carries at most (each costs two signature checks). */
  offencesPerBlock: 64,
  storageAcks: 4096,
  /** Host heartbeats one liveness entry carries (~101 bytes each: ~100 KB, 1024 signature checks). */
  heartbeatsPerBlock: 1024,
} as const

const chainId = str(LIMITS.chainId, /^[a-z0-9][a-z0-9-]*$/)

export const Coord = struct('Coord', { x: u32, y: u32, z: u32 })
export type Coord = Infer<typeof Coord>

export const Payout = struct('Payout', { to: bytes32, amount: u128 })
export type Payout = Infer<typeof Payout>

// ---------- hosts ----------

/** Capability bits a host advertises; the router filters on them. */
export const CAPABILITY = { storage: 1, compute: 2, private: 4 } as const

/**
 * How a request ranks hosts into the band its placement is drawn from (docs/router.md):
 * balanced mixes distance, reputation, price and fullness; the others weigh distance against one.
 */
export const ROUTE_STRATEGY = { balanced: 0, nearest: 1, cheapest: 2, reputation: 3 } as const
export type RouteStrategy = keyof typeof ROUTE_STRATEGY

export const HostParams = struct('HostParams', {
  coord: Coord,
  zone: str(LIMITS.zone),
  capacityBytes: u64,
  /** CAPABILITY bits. */
  capabilities: u32,
  askPerFuel: u128,
  askPerByteEpoch: u128,
  /** libp2p peer id of the host's node, so peers can reach it. */
  peerId: str(LIMITS.peerId),
  /** Memory the host offers one guest; executions asking for more are never assigned to it. */
  memoryBytes: u64,
  /**
   * X25519 public key clients wrap private executions' keys to (src/crypto/privateExecutionCipher.ts);
   * absent: the host takes no private executions (state requires it with CAPABILITY.private).
   */
  encryptionKey: optional(bytes32),
})
export type HostParams = Infer<typeof HostParams>

// ---------- storage manifest ----------

export const ASSET_KIND = { blob: 0, module: 1, component: 2 } as const
export type AssetKind = keyof typeof ASSET_KIND

/**
 * What a deployment records about stored data: enough for any node to check every shard and
 * every audited chunk without the data. Shard i is the concatenation of shard i of every
 * segment; chunks are fixed-size pieces of a shard, the unit of audits.
 */
export const Manifest = struct('Manifest', {
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
export type Manifest = Infer<typeof Manifest>

// ---------- transactions ----------

export const TxPayload = union('TxPayload', {
  transfer: { tag: 1, codec: struct('Transfer', { to: bytes32, amount: u128 }) },
  'host.join': { tag: 2, codec: struct('HostJoin', { host: HostParams }) },
  'host.update': { tag: 3, codec: struct('HostUpdate', { host: HostParams }) },
  'host.leave': { tag: 4, codec: struct('HostLeave', {}) },
  stake: { tag: 5, codec: struct('Stake', { amount: u128 }) },
  unstake: { tag: 6, codec: struct('Unstake', { amount: u128 }) },
  deploy: {
    tag: 7,
    codec: struct('Deploy', {
      /** ASSET_KIND */
      assetKind: u8,
      manifest: Manifest,
      /** Storage rent deposit, paid out per byte-epoch to hosts that pass audits. */
      deposit: u128,
      /** Highest ask per byte-epoch the deployer accepts (the router's price filter). */
      bidPerByteEpoch: u128,
      origin: Coord,
      /** Hard allow-list of host zones (empty: any zone); the router never places outside it. */
      zones: list(str(LIMITS.zone), LIMITS.zoneAllowList),
      /** ROUTE_STRATEGY: which hosts form the band the placement is drawn from. */
      strategy: u8,
    }),
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
      /** Hard allow-list of host zones (empty: any zone); the router never assigns outside it. */
      zones: list(str(LIMITS.zone), LIMITS.zoneAllowList),
      /** ROUTE_STRATEGY: which hosts form the band the assignment is drawn from. */
      strategy: u8,
      /** Memory the guest may need; only hosts declaring at least this much are assigned (0: any). */
      minMemoryBytes: u64,
    }),
  },
  /** Anyone tops up a stored asset's deposit (a graced asset whose deposit covers an epoch again is active). */
  'asset.extend': { tag: 9, codec: struct('AssetExtend', { asset: bytes32, amount: u128 }) },
  /** The owner deletes a stored asset: the unspent deposit is refunded, hosts drop its shards, its state is removed. */
  'asset.delete': { tag: 10, codec: struct('AssetDelete', { asset: bytes32 }) },
  /**
   * A validator (re-)commits to the tip of a new beacon hash chain (consensus/beacon.ts): how a
   * validator that joined by staking starts revealing, and how one whose chain is exhausted goes on.
   */
  'validator.beacon': { tag: 11, codec: struct('ValidatorBeacon', { commitment: bytes32 }) },
})

export type TxPayload = Infer<typeof TxPayload>
export type TxType = TxPayload['type']
/** The payload of one tx type, e.g. `PayloadOf<'transfer'>`. */
export type PayloadOf<K extends TxType> = Extract<TxPayload, { type: K }>
export type DeployPayload = PayloadOf<'deploy'>
export type ExecutePayload = PayloadOf<'execute'>

export const TxBody = versioned('TxBody', PROTOCOL_VERSION, struct('TxBodyFields', {
  chainId,
  from: bytes32,
  nonce: u32,
  fee: u128,
  payload: TxPayload,
}))
export type TxBody = Infer<typeof TxBody>

export const SignedTx = struct('SignedTx', { body: TxBody, signature: bytes64 })
export type SignedTx = Infer<typeof SignedTx>

// ---------- receipts and attestations ----------

/** How an execution ended on one host; identical on every honest host. */
export const OUTCOME = { ok: 0, trap: 1, outOfFuel: 2, limit: 3, invalid: 4 } as const

export const ReceiptBody = versioned('ReceiptBody', PROTOCOL_VERSION, struct('ReceiptFields', {
  chainId,
  executionId: bytes32,
  host: bytes32,
  /** OUTCOME */
  outcome: u8,
  resultHash: bytes32,
  fuelUsed: u64,
  writeSetHash: bytes32,
  output: bytes({ max: LIMITS.output }),
  /**
   * The asset state the host ran on (ExecutionQueue.stateHash, src/state/executionQueue.ts): a
   * completion takes only receipts computed on the state its predecessor left.
   */
  preStateHash: bytes32,
}))
export type ReceiptBody = Infer<typeof ReceiptBody>

export const Receipt = struct('Receipt', { body: ReceiptBody, signature: bytes64 })
export type Receipt = Infer<typeof Receipt>

// Alike in shape only to TxBody/SignedTx above: separate wire types whose field lists are their byte forms.
export const AttestationBody = versioned('AttestationBody', PROTOCOL_VERSION, struct('AttestationFields', {
  chainId,
  height: u32,
  blockHash: bytes32,
  validator: bytes32,
}))
export type AttestationBody = Infer<typeof AttestationBody>

export const Attestation = struct('Attestation', { body: AttestationBody, signature: bytes64 })
export type Attestation = Infer<typeof Attestation>

// ---------- private executions: key delivery ----------

/** One assigned host's copy of a private execution's key K, wrapped to its X25519 key (src/compute/privateExecutionCipher.ts). */
export const WrappedExecutionKey = struct('WrappedExecutionKey', { host: bytes32, wrapped: bytes({ max: 64 }) })
export type WrappedExecutionKey = Infer<typeof WrappedExecutionKey>

/**
 * The second delivery step of a private execution: once its assignment is on chain, the client
 * wraps K to each assigned host under one ephemeral X25519 key and signs the lot. Off chain only
 * (RPC, then gossip on `executionKeys`); only wrapped keys travel.
 */
export const ExecutionKeysBody = versioned('ExecutionKeysBody', PROTOCOL_VERSION, struct('ExecutionKeysFields', {
  chainId,
  executionId: bytes32,
  ephemeralKey: bytes32,
  keys: list(WrappedExecutionKey, LIMITS.shards),
}))
export type ExecutionKeysBody = Infer<typeof ExecutionKeysBody>

/** Signed by the execution's client (its tx's `from`): only it can deliver keys for its execution. */
export const ExecutionKeys = struct('ExecutionKeys', { body: ExecutionKeysBody, signature: bytes64 })
export type ExecutionKeys = Infer<typeof ExecutionKeys>

// ---------- state writes ----------

/** One write of an asset's key-value state: value absent means delete. */
export const KvWrite = struct('KvWrite', {
  key: bytes({ max: LIMITS.stateKey }),
  value: optional(bytes({ max: LIMITS.stateValue })),
})
export type KvWrite = Infer<typeof KvWrite>

/** Why a host's reputation moved (carried by block entries and by the state's reputation history). */
export const REPUTATION_CAUSE = { auditPass: 0, auditFail: 1, auditNoAnswer: 2, receiptAgreed: 3, receiptDissent: 4, noShow: 5, livenessMiss: 6 } as const

export const ReputationChange = struct('ReputationChange', {
  host: bytes32,
  before: u16,
  after: u16,
  /** REPUTATION_CAUSE */
  cause: u8,
})
export type ReputationChange = Infer<typeof ReputationChange>

/**
 * What a host gossips after an execution: its signed receipt and the write set the receipt's
 * writeSetHash commits to (the completion block carries the agreed write set).
 */
export const ReceiptGossip = struct('ReceiptGossip', { receipt: Receipt, writeSet: list(KvWrite, LIMITS.writeSet) })
export type ReceiptGossip = Infer<typeof ReceiptGossip>

// ---------- block entries ----------

export const COMPLETION_STATUS = { agreed: 0, failed: 1 } as const
export const AUDIT_OUTCOME = { pass: 0, fail: 1, noAnswer: 2 } as const

export const AuditResult = struct('AuditResult', {
  asset: bytes32,
  shardIndex: u8,
  host: bytes32,
  chunkIndex: u32,
  /** AUDIT_OUTCOME */
  outcome: u8,
  chunk: bytes({ max: 1 << 20 }),
  path: list(bytes32, 64),
})
export type AuditResult = Infer<typeof AuditResult>

/**
 * A host's signed statement that it received and stored shard `shardIndex` of `asset` with hash
 * `shardHash` (blocks/ids.ts storageAckSigningHash); placement becomes active on these.
 */
export const StorageAckBody = struct('StorageAckBody', { chainId, asset: bytes32, shardIndex: u8, shardHash: bytes32, host: bytes32 })
export type StorageAckBody = Infer<typeof StorageAckBody>
export const StorageAck = struct('StorageAck', { body: StorageAckBody, signature: bytes64 })
export type StorageAck = Infer<typeof StorageAck>

/**
 * A host's proof of life for one liveness epoch (src/state/storage/livenessState.ts): its signature
 * over computeHeartbeatSigningHash(chainId, epoch, the epoch's beacon mix, host). The entry carries
 * the epoch once; gossip carries it per heartbeat.
 */
export const Heartbeat = struct('Heartbeat', { host: bytes32, signature: bytes64 })
export type Heartbeat = Infer<typeof Heartbeat>
export const SignedHeartbeat = struct('SignedHeartbeat', { epoch: u32, host: bytes32, signature: bytes64 })
export type SignedHeartbeat = Infer<typeof SignedHeartbeat>

export const Repair = struct('Repair', { asset: bytes32, shardIndex: u8, from: bytes32, to: bytes32 })
export type Repair = Infer<typeof Repair>

/**
 * Proof of misbehaviour that anyone can check and any proposer can include: a validator's
 * equivocation (two conflicting signed votes or proposals, consensus/evidence.ts), or a host's
 * signed receipt that contradicts the result its execution settled with (even one that arrives
 * after settlement). Applying it slashes the offender once (src/state/applyEvidence.ts).
 */
export const Offence = union('Offence', {
  equivocation: { tag: 0, codec: struct('EquivocationOffence', { evidence: Evidence }) },
  contradictingReceipt: { tag: 1, codec: struct('ContradictingReceiptOffence', { receipt: Receipt }) },
})
export type Offence = Infer<typeof Offence>

export const BlockEntry = union('BlockEntry', {
  genesis: { tag: 0, codec: struct('GenesisEntry', { config: bytes({ max: 1 << 24 }) }) },
  tx: { tag: 1, codec: struct('TxEntry', { tx: SignedTx }) },
  deployment: { tag: 2, codec: struct('DeploymentEntry', { tx: SignedTx, placement: list(bytes32, LIMITS.shards) }) },
  execution: { tag: 3, codec: struct('ExecutionEntry', { tx: SignedTx, assignment: list(bytes32, LIMITS.shards), escrow: u128 }) },
  completion: {
    tag: 4,
    codec: struct('CompletionEntry', {
      executionId: bytes32,
      /** COMPLETION_STATUS */
      status: u8,
      /** OUTCOME the agreeing receipts report; OUTCOME.ok when status is failed */
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
  /** Rides in ledger blocks, before their txs (blocks/validateBlock.ts). */
  evidence: { tag: 6, codec: struct('EvidenceEntry', { offence: Offence }) },
  storageAck: { tag: 7, codec: struct('StorageAckEntry', { acks: list(StorageAck, LIMITS.storageAcks) }) },
  /** Hosts' heartbeats of the open liveness epoch, hosts in strictly increasing order; first entry of a non-audit block. */
  liveness: { tag: 8, codec: struct('LivenessEntry', { epoch: u32, heartbeats: list(Heartbeat, LIMITS.heartbeatsPerBlock) }) },
})
export type BlockEntry = Infer<typeof BlockEntry>
export type EntryType = BlockEntry['type']
/** The entry of one type, e.g. `EntryOf<'completion'>` (named below for each type). */
export type EntryOf<K extends EntryType> = Extract<BlockEntry, { type: K }>
export type GenesisEntry = EntryOf<'genesis'>
export type TxEntry = EntryOf<'tx'>
export type DeploymentEntry = EntryOf<'deployment'>
export type ExecutionEntry = EntryOf<'execution'>
export type CompletionEntry = EntryOf<'completion'>
export type AuditEntry = EntryOf<'audit'>
export type EvidenceEntry = EntryOf<'evidence'>
export type StorageAckEntry = EntryOf<'storageAck'>
export type LivenessEntry = EntryOf<'liveness'>

// ---------- blocks ----------

export const BLOCK_KINDS = ['genesis', 'ledger', 'deployment', 'execution', 'completion', 'audit', 'storage'] as const
export type BlockKind = (typeof BLOCK_KINDS)[number]
/** Which entry type each block kind carries. */
export const ENTRY_TYPE_OF_KIND: Record<BlockKind, BlockEntry['type']> = {
  genesis: 'genesis',
  ledger: 'tx',
  deployment: 'deployment',
  execution: 'execution',
  completion: 'completion',
  audit: 'audit',
  storage: 'storageAck',
}

const blockKind = enumOf('block kind', BLOCK_KINDS)

export const Proof = struct('Proof', { scheme: str(16, /^[a-z]+$/), data: bytes({ max: LIMITS.proofBytes }) })
export type Proof = Infer<typeof Proof>

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
  /** Base fee per tx byte this block charges (burned); follows the parent's fullness (src/state/fees.ts). */
  baseFee: u128,
  /** Encoded bytes of the txs this block carries: what the next block's base fee follows. */
  txBytes: u32,
  /** The BFT round this block was built for: `proposer` must be that round's proposer (consensus/proposerPriority.ts). */
  round: u32,
  /** The proposer's next beacon preimage (hash(reveal) = its last revealed value); zero when it has no live chain. */
  beaconReveal: bytes32,
}

export const BlockHeader = versioned('BlockHeader', PROTOCOL_VERSION, struct('BlockHeaderFields', {
  ...headerFields,
  proofs: list(Proof, 8),
  signature: bytes64,
}))
export type BlockHeader = Infer<typeof BlockHeader>

/** The header without proofs and signature: what proofs commit to (work's nonce search hashes this). */
export const SealFields = versioned('SealFields', PROTOCOL_VERSION, struct('SealFieldsFields', headerFields))
export type SealFields = Infer<typeof SealFields>

/** The header without the signature: what the proposer signs. */
export const UnsignedHeader = versioned('UnsignedHeader', PROTOCOL_VERSION, struct('UnsignedHeaderFields', {
  ...headerFields,
  proofs: list(Proof, 8),
}))
export type UnsignedHeader = Infer<typeof UnsignedHeader>

export const Block = struct('Block', { header: BlockHeader, entries: list(BlockEntry, LIMITS.entriesPerBlock) })
export type Block = Infer<typeof Block>

// ---------- genesis ----------

export const ConsensusConfig = struct('ConsensusConfig', {
  /** Proof schemes every block must carry, in this order. */
  schemes: list(str(16, /^[a-z]+$/), 8),
  /** Max distance (ms) between a header timestamp and its slot start. */
  driftMs: u32,
  /** time: sequential sha256 iterations and checkpoints per block. */
  timeIterations: u32,
  timeCheckpoints: u8,
  /** work: required leading zero bits of the work hash. */
  workBits: u8,
  /** space: plot size in 32-byte entries (power of two) and lookups per proof. */
  spacePlotEntries: u32,
  spaceLookups: u8,
})
export type ConsensusConfig = Infer<typeof ConsensusConfig>

/** Protocol parameters the state transition reads. All integers; *Bp are basis points. */
export const ChainParams = struct('ChainParams', {
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
  /** Placement (docs/router.md): the band is at least this many best-ranked vetted hosts. */
  placementBandHosts: u16,
  /** Passed audits plus agreed receipts after which a host is vetted. */
  vettingPasses: u32,
  /** Share of placement slots (basis points) offered to unvetted hosts while vetted ones suffice. */
  unvettedShareBp: u16,
  /** Fees (docs/economics.md): a tx pays at least its size × (base fee + minFeePerByte). */
  minFeePerByte: u128,
  /** Bounds of the base fee per byte; the genesis block starts at minBaseFee. */
  minBaseFee: u128,
  maxBaseFee: u128,
  /** Tx bytes per block the base fee aims at: above it the base fee rises (≤ 12.5%), below it falls. */
  targetBlockTxBytes: u32,
  /** The least balance an account may be created with or left with by its own tx. */
  existentialDeposit: u128,
  /** Blocks after its settlement that an execution's input stays in state (blocks keep it). */
  executionRetentionHeights: u32,
  /** Reputation events kept per host (older ones leave state; blocks keep them). */
  reputationHistoryLimit: u16,
  /** Share of an equivocating validator's bonded and unbonding stake burned, basis points. */
  slashShareBps: u32,
  /** Heights unstaked stake and left host bonds stay locked (and slashable); also the maximum evidence age. */
  unbondingHeights: u32,
  /** A host's bond: base + per GiB of declared capacity (rounded up), locked by host.join. */
  hostBondBase: u128,
  hostBondPerGiB: u128,
  /** Share of a host's bond slashed per offence (failed audits beyond the threshold, a contradicting receipt), basis points. */
  hostSlashShareBps: u32,
  /** Shard challenges one audit block may carry (assets sampled × their k+m shards); bounds the audit block's size. */
  auditSamplesPerBlock: u32,
  /** A deploy's deposit must cover this many epochs of storage at its placement's rates. */
  minStorageEpochs: u32,
  /** Blocks a placement has to gather its hosts' storage acks before it is re-placed or refunded. */
  storageAckBlocks: u32,
  /** Links of a validator's beacon hash chain: reveals it can make before it must commit to a new chain. */
  beaconChainLength: u32,
  /** Slots of a liveness epoch: every tracked host heartbeats once per epoch (docs/storage.md "Liveness"). */
  livenessEpochSlots: u32,
  /** Consecutive missed epochs after which a host is suspended and its shards are repaired. */
  livenessMissThreshold: u8,
  /** Blocks an epoch needs for its misses to count (fewer: the chain, not the host, was absent). */
  livenessQuorumBlocks: u32,
})
export type ChainParams = Infer<typeof ChainParams>

export const GenesisConfig = versioned('GenesisConfig', PROTOCOL_VERSION, struct('GenesisConfigFields', {
  chainId,
  genesisTime: u64,
  slotMs: u32,
  tokenSymbol: str(16),
  tokenDecimals: u8,
  allocations: list(Payout, 10_000),
  validators: list(struct('GenesisValidator', {
    address: bytes32,
    stake: u128,
    peerId: str(LIMITS.peerId),
    /** Tip of the validator's beacon hash chain (consensus/beacon.ts); zero: it reveals nothing until it commits by tx. */
    beaconCommitment: bytes32,
  }), 1024),
  consensus: ConsensusConfig,
  params: ChainParams,
}))
export type GenesisConfig = Infer<typeof GenesisConfig>
