/**
 * What a validator does with a message's bytes before judging it, against the way it did it before
 * session 17, alternated round by round in one process on the same inputs:
 * - a proposed block (60 entries: 20 executions, 20 completions of 3 receipts, 20 transfers):
 *   `decodeProposedBlock` (the id and entry hashes from the checked bytes) against `decode` then
 *   the body root and id from the values (each entry that is not a known tx encoded again), its
 *   txs never seen (`fresh`) and admitted before (`seen`, as a proposal's txs usually are);
 * - a pushed receipt batch (10 receipts): `decodeReceiptBatch` (each body's signing hash from
 *   its slice) against `decode` then the signing hashes from the values;
 * - a state key (33 bytes) as a Map key: `bytesKey` against `Buffer#toString('latin1')`.
 * Medians of the rounds' µs per item (ns per key); ratio = new / before, median of the rounds'.
 *
 *   npm run bench:decode-paths [-- --rounds 9]
 *
 * Last line: one JSON object.
 */
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { blockHash, computeBodyRoot, decodeProposedBlock, receiptSigningHash, txId } from '../../blocks/ids.ts'
import { Block, type BlockEntry, type ReceiptGossip } from '../../blocks/schema.ts'
import { bytesKey, generateKeyPair, hash, sign, utf8, ZERO_HASH } from '../../src/crypto/index.ts'
import { decodeReceiptBatch, ReceiptGossipBatch } from '../../src/node/network/receiptGossipBatch.ts'
import { signTx, transfer } from '../../test/support/chainFixtures.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } })
const ROUNDS = Number(values.rounds)
const BLOCKS_PER_ROUND = 40

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
/** Admits a block's txs as a mempool would have (decoded copies, ids computed): its txs are then known. */
function admitTxsOf(bytes: Uint8Array): void {
  for (const e of decode(Block, bytes).entries) if ('tx' in e) txId(e.tx)
}
function receiptBatchBytes(): Uint8Array {
  const batch: ReceiptGossip[] = Array.from({ length: 10 }, () => ({ receipt: receiptOf(hash(utf8(`execution ${serial++}`)), hosts[0]!), writeSet: [] }))
  return encode(ReceiptGossipBatch, batch)
}

const before = {
  block: (bytes: Uint8Array) => {
    const block = decode(Block, bytes)
    computeBodyRoot(block.entries)
    blockHash(block.header)
  },
  receipts: (bytes: Uint8Array) => {
    for (const msg of decode(ReceiptGossipBatch, bytes)) receiptSigningHash(msg.receipt.body)
  },
  key: (key: Uint8Array) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'),
}
const after = {
  block: (bytes: Uint8Array) => {
    const block = decodeProposedBlock(bytes)
    computeBodyRoot(block.entries)
    blockHash(block.header)
  },
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
const series: Record<'fresh' | 'seen' | 'receipts' | 'key', Series> = { fresh: { before: [], after: [] }, seen: { before: [], after: [] }, receipts: { before: [], after: [] }, key: { before: [], after: [] } }
const arms = [['before', before], ['after', after]] as const
for (let r = -1; r < ROUNDS; r++) { // round -1 warms both arms up
  for (const [name, arm] of r % 2 === 0 ? arms : [...arms].reverse()) {
    const fresh = Array.from({ length: BLOCKS_PER_ROUND }, blockBytes)
    const seen = Array.from({ length: BLOCKS_PER_ROUND }, blockBytes)
    seen.forEach(admitTxsOf)
    const receipts = Array.from({ length: 200 }, receiptBatchBytes)
    const times = { fresh: perItemUs(fresh, arm.block), seen: perItemUs(seen, arm.block), receipts: perItemUs(receipts, arm.receipts), key: perItemUs(keys, arm.key) * 1000 }
    if (r >= 0) for (const k of Object.keys(series) as (keyof typeof series)[]) series[k][name].push(times[k])
  }
}
const ratio = (s: Series) => round(median(s.after.map((x, i) => x / s.before[i]!)), 2)
console.log(JSON.stringify({
  rounds: ROUNDS,
  proposedBlockFreshUs: round(median(series.fresh.after)),
  proposedBlockFreshUsBefore: round(median(series.fresh.before)),
  proposedBlockFreshRatio: ratio(series.fresh),
  proposedBlockSeenUs: round(median(series.seen.after)),
  proposedBlockSeenUsBefore: round(median(series.seen.before)),
  proposedBlockSeenRatio: ratio(series.seen),
  receiptBatchUs: round(median(series.receipts.after), 1),
  receiptBatchUsBefore: round(median(series.receipts.before), 1),
  receiptBatchRatio: ratio(series.receipts),
  stateKeyNs: round(median(series.key.after)),
  stateKeyNsBefore: round(median(series.key.before)),
  stateKeyRatio: ratio(series.key),
}))
