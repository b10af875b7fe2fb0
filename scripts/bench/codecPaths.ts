/**
 * The codec's hot paths against the way they were before session 17, alternated round by round in
 * one process on the same inputs:
 * - `encode` (blocks/wireWriter.ts) against msgpackr's `pack` as `encode` used it, for a block as
 *   bench:devnet's execution phase makes them (60 entries: 20 executions, 20 completions of 3
 *   receipts, 20 transfers), one of its entries, and an activity row (the explorer index writes
 *   ~14 a settled execution);
 * - a pushed receipt batch (10 receipts): `decodeReceiptBatch` (each body's signing hash from
 *   its slice) against `decode` then the signing hashes from the values;
 * - a state key (33 bytes) as a Map key: `bytesKey` against `Buffer#toString('latin1')`.
 * Medians of the rounds' µs per item (ns per key); ratio = new / before, median of the rounds'.
 *
 *   npm run bench:codec [-- --rounds 9]
 *
 * Last line: one JSON object.
 */
import { parseArgs } from 'node:util'

import { Packr } from 'msgpackr'

import { decode, encode } from '../../blocks/codec.ts'
import { computeBodyRoot, receiptSigningHash } from '../../blocks/ids.ts'
import { Block, BlockEntry, type ReceiptGossip } from '../../blocks/schema.ts'
import { ActivityValue } from '../../src/chain/accountActivity.ts'
import { bytesKey, generateKeyPair, hash, sign, utf8, ZERO_HASH } from '../../src/crypto/index.ts'
import { decodeReceiptBatch, ReceiptGossipBatch } from '../../src/node/network/receiptGossipBatch.ts'
import { signTx, transfer } from '../../test/support/chainFixtures.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } })
const ROUNDS = Number(values.rounds)

const client = generateKeyPair()
const hosts = [generateKeyPair(), generateKeyPair(), generateKeyPair()]
let serial = 0
const receiptOf = (executionId: Uint8Array, host: (typeof hosts)[number]) => {
  const body = { chainId: 'xsc-bench', executionId, host: host.publicKey, outcome: 0, resultHash: hash(utf8(`r${serial++}`)), fuelUsed: 10_946n, writeSetHash: ZERO_HASH, output: new Uint8Array(8), preStateHash: ZERO_HASH }
  return { body, signature: sign(host.secretKey, receiptSigningHash(body)) }
}
const execute = (nonce: number) => signTx(client, nonce, { type: 'execute', asset: hash(utf8('asset')), fn: 'fib', input: new Uint8Array(4), fuelLimit: 1_000_000n, bidPerFuel: 1n, replicas: 3, quorum: 2, private: false, deadlineSlots: 5, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n })

/** A block as bench:devnet's execution phase makes them, with txs no earlier block had. */
function blockBytes(): Uint8Array {
  const entries: BlockEntry[] = []
  for (let i = 0; i < 20; i++) entries.push({ type: 'execution', tx: execute(serial++), assignment: hosts.map((h) => h.publicKey), escrow: 1_000_000n })
  for (let i = 0; i < 20; i++) {
    const executionId = hash(utf8(`execution ${serial++}`))
    entries.push({ type: 'completion', executionId, status: 0, outcome: 0, resultHash: ZERO_HASH, fuelUsed: 10_946n, output: new Uint8Array(8), writeSet: [], receipts: hosts.map((h) => receiptOf(executionId, h)), payouts: hosts.map((h) => ({ to: h.publicKey, amount: 3_000n })), refund: 900_000n, burn: 0n, reputation: [] })
  }
  for (let i = 0; i < 20; i++) entries.push({ type: 'tx', tx: transfer(client, serial++, ZERO_HASH, 1n) })
  const header = { chainId: 'xsc-bench', height: 5, prevHash: ZERO_HASH, kind: 'completion' as const, slot: 11, timestamp: 0n, proposer: ZERO_HASH, bodyRoot: computeBodyRoot(entries), stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal: ZERO_HASH, proofs: [], signature: new Uint8Array(64) }
  return encode(Block, { header, entries })
}
function receiptBatchBytes(): Uint8Array {
  const batch: ReceiptGossip[] = Array.from({ length: 10 }, () => ({ receipt: receiptOf(hash(utf8(`execution ${serial++}`)), hosts[0]!), writeSet: [] }))
  return encode(ReceiptGossipBatch, batch)
}

const msgpackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, structuredClone: false, mapsAsObjects: true })
const encodeBefore = <T>(codec: { toWire(v: T): unknown }, value: T): Uint8Array => new Uint8Array(msgpackr.pack(codec.toWire(value)))
const toEncode = Array.from({ length: 20 }, () => decode(Block, blockBytes()))
const entries = toEncode.flatMap((b) => b.entries)
const rows = Array.from({ length: 2_000 }, (_, i) => ({ role: i % 5, ref: hash(utf8(`row ${i}`)), amount: BigInt(i) * 1_000n, aux: i, slot: 1_000 + i, entry: i % 60 }))

const before = {
  encodeBlock: (b: Block) => encodeBefore(Block, b),
  encodeEntry: (e: BlockEntry) => encodeBefore(BlockEntry, e),
  encodeRow: (r: ActivityValue) => encodeBefore(ActivityValue, r),
  receipts: (bytes: Uint8Array) => {
    for (const msg of decode(ReceiptGossipBatch, bytes)) receiptSigningHash(msg.receipt.body)
  },
  key: (key: Uint8Array) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'),
}
const after = {
  encodeBlock: (b: Block) => encode(Block, b),
  encodeEntry: (e: BlockEntry) => encode(BlockEntry, e),
  encodeRow: (r: ActivityValue) => encode(ActivityValue, r),
  receipts: (bytes: Uint8Array) => {
    for (const msg of decodeReceiptBatch(bytes)) receiptSigningHash(msg.receipt.body)
  },
  key: bytesKey,
}

/** µs per item of `f` over `items`. */
function perItemUs<T>(items: readonly T[], f: (item: T) => unknown): number {
  const start = process.hrtime.bigint()
  for (const item of items) f(item)
  return Number(process.hrtime.bigint() - start) / items.length / 1000
}

const keys = Array.from({ length: 20_000 }, (_, i) => new Uint8Array([0x01, ...hash(utf8(`key ${i}`))]))
type Series = { before: number[]; after: number[] }
const kinds = ['encodeBlock', 'encodeEntry', 'encodeRow', 'receipts', 'key'] as const
const series = Object.fromEntries(kinds.map((k) => [k, { before: [], after: [] }])) as unknown as Record<(typeof kinds)[number], Series>
const arms = [['before', before], ['after', after]] as const
for (let r = -1; r < ROUNDS; r++) { // round -1 warms both arms up
  for (const [name, arm] of r % 2 === 0 ? arms : [...arms].reverse()) {
    const receipts = Array.from({ length: 200 }, receiptBatchBytes)
    const times = { encodeBlock: perItemUs(toEncode, arm.encodeBlock), encodeEntry: perItemUs(entries, arm.encodeEntry), encodeRow: perItemUs(rows, arm.encodeRow), receipts: perItemUs(receipts, arm.receipts), key: perItemUs(keys, arm.key) * 1000 }
    if (r >= 0) for (const k of Object.keys(series) as (keyof typeof series)[]) series[k][name].push(times[k])
  }
}
const ratio = (s: Series) => round(median(s.after.map((x, i) => x / s.before[i]!)), 2)
console.log(JSON.stringify({
  rounds: ROUNDS,
  encodeBlockUs: round(median(series.encodeBlock.after)),
  encodeBlockUsBefore: round(median(series.encodeBlock.before)),
  encodeBlockRatio: ratio(series.encodeBlock),
  encodeEntryUs: round(median(series.encodeEntry.after), 2),
  encodeEntryUsBefore: round(median(series.encodeEntry.before), 2),
  encodeEntryRatio: ratio(series.encodeEntry),
  encodeRowUs: round(median(series.encodeRow.after), 2),
  encodeRowUsBefore: round(median(series.encodeRow.before), 2),
  encodeRowRatio: ratio(series.encodeRow),
  receiptBatchUs: round(median(series.receipts.after), 1),
  receiptBatchUsBefore: round(median(series.receipts.before), 1),
  receiptBatchRatio: ratio(series.receipts),
  stateKeyNs: round(median(series.key.after)),
  stateKeyNsBefore: round(median(series.key.before)),
  stateKeyRatio: ratio(series.key),
}))
