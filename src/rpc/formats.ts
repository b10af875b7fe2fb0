import { decode, encode } from '../../blocks/codec.ts'
import type { CodecError } from '../../blocks/errors.ts'
import { noteTxBytes } from '../../blocks/ids.ts'
import * as S from '../../blocks/schema.ts'
import { LIMITS } from '../../blocks/schema.ts'
import { Commit } from '../../consensus/bft/messages.ts'
import * as R from '../state/records.ts'
import type * as B from './backend.ts'
import { ASSET_EVENT_KINDS, EVENT_TOPICS } from './backend.ts'
import { WireError } from './errors.ts'
import { jsonWireOf } from './jsonWireOf.ts'
import { amount, bool, bytes32, hexBytes, type InferWire, list, obj, oneOf, optional, str, tagged, u8, u32, u64, type Wire } from './wire.ts'

/**
 * JSON forms of what the RPC returns, shared by server and client. The protocol's own types
 * (blocks/schema.ts, src/state/records.ts) are not described here: their JSON is derived from
 * their codecs (`jsonWireOf`). What remains are the views the RPC composes around them and the
 * one form that truly differs (a signed tx as the hex of its canonical bytes).
 */

/** A signed tx as 0x-hex of its canonical encoding: what xsc_sendTransaction takes. */
export const RawSignedTx: Wire<S.SignedTx> = {
  schema: { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$', description: '0x-hex of the canonical encoding of a SignedTx' },
  toJson: (tx) => rawTxBytes.toJson(encode(S.SignedTx, tx)),
  fromJson: (j, path) => {
    const bytes = rawTxBytes.fromJson(j, path)
    try {
      const tx = decode(S.SignedTx, bytes)
      // Checked canonical: its id and signing hash come from these bytes, not from encoding it twice more.
      noteTxBytes(tx, bytes)
      return tx
    } catch (cause) {
      const c = cause as CodecError
      throw new WireError('WRONG_TYPE', `${path}: not a canonical SignedTx (${c.message})`, { path })
    }
  },
}
const rawTxBytes = hexBytes({ max: LIMITS.input + 64 * 1024 })

const chainId = str(LIMITS.chainId)

/** A block on the wire: its hash, header, entry ids, and (when asked for full) its entries. */
export const BlockView = obj('Block', {
  hash: bytes32,
  header: jsonWireOf(S.BlockHeader),
  /** Per entry: the tx id for entries carrying a tx, the execution id for completions, else the entry's leaf hash. */
  entryIds: list(bytes32, LIMITS.entriesPerBlock),
  entries: optional(list(jsonWireOf(S.BlockEntry), LIMITS.entriesPerBlock)),
  /** true when this node pruned the block's body (`xsc node --prune`): header only, no entry ids or entries. */
  pruned: optional(bool),
})
export type BlockView = InferWire<typeof BlockView>

/** A block's commit with a validator set to check it against (xsc_getCommit). */
export const CommitProofView = obj<B.CommitProof>('CommitProof', { commit: jsonWireOf(Commit), validators: list(obj('ValidatorStake', { address: bytes32, stake: amount }), 16_384) })
export type CommitProofView = InferWire<typeof CommitProofView>
export const TransactionView = obj('Transaction', { id: bytes32, tx: jsonWireOf(S.SignedTx), blockHeight: u32, blockHash: bytes32, index: u32 })
export type TransactionView = InferWire<typeof TransactionView>

/** What xsc_getTransaction answers: the included tx and where it is, or why the node dropped it. */
export type TransactionStatusView = (TransactionView & { status: 'included' }) | (B.DroppedTx & { status: 'dropped' })
const IncludedTransaction = obj<TransactionView & { status: 'included' }>('IncludedTransaction', { status: oneOf(['included'] as const), id: bytes32, tx: jsonWireOf(S.SignedTx), blockHeight: u32, blockHash: bytes32, index: u32 })
const DroppedTransaction = obj<B.DroppedTx & { status: 'dropped' }>('DroppedTransaction', { status: oneOf(['dropped'] as const), id: bytes32, code: str(64), message: str(1024), height: u32 })
export const TransactionStatusView: Wire<TransactionStatusView> = {
  schema: { title: 'TransactionStatus', oneOf: [IncludedTransaction.schema, DroppedTransaction.schema] },
  toJson: (v) => (v.status === 'dropped' ? DroppedTransaction.toJson(v) : IncludedTransaction.toJson(v)),
  fromJson: (j, path) => (typeof j === 'object' && j !== null && (j as { status?: unknown }).status === 'dropped' ? DroppedTransaction.fromJson(j, path) : IncludedTransaction.fromJson(j, path)),
}

export const BlockRef = obj<B.BlockRef>('BlockRef', { height: u32, hash: bytes32 })
export const ChainStatus = obj<B.ChainStatus>('ChainStatus', { chainId, head: BlockRef, finalized: BlockRef, peers: u32, syncing: bool })

export const ChainParamsInfo = obj<B.ChainParamsInfo>('ChainParamsInfo', {
  chainId: str(64),
  tokenSymbol: str(16),
  tokenDecimals: u8,
  slotMs: u32,
  genesisTime: u64,
  params: jsonWireOf(S.ChainParams),
  consensus: jsonWireOf(S.ConsensusConfig),
})

export const ShardHealth = obj<B.ShardHealth>('ShardHealth', { index: u8, host: bytes32, failures: u32, lastAuditHeight: optional(u32), healthy: bool })
export const AssetInfo = obj<B.AssetInfo>('Asset', { id: bytes32, record: jsonWireOf(R.AssetRecord), shards: list(ShardHealth, LIMITS.shards) })

const HostRecord = jsonWireOf(R.HostRecord)
export const StakeInfo = obj<B.StakeInfo>('Stake', {
  address: bytes32,
  stake: amount,
  unbonding: list(obj<B.StakeInfo['unbonding'][number]>('Unbonding', { kind: u8, amount, startHeight: u32, releaseHeight: u32 }), 1 << 16),
  slashedAtHeight: optional(u32),
})
export const HostInfo = obj<B.HostInfo>('Host', { address: bytes32, record: HostRecord, events: list(jsonWireOf(R.ReputationEvent), 10_000) })
export const HostSummary = obj<B.HostSummary>('HostSummary', { address: bytes32, record: HostRecord })

/** A completion entry without its `type` (the view says what it is). */
export const Completion = obj('Completion', { block: BlockRef, entry: jsonWireOf(S.BlockEntry.variants.completion.codec) })
export type CompletionView = InferWire<typeof Completion>
export const ExecutionInfo = obj('Execution', { id: bytes32, record: jsonWireOf(R.ExecutionRecord), scheduled: BlockRef, completion: optional(Completion) })
export type ExecutionView = InferWire<typeof ExecutionInfo>

const cursor = str(16, /^[0-9a-f]{16}$/)
export const AssetListItem = obj<B.AssetListItem>('AssetListItem', { id: bytes32, deployedHeight: u32, deleted: bool, asset: optional(AssetInfo) })
export const AssetList = obj<B.Listed<B.AssetListItem>>('AssetList', { items: list(AssetListItem, 500), nextCursor: optional(cursor) })
export const ExecutionListItem = obj<B.ExecutionListItem>('ExecutionListItem', {
  id: bytes32,
  scheduledHeight: u32,
  escrow: amount,
  record: optional(jsonWireOf(R.ExecutionRecord)),
  completedHeight: optional(u32),
  completionStatus: optional(u8),
})
export const ExecutionList = obj<B.Listed<B.ExecutionListItem>>('ExecutionList', { items: list(ExecutionListItem, 500), nextCursor: optional(cursor) })
export const ExecutionFilter = obj<{ asset: Uint8Array | undefined; sender: Uint8Array | undefined }>('ExecutionFilter', { asset: optional(bytes32), sender: optional(bytes32) })
export const ListCursor = cursor

export const EstimateRequest = obj<B.EstimateRequest>('EstimateRequest', {
  from: optional(bytes32),
  asset: bytes32,
  fn: str(LIMITS.fnName),
  input: hexBytes({ max: LIMITS.input }),
  fuelLimit: optional(u64),
})
export const EstimateResult = obj<B.EstimateResult>('EstimateResult', { outcome: u8, fuelUsed: u64, output: hexBytes({ max: LIMITS.output }) })

export const QueryRequest = obj<B.QueryRequest>('QueryRequest', {
  asset: bytes32,
  fn: str(LIMITS.fnName),
  input: hexBytes({ max: LIMITS.input }),
  fuelLimit: optional(u64),
})
export const QueryResult = obj<B.QueryResult>('QueryResult', { outcome: u8, fuelUsed: u64, output: hexBytes({ max: LIMITS.output }), height: u32, blockHash: bytes32, finalized: bool })
const AssetStateEntry = obj('AssetStateEntry', { key: hexBytes({ max: LIMITS.stateKey }), value: hexBytes({ max: LIMITS.stateValue }) })
export const AssetStatePage = obj<B.AssetStatePage>('AssetStatePage', { height: u32, blockHash: bytes32, finalized: bool, entries: list(AssetStateEntry, 1000), next: optional(hexBytes({ max: LIMITS.stateKey })) })
export const FeeEstimate = obj<B.FeeEstimate>('FeeEstimate', { size: u32, baseFee: amount, minFeePerByte: amount, feePerByte: amount, required: amount, fee: amount, height: u32 })

export const EventTopic = oneOf(EVENT_TOPICS)

/** Subscription filter: `subject` is the execution id, host address, tx id or asset id for those topics. */
export const Filter = obj('Filter', { topic: EventTopic, subject: optional(bytes32) })
export type FilterView = InferWire<typeof Filter>

export const RpcEvent = tagged<RpcEventView>('Event', {
  newHeads: { height: u32, index: u32, hash: bytes32, header: jsonWireOf(S.BlockHeader) },
  finalizedHeads: { height: u32, index: u32, hash: bytes32, header: jsonWireOf(S.BlockHeader) },
  execution: { height: u32, index: u32, executionId: bytes32, stage: oneOf(['scheduled', 'receipt', 'completed', 'failed'] as const), host: optional(bytes32) },
  hostEvents: { height: u32, index: u32, host: bytes32, kind: oneOf(['joined', 'updated', 'left', 'reputation'] as const), reputation: optional(jsonWireOf(R.ReputationEvent)) },
  transaction: { height: u32, index: u32, txId: bytes32, status: oneOf(['included', 'dropped'] as const), reason: optional(obj('DropReason', { code: str(64), message: str(1024) })) },
  asset: { height: u32, index: u32, asset: bytes32, kind: oneOf(ASSET_EVENT_KINDS), epochsLeft: optional(u32) },
})
/** Events on the wire carry their topic as `type` (the discriminator every wire union uses). */
export type RpcEventView = { [T in B.RpcEvent['topic']]: Omit<Extract<B.RpcEvent, { topic: T }>, 'topic'> & { type: T } }[B.RpcEvent['topic']]

export function toEventView(e: B.RpcEvent): RpcEventView {
  const { topic, ...rest } = e
  return { type: topic, ...rest } as RpcEventView
}

export function fromEventView(v: RpcEventView): B.RpcEvent {
  const { type, ...rest } = v
  return { topic: type, ...rest } as B.RpcEvent
}

export function toFilter(v: FilterView, path: string): B.EventFilter {
  if (v.topic === 'execution' || v.topic === 'hostEvents' || v.topic === 'transaction' || v.topic === 'asset') {
    if (v.subject === undefined) throw new WireError('MISSING', `${path}.subject: ${v.topic} needs a subject`, { path: `${path}.subject` })
    if (v.topic === 'transaction') return { topic: 'transaction', txId: v.subject }
    if (v.topic === 'asset') return { topic: 'asset', asset: v.subject }
    return v.topic === 'execution' ? { topic: 'execution', executionId: v.subject } : { topic: 'hostEvents', host: v.subject }
  }
  return { topic: v.topic }
}

export const ActivityEntry = obj<B.ActivityEntry>('ActivityEntry', { height: u32, entry: u32, role: u8, ref: bytes32, amount, aux: u32, slot: u32 })
