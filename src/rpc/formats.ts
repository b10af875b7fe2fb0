import { decode, encode } from '../../blocks/codec.ts'
import type { CodecError } from '../../blocks/errors.ts'
import * as S from '../../blocks/schema.ts'
import { LIMITS } from '../../blocks/schema.ts'
import * as R from '../state/records.ts'
import type * as B from './backend.ts'
import { EVENT_TOPICS } from './backend.ts'
import {
  amount, bool, bytes32, bytes64, hexBytes, list, obj, oneOf, optional, str, tagged, u8, u16, u32, u64, WireError,
  type Wire,
} from './wire.ts'

/**
 * JSON wire forms of the domain types (blocks/schema.ts, src/state/records.ts, rpc/backend.ts),
 * shared by server and client. Field names match the domain types one to one, so a reader of
 * schema.ts can read the JSON.
 */

const chainId = str(LIMITS.chainId)

export const Coord = obj<S.Coord>('Coord', { x: u32, y: u32, z: u32 })
export const Payout = obj<S.Payout>('Payout', { to: bytes32, amount })

export const HostParams = obj<S.HostParams>('HostParams', {
  coord: Coord,
  zone: str(LIMITS.zone),
  capacityBytes: u64,
  capabilities: u32,
  askPerFuel: amount,
  askPerByteEpoch: amount,
  peerId: str(LIMITS.peerId),
})

export const Manifest = obj<S.Manifest>('Manifest', {
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

export const TxPayload = tagged<S.TxPayload>('TxPayload', {
  transfer: { to: bytes32, amount },
  'host.join': { host: HostParams },
  'host.update': { host: HostParams },
  'host.leave': {},
  stake: { amount },
  unstake: { amount },
  deploy: { assetKind: u8, manifest: Manifest, deposit: amount, bidPerByteEpoch: amount, origin: Coord },
  execute: {
    asset: bytes32,
    fn: str(LIMITS.fnName),
    input: hexBytes({ max: LIMITS.input }),
    fuelLimit: u64,
    bidPerFuel: amount,
    replicas: u8,
    quorum: u8,
    private: bool,
    deadlineSlots: u32,
    origin: Coord,
  },
})

export const TxBody = obj<S.TxBody>('TxBody', { chainId, from: bytes32, nonce: u32, fee: amount, payload: TxPayload })
export const SignedTx = obj<S.SignedTx>('SignedTx', { body: TxBody, signature: bytes64 })

/** A signed tx as 0x-hex of its canonical encoding: what xsc_sendTransaction takes. */
export const RawSignedTx: Wire<S.SignedTx> = {
  schema: { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$', description: '0x-hex of the canonical encoding of a SignedTx' },
  toJson: (tx) => rawTxBytes.toJson(encode(S.SignedTx, tx)),
  fromJson: (j, path) => {
    const bytes = rawTxBytes.fromJson(j, path)
    try {
      return decode(S.SignedTx, bytes)
    } catch (cause) {
      const c = cause as CodecError
      throw new WireError('WRONG_TYPE', `${path}: not a canonical SignedTx (${c.message})`, { path })
    }
  },
}
const rawTxBytes = hexBytes({ max: LIMITS.input + 64 * 1024 })

export const Receipt = obj<S.Receipt>('Receipt', {
  body: obj<S.ReceiptBody>('ReceiptBody', {
    chainId,
    executionId: bytes32,
    host: bytes32,
    outcome: u8,
    resultHash: bytes32,
    fuelUsed: u64,
    writeSetHash: bytes32,
    output: hexBytes({ max: LIMITS.output }),
  }),
  signature: bytes64,
})

export const KvWrite = obj<S.KvWrite>('KvWrite', { key: hexBytes({ max: LIMITS.stateKey }), value: optional(hexBytes({ max: LIMITS.stateValue })) })
export const ReputationChange = obj<S.ReputationChange>('ReputationChange', { host: bytes32, before: u16, after: u16, cause: u8 })
export const AuditResult = obj<S.AuditResult>('AuditResult', {
  asset: bytes32,
  shardIndex: u8,
  host: bytes32,
  chunkIndex: u32,
  outcome: u8,
  chunk: hexBytes({ max: 1 << 20 }),
  path: list(bytes32, 64),
})
export const Repair = obj<S.Repair>('Repair', { asset: bytes32, shardIndex: u8, from: bytes32, to: bytes32 })

const completionFields = {
  executionId: bytes32,
  status: u8,
  outcome: u8,
  resultHash: bytes32,
  fuelUsed: u64,
  output: hexBytes({ max: LIMITS.output }),
  writeSet: list(KvWrite, LIMITS.writeSet),
  receipts: list(Receipt, LIMITS.receipts),
  payouts: list(Payout, LIMITS.payouts),
  refund: amount,
  burn: amount,
  reputation: list(ReputationChange, LIMITS.receipts),
}

export const BlockEntry = tagged<S.BlockEntry>('BlockEntry', {
  genesis: { config: hexBytes({ max: 1 << 24 }) },
  tx: { tx: SignedTx },
  deployment: { tx: SignedTx, placement: list(bytes32, LIMITS.shards) },
  execution: { tx: SignedTx, assignment: list(bytes32, LIMITS.shards), escrow: amount },
  completion: completionFields,
  audit: {
    epoch: u32,
    results: list(AuditResult, LIMITS.auditResults),
    repairs: list(Repair, LIMITS.auditResults),
    rent: list(Payout, LIMITS.payouts),
    expired: list(bytes32, LIMITS.auditResults),
    reputation: list(ReputationChange, LIMITS.auditResults),
  },
})

export const CompletionEntry = obj<Omit<B.CompletionEntry, 'type'>>('CompletionEntry', completionFields)

export const Proof = obj<S.Proof>('Proof', { scheme: str(16), data: hexBytes({ max: LIMITS.proofBytes }) })

export const BlockHeader = obj<S.BlockHeader>('BlockHeader', {
  chainId,
  height: u32,
  prevHash: bytes32,
  kind: oneOf(S.BLOCK_KINDS),
  slot: u32,
  timestamp: u64,
  proposer: bytes32,
  bodyRoot: bytes32,
  stateRoot: bytes32,
  proofs: list(Proof, 8),
  signature: bytes64,
})

/** A block on the wire: its hash, header, entry ids, and (when asked for full) its entries. */
export interface BlockView {
  hash: Uint8Array
  header: S.BlockHeader
  /** Per entry: the tx id for entries carrying a tx, the execution id for completions, else the entry's leaf hash. */
  entryIds: Uint8Array[]
  entries: S.BlockEntry[] | undefined
}
export const BlockView = obj<BlockView>('Block', {
  hash: bytes32,
  header: BlockHeader,
  entryIds: list(bytes32, LIMITS.entriesPerBlock),
  entries: optional(list(BlockEntry, LIMITS.entriesPerBlock)),
})

export interface TransactionView { id: Uint8Array; tx: S.SignedTx; blockHeight: number; blockHash: Uint8Array; index: number }
export const TransactionView = obj<TransactionView>('Transaction', { id: bytes32, tx: SignedTx, blockHeight: u32, blockHash: bytes32, index: u32 })

/** What xsc_getTransaction answers: the included tx and where it is, or why the node dropped it. */
export type TransactionStatusView = (TransactionView & { status: 'included' }) | (B.DroppedTx & { status: 'dropped' })
const IncludedTransaction = obj<TransactionView & { status: 'included' }>('IncludedTransaction', { status: oneOf(['included'] as const), id: bytes32, tx: SignedTx, blockHeight: u32, blockHash: bytes32, index: u32 })
const DroppedTransaction = obj<B.DroppedTx & { status: 'dropped' }>('DroppedTransaction', { status: oneOf(['dropped'] as const), id: bytes32, code: str(64), message: str(1024), height: u32 })
export const TransactionStatusView: Wire<TransactionStatusView> = {
  schema: { title: 'TransactionStatus', oneOf: [IncludedTransaction.schema, DroppedTransaction.schema] },
  toJson: (v) => (v.status === 'dropped' ? DroppedTransaction.toJson(v) : IncludedTransaction.toJson(v)),
  fromJson: (j, path) => (typeof j === 'object' && j !== null && (j as { status?: unknown }).status === 'dropped' ? DroppedTransaction.fromJson(j, path) : IncludedTransaction.fromJson(j, path)),
}

export const BlockRef = obj<B.BlockRef>('BlockRef', { height: u32, hash: bytes32 })
export const ChainStatus = obj<B.ChainStatus>('ChainStatus', { chainId, head: BlockRef, finalized: BlockRef, peers: u32, syncing: bool })

export const AssetRecord = obj<R.AssetRecord>('AssetRecord', {
  owner: bytes32,
  kind: u8,
  manifest: Manifest,
  placement: list(bytes32, LIMITS.shards),
  shardFailures: list(u8, LIMITS.shards),
  deposit: amount,
  bidPerByteEpoch: amount,
  createdHeight: u32,
  status: u8,
  exhaustedEpoch: optional(u32),
})
export const ShardHealth = obj<B.ShardHealth>('ShardHealth', { index: u8, host: bytes32, failures: u32, lastAuditHeight: optional(u32), healthy: bool })
export const AssetInfo = obj<B.AssetInfo>('Asset', { id: bytes32, record: AssetRecord, shards: list(ShardHealth, LIMITS.shards) })

export const HostRecord = obj<R.HostRecord>('HostRecord', {
  params: HostParams,
  reputation: u16,
  status: u8,
  usedBytes: u64,
  joinedHeight: u32,
  failedAudits: u32,
})
export const ReputationEvent = obj<R.ReputationEvent>('ReputationEvent', { height: u32, cause: u8, before: u16, after: u16, subject: bytes32 })
export const HostInfo = obj<B.HostInfo>('Host', { address: bytes32, record: HostRecord, events: list(ReputationEvent, 10_000) })
export const HostSummary = obj<B.HostSummary>('HostSummary', { address: bytes32, record: HostRecord })

export const ExecutionRecord = obj<R.ExecutionRecord>('ExecutionRecord', {
  client: bytes32,
  asset: bytes32,
  fn: str(LIMITS.fnName),
  input: hexBytes({ max: LIMITS.input }),
  fuelLimit: u64,
  bidPerFuel: amount,
  replicas: u8,
  quorum: u8,
  private: bool,
  assignment: list(bytes32, LIMITS.shards),
  escrow: amount,
  startSlot: u32,
  deadlineSlot: u32,
  status: u8,
  origin: Coord,
})

export interface CompletionView { block: B.BlockRef; entry: Omit<B.CompletionEntry, 'type'> }
export const Completion = obj<CompletionView>('Completion', { block: BlockRef, entry: CompletionEntry })
export interface ExecutionView { id: Uint8Array; record: R.ExecutionRecord; scheduled: B.BlockRef; completion: CompletionView | undefined }
export const ExecutionInfo = obj<ExecutionView>('Execution', { id: bytes32, record: ExecutionRecord, scheduled: BlockRef, completion: optional(Completion) })

export const EstimateRequest = obj<B.EstimateRequest>('EstimateRequest', {
  from: optional(bytes32),
  asset: bytes32,
  fn: str(LIMITS.fnName),
  input: hexBytes({ max: LIMITS.input }),
  fuelLimit: optional(u64),
})
export const EstimateResult = obj<B.EstimateResult>('EstimateResult', { outcome: u8, fuelUsed: u64, output: hexBytes({ max: LIMITS.output }) })

export const EventTopic = oneOf(EVENT_TOPICS)

/** Subscription filter: `subject` is the execution id, host address or tx id for those topics. */
export interface FilterView { topic: B.EventTopic; subject: Uint8Array | undefined }
export const Filter = obj<FilterView>('Filter', { topic: EventTopic, subject: optional(bytes32) })

export const RpcEvent = tagged<RpcEventView>('Event', {
  newHeads: { height: u32, index: u32, hash: bytes32, header: BlockHeader },
  finalizedHeads: { height: u32, index: u32, hash: bytes32, header: BlockHeader },
  execution: { height: u32, index: u32, executionId: bytes32, stage: oneOf(['scheduled', 'receipt', 'completed', 'failed'] as const), host: optional(bytes32) },
  hostEvents: { height: u32, index: u32, host: bytes32, kind: oneOf(['joined', 'updated', 'left', 'reputation'] as const), reputation: optional(ReputationEvent) },
  transaction: { height: u32, index: u32, txId: bytes32, status: oneOf(['included', 'dropped'] as const), reason: optional(obj('DropReason', { code: str(64), message: str(1024) })) },
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
  if (v.topic === 'execution' || v.topic === 'hostEvents' || v.topic === 'transaction') {
    if (v.subject === undefined) throw new WireError('MISSING', `${path}.subject: ${v.topic} needs a subject`, { path: `${path}.subject` })
    if (v.topic === 'transaction') return { topic: 'transaction', txId: v.subject }
    return v.topic === 'execution' ? { topic: 'execution', executionId: v.subject } : { topic: 'hostEvents', host: v.subject }
  }
  return { topic: v.topic }
}

export const ActivityEntry = obj<B.ActivityEntry>('ActivityEntry', { height: u32, entry: u32, role: u8, ref: bytes32, amount, aux: u32, slot: u32 })
