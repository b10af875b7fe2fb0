import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { blockHash, computeBodyRoot, decodeCommittedBlock, entryHash, noteBlockBytes, txId } from '../../../blocks/ids.ts'
import { arrayHead, skipValue } from '../../../blocks/msgpackSpans.ts'
import { Block, BlockEntry, SignedTx } from '../../../blocks/schema.ts'
import { generateKeyPair, hash, leafHash, toHex, utf8, ZERO_HASH } from '../../../src/crypto/index.ts'
import { signTx, transfer } from '../../support/chainFixtures.ts'

const CHAIN = 'xsc-test'
const key = generateKeyPair()
const receipt = (n: number) => ({ body: { chainId: CHAIN, executionId: hash(utf8('exec')), host: generateKeyPair().publicKey, outcome: 0, resultHash: hash(utf8(`r${n}`)), fuelUsed: 10n + BigInt(n), writeSetHash: ZERO_HASH, output: new Uint8Array(300), preStateHash: ZERO_HASH }, signature: new Uint8Array(64) })
const execTx = (n: number) => signTx(key, n, { type: 'execute', asset: hash(utf8('asset')), fn: 'run', input: new Uint8Array(20 + n), fuelLimit: 1000n, bidPerFuel: 2n, replicas: 3, quorum: 2, private: false, deadlineSlots: 5, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n })
/** Same shapes for every n, other values: a tx, an execution, a completion of ~70 KB, 20 more txs (23 entries: an array 16 head). */
const entriesOf = (n: number): BlockEntry[] => [
  { type: 'tx', tx: transfer(key, n, generateKeyPair().publicKey, 10n + BigInt(n)) },
  { type: 'execution', tx: execTx(1000 + n), assignment: [ZERO_HASH, hash(utf8('h'))], escrow: 99n + BigInt(n) },
  { type: 'completion', executionId: hash(utf8('exec')), status: 0, outcome: 0, resultHash: ZERO_HASH, fuelUsed: 10n, output: new Uint8Array(n), writeSet: [{ key: utf8('k'), value: new Uint8Array(60_000) }, { key: utf8('l'), value: new Uint8Array(9_000) }], receipts: [receipt(n), receipt(n + 1), receipt(n + 2)], payouts: [{ to: ZERO_HASH, amount: 5n }], refund: 1n, burn: 0n, reputation: [] },
  ...Array.from({ length: 20 }, (_, i): BlockEntry => ({ type: 'tx', tx: transfer(key, 100 + n * 100 + i, ZERO_HASH, 1n) })),
]
const blockOf = (entries: BlockEntry[]): Block => ({
  header: { chainId: CHAIN, height: 5, prevHash: ZERO_HASH, kind: 'completion', slot: 11, timestamp: 0n, proposer: ZERO_HASH, bodyRoot: ZERO_HASH, stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal: ZERO_HASH, proofs: [], signature: new Uint8Array(64) },
  entries,
})
const txsOf = (b: Block) => b.entries.flatMap((e) => ('tx' in e ? [e.tx] : []))
const encodedHashes = (b: Block) => ({ entries: b.entries.map((e) => toHex(leafHash(encode(BlockEntry, e)))), ids: txsOf(b).map((tx) => toHex(hash(encode(SignedTx, tx)))) })

describe('entry hashes and tx ids from a decoded block\'s bytes', () => {
  it('equal the ones computed by encoding the values', () => {
    const bytes = encode(Block, blockOf(entriesOf(1)))
    const noted = decode(Block, bytes)
    noteBlockBytes(noted, bytes)
    const want = encodedHashes(decode(Block, bytes))
    expect(noted.entries.map((e) => toHex(entryHash(e)))).toEqual(want.entries)
    expect(txsOf(noted).map((tx) => toHex(txId(tx)))).toEqual(want.ids)
    expect(toHex(computeBodyRoot(noted.entries))).toBe(toHex(computeBodyRoot(decode(Block, bytes).entries)))
  })

  it('are taken from the bytes, not encoded: another block\'s bytes of the same shape give that block\'s hashes', () => {
    const a = decode(Block, encode(Block, blockOf(entriesOf(2))))
    const other = blockOf(entriesOf(3))
    noteBlockBytes(a, encode(Block, other))
    const want = encodedHashes(other)
    expect(a.entries.map((e) => toHex(entryHash(e)))).toEqual(want.entries)
    expect(txsOf(a).map((tx) => toHex(txId(tx)))).toEqual(want.ids)
  })

  it('bytes of another shape are ignored (the hashes are then encoded as before)', () => {
    const a = decode(Block, encode(Block, blockOf(entriesOf(4))))
    noteBlockBytes(a, encode(Block, blockOf(entriesOf(5).slice(0, 3))))
    noteBlockBytes(a, new Uint8Array([0xc0]))
    expect(encodedHashes(a)).toEqual({ entries: a.entries.map((e) => toHex(entryHash(e))), ids: txsOf(a).map((tx) => toHex(txId(tx))) })
  })

  it('skipValue spans every msgpack form; arrayHead reads the three array heads', () => {
    const items: unknown[] = [1, -5, -100, 200, 300, -300, 70_000, -70_000, 2 ** 33, -(2 ** 33), 'a', 'x'.repeat(40), 'y'.repeat(300), 'z'.repeat(70_000), new Uint8Array(10), new Uint8Array(300), new Uint8Array(70_000), null, true, false, 1.5, { a: 1, b: [2] }, [[]], Array(20).fill(1), Array(70_000).fill(0)]
    const packr = new Packr({ useRecords: false })
    for (const v of items) {
      const b = packr.pack(v)
      expect(skipValue(b, 0)).toBe(b.length)
    }
    const all = packr.pack(items)
    const head = arrayHead(all, 0)!
    expect(head.length).toBe(items.length)
    let at = head.first
    for (let i = 0; i < items.length; i++) at = skipValue(all, at)
    expect(at).toBe(all.length)
    expect(arrayHead(packr.pack(Array(20).fill(1)), 0)).toEqual({ length: 20, first: 3 })
    expect(arrayHead(packr.pack(Array(70_000).fill(0)), 0)).toEqual({ length: 70_000, first: 5 })
    expect(() => skipValue(all.subarray(0, all.length - 1), 0)).toThrow(RangeError)
  })
})

const committed = () => {
    const entries = entriesOf(6)
    const block = blockOf(entries)
    const sealed = { ...block, header: { ...block.header, bodyRoot: computeBodyRoot(entries) } }
    return { bytes: encode(Block, sealed), id: blockHash(sealed.header) }
}
const splice = (b: Uint8Array, at: number, remove: number, insert: number[]): Uint8Array => new Uint8Array([...b.subarray(0, at), ...insert, ...b.subarray(at + remove)])

/** Non-canonical spellings of `committed()`'s bytes, each a single change. */
function respellings(bytes: Uint8Array): Record<string, Uint8Array> {
  const top = arrayHead(bytes, 0)!
  const headerEnd = skipValue(bytes, top.first)
  const list = arrayHead(bytes, headerEnd)!
  expect(bytes[headerEnd]).toBe(0xdc)
  // The completion (third entry): [4, executionId (bin 8 of 32), status, …]; status 0 spelled as uint 8.
  const third = skipValue(bytes, skipValue(bytes, list.first))
  expect([bytes[third]! & 0xf0, bytes[third + 1], bytes[third + 2], bytes[third + 36]]).toEqual([0x90, 0x04, 0xc4, 0x00])
  // The header: [version, chainId, height 5, …]; height spelled as uint 16.
  const height = skipValue(bytes, skipValue(bytes, arrayHead(bytes, top.first)!.first))
  expect(bytes[height]).toBe(5)
  return {
    'a longer list head (array 32 for 23)': splice(bytes, headerEnd, 3, [0xdd, 0, 0, 0, list.length]),
    'an entry field as uint 8': splice(bytes, third + 36, 1, [0xcc, 0x00]),
    'a header field as uint 16': splice(bytes, height, 1, [0xcd, 0x00, 0x05]),
    'a longer top head': splice(bytes, 0, 1, [0xdc, 0x00, 0x02]),
  }
}

describe('decodeCommittedBlock', () => {
  it('gives decode\'s block for the committed bytes, with its hashes from the slices; another id gives undefined', () => {
    const { bytes, id } = committed()
    const got = decodeCommittedBlock(bytes, id)!
    const want = decode(Block, bytes)
    expect(got).toEqual(want)
    expect(encodedHashes(got)).toEqual(encodedHashes(want))
    expect(got.entries.map((e) => toHex(entryHash(e)))).toEqual(encodedHashes(want).entries)
    expect(toHex(computeBodyRoot(got.entries))).toBe(toHex(want.header.bodyRoot))
    expect(decodeCommittedBlock(bytes, hash(utf8('another block')))).toBeUndefined()
  })

  it('refuses every other spelling of the committed block, as decode does', () => {
    const { bytes, id } = committed()
    const variants = respellings(bytes)
    for (const [what, b] of Object.entries(variants)) {
      expect(() => decode(Block, b), what).toThrow(/canonical/)
      expect(() => decodeCommittedBlock(b, id), what).toThrow(expect.objectContaining({ code: 'NON_CANONICAL' }))
    }
    expect(() => decodeCommittedBlock(new Uint8Array([...bytes, 0xc0]), id)).toThrow(expect.objectContaining({ code: 'MALFORMED' }))
  })
})
