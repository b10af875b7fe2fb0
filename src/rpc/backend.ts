import type { Address, Block, BlockHeader, ChainParams, CompletionEntry, ConsensusConfig, ExecutionKeys, Hash, Offence, SignedTx } from '../../blocks/schema.ts'
import type { Commit } from '../../consensus/bft/messages.ts'
import { equalBytes } from '../crypto/bytes.ts'
import type { AssetRecord, ExecutionRecord, HostRecord, ReputationEvent } from '../state/records.ts'
import type { StateProofAnswer } from '../state/stateTree/stateProof.ts'

/**
 * What the RPC server needs from a node. The node implements it (src/node/rpcBackend.ts); tests
 * use an in-memory stand-in. Domain types in, domain types out: the server does all the wire
 * formatting and error mapping. Lookups that find nothing return `null`; refusals throw an
 * `XscError` whose `code` the server maps to a documented JSON-RPC code (see errors.ts):
 * throw `RpcBackendError` with one of `BackendErrorCode`, or any XscError with the same code.
 */
export interface RpcBackend {
  /** Validates and admits a tx to the mempool; returns its id (txId). */
  submitTx(tx: SignedTx): Promise<Hash>
  /** Checks an offence against the head state and holds it for a block (and gossips it); false when already held. */
  submitEvidence?(offence: Offence): Promise<boolean>
  /** Checks a private execution's key delivery, hands it to this node's host role and gossips it; the peers it went to. */
  deliverExecutionKeys?(keys: ExecutionKeys): Promise<number>
  /** A validator's bonded stake, what it (or a host's bond) has unbonding, and its slash tombstone. */
  getStake?(address: Address): Promise<StakeInfo>
  getBlockByHeight(height: number): Promise<StoredBlock | null>
  getBlockByHash(hash: Hash): Promise<StoredBlock | null>
  getTransaction(id: Hash): Promise<TxLocation | null>
  /** Why this node dropped a tx it had admitted, if it did so recently (a node without a mempool leaves this out). */
  getDroppedTransaction?(id: Hash): Promise<DroppedTx | null>
  /** Unknown addresses are an empty account (balance 0, nonce 0), not null. */
  getAccount(address: Address): Promise<AccountInfo>
  chainStatus(): Promise<ChainStatus>
  /** The chain's fixed parameters from genesis: what a client needs to build txs (manifest coding, limits, token). */
  getChainParams(): Promise<ChainParamsInfo>
  getAsset(id: Hash): Promise<AssetInfo | null>
  getHost(address: Address): Promise<HostInfo | null>
  /** Hosts ordered by address; `offset`/`limit` page through them. */
  listHosts(page: { offset: number; limit: number }): Promise<HostSummary[]>
  getExecution(id: Hash): Promise<ExecutionInfo | null>
  /**
   * Checks a `PUT /blob` before its body is read: the BLOB_AUTH_HEADER value (signed by a funded
   * account for the blob's data hash, not expired) and the declared size against the quota.
   */
  authorizeBlobUpload(header: string | undefined, declaredSize: number | undefined): Promise<BlobUploadAuth>
  /**
   * Stores a streamed body for a later deploy tx (it must hash to `auth.dataHash`, crypto `hash`);
   * returns its data hash and size. Throws BLOB_TOO_LARGE past the node's limit.
   */
  uploadBlob(body: AsyncIterable<Uint8Array>, auth: BlobUploadAuth): Promise<{ dataHash: Hash; size: number }>
  /** Dry run of an execution on the node: nothing is written, nothing is paid. */
  estimateExecution(request: EstimateRequest): Promise<EstimateResult>
  /** What blocks did to an account, host or asset (src/chain/accountActivity.ts), newest first, heights below `beforeHeight`. */
  getActivity(subject: Hash, page: { beforeHeight: number; limit: number }): Promise<ActivityEntry[]>
  /** An owner's assets, newest deployment first, from the node's index (a node without it leaves this out). */
  listAssets?(owner: Address, page: ListPage): Promise<Listed<AssetListItem>>
  /** Executions of an asset or by a sender, newest first, from the node's index. */
  listExecutions?(filter: ExecutionFilter, page: ListPage): Promise<Listed<ExecutionListItem>>
  /** Values and Merkle proofs of state keys at a height (the head when undefined), with that block's header; null for an unknown height. */
  getStateProofs?(keys: Uint8Array[], height: number | undefined): Promise<StateProofAnswer | null>
  /** The commit (>2/3 precommits) stored with the block at a height, and the node's current validator set. */
  getCommit?(height: number): Promise<CommitProof | null>
  /** Read-only call of an asset's function on the node's state: writes discarded, nothing paid; the answer names the height it read. */
  query(request: QueryRequest): Promise<QueryResult>
  /** One page of an asset's key-value state, keys in byte order after `cursor`. */
  getAssetState(asset: Hash, page: { cursor: Uint8Array | undefined; limit: number }): Promise<AssetStatePage>
  /** The fee rules for the next block on the head: its base fee per byte and the chain's minimum per byte. */
  getFeeInfo(): Promise<FeeInfo>
  readonly events: RpcEventSource
}

/** What a client needs to check a block's finality itself: its commit and a validator set to check it against. */
export interface CommitProof {
  commit: Commit
  /** The node's validator set as of its head: the commit's set unless stakes changed since (a client tracking the set passes its own). */
  validators: { address: Hash; stake: bigint }[]
}

export interface FeeInfo { baseFee: bigint; minFeePerByte: bigint; maxBaseFee: bigint; height: number }

/**
 * xsc_feeEstimate's answer for a tx of `size` bytes: the least fee the next block takes
 * (`required`), and the suggested one (`fee`, at `feePerByte` = 2 × base fee + minimum, which
 * stays enough while the base fee rises for ~6 full blocks; the excess is the proposer's tip).
 */
export interface FeeEstimate { size: number; baseFee: bigint; minFeePerByte: bigint; feePerByte: bigint; required: bigint; fee: bigint; height: number }
/** The HTTP header that authorizes `PUT /blob` (formatBlobAuthHeader in src/node/blobUploadAuth.ts). */
export const BLOB_AUTH_HEADER = 'x-xsc-blob-auth'

/** Who may upload which blob until when (ms since the epoch), signature already checked. */
export interface BlobUploadAuth { address: Address; dataHash: Hash; expiresAtMs: number }

export interface StoredBlock {
  block: Block
  hash: Hash
  /** Per entry: tx id (or execution id for completions, else leaf hash). Optional: the server computes and caches them when absent. */
  entryIds?: Hash[]
  /** The node pruned the body: `block.entries` is empty, only the header is real. */
  pruned?: boolean
}

export interface TxLocation { tx: SignedTx; blockHeight: number; blockHash: Hash; index: number }

/** A tx that left the mempool without being included: the refusal's code and message, and the height it was dropped at. */
export interface DroppedTx { id: Hash; code: string; message: string; height: number }

export interface AccountInfo { balance: bigint; nonce: number }

export interface BlockRef { height: number; hash: Hash }

/** Genesis facts that never change on a chain: its id, token, timing, protocol and consensus parameters. */
export interface ChainParamsInfo {
  chainId: string
  tokenSymbol: string
  tokenDecimals: number
  slotMs: number
  /** Unix ms of slot 0. */
  genesisTime: bigint
  params: ChainParams
  consensus: ConsensusConfig
}

export interface ChainStatus { chainId: string; head: BlockRef; finalized: BlockRef; peers: number; syncing: boolean }

/** Health of shard `index` as the node sees it from audits. */
export interface ShardHealth {
  index: number
  host: Address
  /** Consecutive failed audits on its current host (AssetRecord.shardFailures). */
  failures: number
  /** Height of the last audit of this shard, if any. */
  lastAuditHeight: number | undefined
  healthy: boolean
}

export interface AssetInfo { id: Hash; record: AssetRecord; shards: ShardHealth[] }

export interface HostInfo { address: Address; record: HostRecord; events: ReputationEvent[] }

export interface HostSummary { address: Address; record: HostRecord }

/** `kind` is BOND_KIND (0 validator stake, 1 host bond). */
export interface StakeInfo {
  address: Address
  stake: bigint
  unbonding: { kind: number; amount: bigint; startHeight: number; releaseHeight: number }[]
  slashedAtHeight: number | undefined
}

export interface ExecutionInfo {
  id: Hash
  record: ExecutionRecord
  /** The execution block that scheduled it. */
  scheduled: BlockRef
  /** Present once a completion block settled it. */
  completion: { block: BlockRef; entry: CompletionEntry } | undefined
}

/** A page request: `cursor` is a previous page's `nextCursor` (opaque), absent for the first page. */
export interface ListPage { cursor: string | undefined; limit: number }
/** A page of results; `nextCursor` is absent on the last page. */
export interface Listed<T> { items: T[]; nextCursor: string | undefined }

/** An asset an owner deployed: its current state, or `deleted` (the owner deleted it; no record is kept). */
export interface AssetListItem { id: Hash; deployedHeight: number; deleted: boolean; asset: AssetInfo | undefined }

export type ExecutionFilter = { asset: Hash; sender?: undefined } | { sender: Address; asset?: undefined }

/** An execution in a list: where it was scheduled, its record while the state keeps it, and where it settled. */
export interface ExecutionListItem { id: Hash; scheduledHeight: number; escrow: bigint; record: ExecutionRecord | undefined; completedHeight: number | undefined; completionStatus: number | undefined }

/** One row of the activity index: `role` is an ACTIVITY_ROLE, `ref` and `aux` depend on it. */
export interface ActivityEntry { height: number; entry: number; role: number; ref: Hash; amount: bigint; aux: number; slot: number }

export interface EstimateRequest { from: Address | undefined; asset: Hash; fn: string; input: Uint8Array; fuelLimit: bigint | undefined }

export interface EstimateResult { outcome: number; fuelUsed: bigint; output: Uint8Array }

export interface QueryRequest { asset: Hash; fn: string; input: Uint8Array; fuelLimit: bigint | undefined }

/** A query's answer and the state it read: the block at `height` (final or not yet). */
export interface QueryResult extends EstimateResult { height: number; blockHash: Hash; finalized: boolean }

export interface AssetStatePage { height: number; blockHash: Hash; finalized: boolean; entries: { key: Uint8Array; value: Uint8Array }[]; next: Uint8Array | undefined }

// ---------- subscriptions ----------

export const EVENT_TOPICS = ['newHeads', 'finalizedHeads', 'execution', 'hostEvents', 'transaction', 'asset'] as const
export type EventTopic = (typeof EVENT_TOPICS)[number]

export type ExecutionStage = 'scheduled' | 'receipt' | 'completed' | 'failed'
export type HostEventKind = 'joined' | 'updated' | 'left' | 'reputation'
export const ASSET_EVENT_KINDS = ['extended', 'deleted', 'expired', 'expiring'] as const
export type AssetEventKind = (typeof ASSET_EVENT_KINDS)[number]

/**
 * A chain event. `height` is the block that produced it and `index` its position among that
 * block's events (0, 1, ...), so (height, index) orders events and lets a client that
 * reconnects with `fromHeight` drop the ones it already has.
 */
export type RpcEvent =
  | { topic: 'newHeads'; height: number; index: number; hash: Hash; header: BlockHeader }
  | { topic: 'finalizedHeads'; height: number; index: number; hash: Hash; header: BlockHeader }
  | { topic: 'execution'; height: number; index: number; executionId: Hash; stage: ExecutionStage; host: Address | undefined }
  | { topic: 'hostEvents'; height: number; index: number; host: Address; kind: HostEventKind; reputation: ReputationEvent | undefined }
  /** `included` comes from blocks (replayable); `dropped` is live only (xsc_getTransaction keeps the reason). */
  | { topic: 'transaction'; height: number; index: number; txId: Hash; status: 'included' | 'dropped'; reason: { code: string; message: string } | undefined }
  /**
   * An asset's lifecycle: extended, deleted and expired come from blocks (replayable); `expiring` is
   * live only, after each audit block, while the deposit covers fewer than EXPIRY_WARNING_EPOCHS
   * epochs of rent (`epochsLeft`; 0 once the asset is in its grace period).
   */
  | { topic: 'asset'; height: number; index: number; asset: Hash; kind: AssetEventKind; epochsLeft: number | undefined }

/** What a subscriber asked for: execution and hostEvents are filtered by their subject. */
export type EventFilter =
  | { topic: 'newHeads' }
  | { topic: 'finalizedHeads' }
  | { topic: 'execution'; executionId: Hash }
  | { topic: 'hostEvents'; host: Address }
  | { topic: 'transaction'; txId: Hash }
  | { topic: 'asset'; asset: Hash }

export interface RpcEventSource {
  /**
   * Live events, in (height, index) order, emitted after the block that produced them is
   * stored. Returns the unsubscribe function.
   */
  listen(listener: (event: RpcEvent) => void): () => void
  /**
   * Stored events matching `filter` with height >= fromHeight: every matching event emitted
   * before the call. Events of one filter are emitted in strictly increasing (height, index)
   * order; the server registers `listen` first, sends the replay, then the live events past the
   * last replayed one: nothing lost, nothing twice.
   */
  replay(filter: EventFilter, fromHeight: number): Promise<RpcEvent[]>
}

export function isEventMatch(filter: EventFilter, event: RpcEvent): boolean {
  if (filter.topic !== event.topic) return false
  if (filter.topic === 'execution' && event.topic === 'execution') return equalBytes(filter.executionId, event.executionId)
  if (filter.topic === 'hostEvents' && event.topic === 'hostEvents') return equalBytes(filter.host, event.host)
  if (filter.topic === 'transaction' && event.topic === 'transaction') return equalBytes(filter.txId, event.txId)
  if (filter.topic === 'asset' && event.topic === 'asset') return equalBytes(filter.asset, event.asset)
  return true
}

