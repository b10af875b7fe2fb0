// CPU of a follower's first look at a committed block it never saw (a host): decode, the body
// root (an encode per entry) and each tx's id (an encode per tx), against the same with the entry
// and tx hashes taken from slices of the block's bytes (blocks/ids.ts noteBlockBytes), and against
// decodeCommittedBlock (canonical without re-encoding the whole block). Blocks like bench:devnet's
// execution phase: E execution entries and E completions (3 receipts, 2 writes). Rounds alternate.
// usage: npx tsx scripts/bench/blockBytesNote.ts [--executions 12 --blocks 200 --rounds 7]
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { blockHash, computeBodyRoot, decodeCommittedBlock, noteBlockBytes, txId, txSigningHash } from '../../blocks/ids.ts'
import { Block, type BlockEntry } from '../../blocks/schema.ts'
import { generateKeyPair, hash, sign, utf8, ZERO_HASH } from '../../src/crypto/index.ts'

const { values } = parseArgs({ options: { executions: { type: 'string', default: '12' }, blocks: { type: 'string', default: '200' }, rounds: { type: 'string', default: '7' } } })
const E = Number(values.executions)
const key = generateKeyPair()
const execEntry = (n: number): BlockEntry => {
  const body = { chainId: 'xsc-bench', from: key.publicKey, nonce: n, fee: 1000n, payload: { type: 'execute' as const, asset: hash(utf8('asset')), fn: 'fib', input: new Uint8Array(4), fuelLimit: 1_000_000n, bidPerFuel: 2n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n } }
  return { type: 'execution', tx: { body, signature: sign(key.secretKey, txSigningHash(body)) }, assignment: [hash(utf8('a')), hash(utf8('b')), hash(utf8('c'))], escrow: 6_000_000n }
}
const completion = (n: number): BlockEntry => {
  const id = hash(utf8(`exec ${n}`))
  const receipt = (h: number) => ({ body: { chainId: 'xsc-bench', executionId: id, host: hash(utf8(`host ${h}`)), outcome: 0, resultHash: hash(utf8('r')), fuelUsed: 320_139n, writeSetHash: hash(utf8('w')), output: new Uint8Array(8), preStateHash: hash(utf8(`s ${n}`)) }, signature: new Uint8Array(64).fill(h) })
  return { type: 'completion', executionId: id, status: 0, outcome: 0, resultHash: hash(utf8('r')), fuelUsed: 320_139n, output: new Uint8Array(8), writeSet: [{ key: utf8('count'), value: new Uint8Array(8) }, { key: utf8('last'), value: new Uint8Array(32) }], receipts: [receipt(0), receipt(1), receipt(2)], payouts: [{ to: hash(utf8('host 0')), amount: 700_000n }, { to: hash(utf8('host 1')), amount: 640_000n }], refund: 4_000_000n, burn: 0n, reputation: [] }
}
const entries = [...Array.from({ length: E }, (_, i) => execEntry(i)), ...Array.from({ length: E }, (_, i) => completion(i))]
const block: Block = { header: { chainId: 'xsc-bench', height: 9, prevHash: ZERO_HASH, kind: 'execution', slot: 9, timestamp: 0n, proposer: ZERO_HASH, bodyRoot: computeBodyRoot(entries), stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal: ZERO_HASH, proofs: [], signature: new Uint8Array(64) }, entries }
// Distinct blocks (fresh tx signatures), so no tx memo of an earlier copy is reused.
const blocks = Array.from({ length: Number(values.blocks) }, (_, b) => {
  const own = entries.map((e) => ('tx' in e ? { ...e, tx: { ...e.tx, signature: sign(key.secretKey, hash(utf8(`${b} ${e.tx.body.nonce}`))) } } : e))
  return encode(Block, { header: { ...block.header, height: b, bodyRoot: computeBodyRoot(own) }, entries: own })
})
const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system }
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ids = blocks.map((bytes) => blockHash(decode(Block, bytes).header))
type Way = 'encoded' | 'noted' | 'committed'
/** CPU µs per block of decode + body root + tx ids: main's way (decode, encode each entry and tx), with the hashes from the slices, and decodeCommittedBlock (no whole-block re-encode). */
const run = (way: Way): number => {
  const t0 = cpuUs()
  blocks.forEach((bytes, i) => {
    const b = way === 'committed' ? decodeCommittedBlock(bytes, ids[i]!)! : decode(Block, bytes)
    if (way === 'noted') noteBlockBytes(b, bytes)
    computeBodyRoot(b.entries)
    for (const e of b.entries) if ('tx' in e) txId(e.tx)
  })
  return (cpuUs() - t0) / blocks.length
}
const ways: Way[] = ['encoded', 'noted', 'committed']
for (const w of ways) run(w) // warm-up
const us: Record<Way, number[]> = { encoded: [], noted: [], committed: [] }
for (let r = 0; r < Number(values.rounds); r++) for (const w of ways) us[w].push(run(w))
const m = (w: Way): number => Math.round(median(us[w]))
console.log(JSON.stringify({ entries: entries.length, blockBytes: blocks[0]!.length, rounds: us.encoded.length, encodedUsPerBlock: m('encoded'), notedUsPerBlock: m('noted'), committedUsPerBlock: m('committed'), committedRatio: Number((m('committed') / m('encoded')).toFixed(3)), loadAvg1m: Number(loadavg()[0]!.toFixed(2)) }))
