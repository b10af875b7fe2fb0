import { type Codec, decodeTrusted, encode } from '../../blocks/codec.ts'
import type { Address, Hash } from '../../blocks/schema.ts'
import { concatBytes, u32be } from '../crypto/index.ts'
import {
  Account,
  AssetRecord,
  BeaconRecord,
  BondAccount,
  ExecutionExpiry,
  ExecutionQueue,
  ExecutionRecord,
  HostRecord,
  ReputationHistory,
  SupplyRecord,
  UnbondingBucket,
  Validator,
} from './records.ts'
import type { StateReader } from './stateView.ts'
import { LivenessEpochRecord, LivenessHostRecord } from './storage/livenessRecords.ts'

/**
 * Every state table, declared once (reth's `tables!`): its key prefix, how its id becomes a key,
 * and how its rows are stored. A reader names a row as `TABLES.account.at(address)` and gets the
 * key and the codec together, so a key can never be read with another table's codec.
 *
 * The prefixes and row encodings are protocol constants (they enter the state root): never
 * renumber, reuse or re-encode one. Most rows are canonical msgpack records (records.ts); index
 * tables store raw bytes, a big-endian u32 or nothing (presence is the information).
 */

/** How a table's rows are stored. The identity of this object also tags decoded rows cached by StateOverlay. */
export interface RowCodec<T> {
  readonly name: string
  encode(row: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/** One row of one table: its key and how its value is stored. */
export interface Row<T> {
  readonly key: Uint8Array
  readonly codec: RowCodec<T>
}

export interface StateTable<Id extends readonly unknown[], T> {
  readonly name: string
  /** Every key of the table starts with these bytes (one byte, or two for a sub-table). */
  readonly prefix: Uint8Array
  readonly codec: RowCodec<T>
  key(...id: Id): Uint8Array
  at(...id: Id): Row<T>
}

const record = <T>(codec: Codec<T>): RowCodec<T> => ({ name: codec.name, encode: (row) => encode(codec, row), decode: (bytes) => decodeTrusted(codec, bytes) })

/** The stored bytes are the row. */
const RAW: RowCodec<Uint8Array> = { name: 'raw', encode: (row) => row, decode: (bytes) => bytes }
/** Presence is the row. */
export const MARK: RowCodec<true> = { name: 'mark', encode: () => new Uint8Array(0), decode: () => true }
const U32BE: RowCodec<number> = { name: 'u32be', encode: (n) => u32be(n), decode: (b) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0) }
/** (head, tail) of a queue: two big-endian u32. */
const U32BE_PAIR: RowCodec<readonly [number, number]> = {
  name: 'u32be×2',
  encode: ([a, b]) => concatBytes(u32be(a), u32be(b)),
  decode: (b) => {
    const v = new DataView(b.buffer, b.byteOffset, 8)
    return [v.getUint32(0), v.getUint32(4)]
  },
}

const u64be = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}

function table<Id extends readonly unknown[], T>(name: string, prefix: readonly number[], codec: RowCodec<T>, idBytes: (...id: Id) => readonly Uint8Array[]): StateTable<Id, T> {
  const p = new Uint8Array(prefix)
  const key = (...id: Id): Uint8Array => concatBytes(p, ...idBytes(...id))
  return { name, prefix: p, codec, key, at: (...id: Id) => ({ key: key(...id), codec }) }
}

const none = (): readonly Uint8Array[] => []

export const TABLES = {
  account: table('account', [0x01], record(Account), (a: Address) => [a]),
  validator: table('validator', [0x02], record(Validator), (a: Address) => [a]),
  host: table('host', [0x03], record(HostRecord), (a: Address) => [a]),
  asset: table('asset', [0x04], record(AssetRecord), (id: Hash) => [id]),
  // 0x05 (the execution record without its agreed result) is retired: never reuse it.
  /** An execution's record, with the result it settled with once agreed (it was a row of its own, 0x0d 0x02, retired). */
  execution: table('execution', [0x2c], record(ExecutionRecord), (id: Hash) => [id]),
  /** A program's own key-value state: asset ‖ its key → its value. */
  assetKv: table('assetKv', [0x06], RAW, (asset: Hash, key: Uint8Array) => [asset, key]),
  supply: table('supply', [0x07], record(SupplyRecord), none),
  // 0x08 (one reputation event per row: host ‖ height ‖ index) and 0x0b (a host's log of those rows) are retired: never reuse them (reputationHistory, 0x2a, replaced both).
  /** The last epoch an audit block settled. */
  lastAuditEpoch: table('lastAuditEpoch', [0x09, 0x01], U32BE, none),
  /** The executions whose input leaves state at a height. */
  executionExpiry: table('executionExpiry', [0x0a], record(ExecutionExpiry), (height: number) => [u32be(height)]),
  /** Unbonding funds by release height: released with one read per block. */
  unbonding: table('unbonding', [0x0c], record(UnbondingBucket), (releaseHeight: number) => [u32be(releaseHeight)]),
  /** Per address: its unbonding release heights and slash tombstone. */
  bondAccount: table('bondAccount', [0x0d, 0x01], record(BondAccount), (a: Address) => [a]),
  // 0x0d 0x02 (an execution's agreed result) is retired: never reuse it (the execution record, 0x2c, holds it).
  /** A host's receipt for an execution was slashed: that offence is punished once. */
  receiptOffence: table('receiptOffence', [0x0d, 0x03], MARK, (executionId: Hash, host: Address) => [executionId, host]),
  /** The audit index (storage/auditIndex.ts): how many assets it holds, */
  auditIndexCount: table('auditIndexCount', [0x0e, 0], U32BE, none),
  /** the asset at each dense position, */
  auditIndexPosition: table('auditIndexPosition', [0x0e, 1], RAW, (n: number) => [u32be(n)]),
  /** and each asset's position. */
  auditIndexSlot: table('auditIndexSlot', [0x0e, 2], U32BE, (asset: Hash) => [asset]),
  /** Placements waiting for storage acks (storage/placementQueue.ts): the queue's (head, tail), */
  placementQueueBounds: table('placementQueueBounds', [0x0f, 0], U32BE_PAIR, none),
  /** and the asset at each sequence number. */
  placementQueueItem: table('placementQueueItem', [0x0f, 1], RAW, (seq: number) => [u32be(seq)]),
  /** Per asset: its execution queue (src/state/executionQueue.ts). */
  executionQueue: table('executionQueue', [0x11], record(ExecutionQueue), (asset: Hash) => [asset]),
  // 0x12 (one row per unsettled execution: asset ‖ seq → id) is retired: never reuse it (executionQueuePage, 0x2b, replaced it).
  /** The beacon's running mix (src/state/beaconState.ts). */
  beaconMix: table('beaconMix', [0x20], RAW, none),
  /** Per validator: its beacon chain's last revealed value, reveals made, chain generation. */
  beaconRecord: table('beaconRecord', [0x21], record(BeaconRecord), (a: Address) => [a]),
  /** Which shards each host holds: host ‖ asset ‖ shard index (storage/repairQueue.ts). */
  hostShards: table('hostShards', [0x25], MARK, (host: Address, asset: Hash, shardIndex: number) => [host, asset, new Uint8Array([shardIndex])]),
  /** Assets with a lost shard, repaired by the next audit blocks whether sampled or not. */
  repairQueue: table('repairQueue', [0x26], MARK, (asset: Hash) => [asset]),
  /** The open liveness epoch: its number, beacon mix and blocks (storage/livenessState.ts). */
  livenessEpoch: table('livenessEpoch', [0x27, 0], record(LivenessEpochRecord), none),
  /** Proposers of the open epoch's blocks, counted once each: u32be(epoch) ‖ validator. */
  livenessProposer: table('livenessProposer', [0x27, 1], MARK, (epoch: number, validator: Address) => [u32be(epoch), validator]),
  /** Tracked hosts by the epoch they must heartbeat in: u32be(due) ‖ host. An epoch's end reads one prefix: its missing hosts. */
  livenessDue: table('livenessDue', [0x28], MARK, (due: number, host: Address) => [u32be(due), host]),
  /** Per tracked host: its due epoch and consecutive misses. */
  livenessHost: table('livenessHost', [0x29], record(LivenessHostRecord), (host: Address) => [host]),
  /** Per host: its last reputationHistoryLimit reputation events, oldest first (one row per host, rewritten once per block that moves it). */
  reputationHistory: table('reputationHistory', [0x2a], record(ReputationHistory), (host: Address) => [host]),
  /** An asset's executions by sequence number, QUEUE_PAGE_SIZE ids to a row (asset ‖ u64be(seq / QUEUE_PAGE_SIZE) → the ids, concatenated; big-endian: a scan walks them in order). */
  executionQueuePage: table('executionQueuePage', [0x2b], RAW, (asset: Hash, page: bigint) => [asset, u64be(page)]),
} as const

/** Reads a row from any state reader (through a StateOverlay's decoded rows when given one). */
export function readRow<T>(state: StateReader, row: Row<T>): T | undefined {
  if (state.read !== undefined) return state.read(row)
  const bytes = state.get(row.key)
  return bytes === undefined ? undefined : row.codec.decode(bytes)
}

/** Whether `key` is a key of `table` (starts with its prefix). */
export function isKeyOf(table: { prefix: Uint8Array }, key: Uint8Array): boolean {
  const p = table.prefix
  if (key.length < p.length) return false
  for (let i = 0; i < p.length; i++) if (key[i] !== p[i]) return false
  return true
}

/** The id part of a key of `table` (what follows its prefix). */
export function idOfKey(table: { prefix: Uint8Array }, key: Uint8Array): Uint8Array {
  return key.subarray(table.prefix.length)
}

/** The rows of `table` (whose keys also start with `within`, an id prefix), in key order. */
export function scanRows<T>(state: { scan(prefix: Uint8Array): { key: Uint8Array; value: Uint8Array | undefined }[] }, table: StateTable<never, T>, within: Uint8Array = new Uint8Array(0)): { key: Uint8Array; row: T }[] {
  return state.scan(concatBytes(table.prefix, within)).map((w) => ({ key: w.key, row: table.codec.decode(w.value!) }))
}
