import { afterEach, describe, expect, it, vi } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import { CodecError } from '../../../../blocks/errors.ts'
import { txId, txSigningHash } from '../../../../blocks/ids.ts'
import { SignedTx } from '../../../../blocks/schema.ts'
import { hash, toHex } from '../../../../src/crypto/index.ts'
import type { NetNode } from '../../../../src/net/index.ts'
import { createLogger } from '../../../../src/node/logger.ts'
import { decodeTxBatch, MAX_TXS_PER_GOSSIP, TxGossipBatch, TxGossipBatcher, txGossipBatcherOf, txGossipWindowMs } from '../../../../src/node/network/txGossipBatch.ts'
import { signTx, testKey, transfer } from '../../../support/chainFixtures.ts'

const alice = testKey('tx-batch-alice')

/** A batcher on a hand-driven clock; every published message decoded back into its txs. */
function setup(opts: { windowMs?: number; maxBytes?: number } = {}) {
  let now = 1_000
  const sent: SignedTx[][] = []
  const batcher = new TxGossipBatcher({ publish: async (bytes) => void sent.push(decode(TxGossipBatch, bytes)), now: () => now, ...opts })
  return { batcher, sent, advance: (ms: number) => void (now += ms) }
}

describe('TxGossipBatcher: the txs a node gossips, coalesced', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends a lone tx at once (no added latency when the node is quiet)', () => {
    const { batcher, sent } = setup()
    batcher.add(transfer(alice, 0, alice.publicKey, 1n))
    expect(sent.map((b) => b.length)).toEqual([1])
    expect(batcher.waiting).toBe(0)
  })

  it('sends a burst within the window as one message, in admission order', async () => {
    vi.useFakeTimers()
    const { batcher, sent, advance } = setup({ windowMs: 25 })
    for (let n = 0; n < 10; n++) batcher.add(transfer(alice, n, alice.publicKey, 1n))
    expect(sent.map((b) => b.length)).toEqual([1])
    advance(25)
    await vi.advanceTimersByTimeAsync(25)
    expect(sent.map((b) => b.length)).toEqual([1, 9])
    expect(sent.flat().map((tx) => tx.body.nonce)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('never exceeds the count cap or the byte bound (a big tx leaves alone)', () => {
    const { batcher, sent } = setup({ windowMs: 1_000_000, maxBytes: 4096 })
    const small = transfer(alice, 0, alice.publicKey, 1n)
    for (let n = 0; n < 3 * MAX_TXS_PER_GOSSIP; n++) batcher.add(small)
    const big = signTx(alice, 0, { type: 'execute', asset: new Uint8Array(32), fn: 'run', input: new Uint8Array(8000), fuelLimit: 1n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false, deadlineSlots: 10, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n }, { fee: 1n })
    batcher.add(big)
    batcher.flush()
    expect(sent.every((b) => b.length <= MAX_TXS_PER_GOSSIP)).toBe(true)
    expect(sent.flat().length).toBe(3 * MAX_TXS_PER_GOSSIP + 1)
    expect(sent.at(-1)).toHaveLength(1)
    expect(sent.length).toBeGreaterThan(3)
  })

  it('close drops what waits and stops the timer', async () => {
    vi.useFakeTimers()
    const { batcher, sent } = setup({ windowMs: 25 })
    batcher.add(transfer(alice, 0, alice.publicKey, 1n))
    batcher.add(transfer(alice, 1, alice.publicKey, 1n))
    batcher.close()
    await vi.advanceTimersByTimeAsync(100)
    expect(sent.map((b) => b.length)).toEqual([1])
  })

  it('a validator\'s batches leave by its direct links; gossip only when the links did not reach every member', () => {
    const published: string[] = []
    // Only publish is reached by the batcher: a stand-in for the real node (the links' delivery is tested in test/integration/net/validatorLinks.test.ts).
    const net = { publish: async (topic: string) => void published.push(topic) } as unknown as NetNode
    const direct: number[] = []
    let linked = true
    const batcher = txGossipBatcherOf(net, createLogger({ level: 'silent' }), 500, (bytes) => (direct.push(decode(TxGossipBatch, bytes).length), linked))
    batcher.add(transfer(alice, 0, alice.publicKey, 1n))
    expect(direct).toEqual([1])
    expect(published).toEqual([])
    linked = false
    batcher.flush()
    batcher.add(transfer(alice, 1, alice.publicKey, 1n))
    batcher.flush()
    expect(direct).toEqual([1, 1])
    expect(published).toEqual(['transactions'])
    batcher.close()
  })

  it('a node\'s batcher waits a fifth of the slot (25-200 ms): a burst of local txs shares one message per window', async () => {
    expect([100, 500, 2_000, 5_000].map(txGossipWindowMs)).toEqual([25, 100, 200, 200])
    vi.useFakeTimers()
    const direct: number[] = []
    const net = { publish: async () => undefined } as unknown as NetNode
    const batcher = txGossipBatcherOf(net, createLogger({ level: 'silent' }), 500, (bytes) => (direct.push(decode(TxGossipBatch, bytes).length), true))
    batcher.add(transfer(alice, 0, alice.publicKey, 1n))
    // A steady trickle, one tx every 10 ms: at 25 ms it left in four messages, here in one.
    for (let n = 1; n <= 9; n++) {
      await vi.advanceTimersByTimeAsync(10)
      batcher.add(transfer(alice, n, alice.publicKey, 1n))
    }
    expect(direct).toEqual([1])
    await vi.advanceTimersByTimeAsync(10)
    expect(direct).toEqual([1, 9])
    batcher.close()
  })
})

describe('decodeTxBatch: decode(TxGossipBatch) with each tx\'s canonical bytes noted', () => {
  // One signed tx with other nonces (the codec does not check signatures): quick to make.
  const signed = transfer(alice, 0, alice.publicKey, 1n)
  const batchOf = (n: number, from = 0): SignedTx[] => Array.from({ length: n }, (_, i) => ({ ...signed, body: { ...signed.body, nonce: from + i } }))

  it('gives what decode gives, and each tx the id and signing hash of its own encoding (1, 15, 16 and 256 txs)', () => {
    for (const [n, from] of [[1, 0], [15, 1000], [16, 2000], [MAX_TXS_PER_GOSSIP, 3000]] as const) {
      const bytes = encode(TxGossipBatch, batchOf(n, from))
      const txs = decodeTxBatch(bytes)
      expect(txs).toEqual(decode(TxGossipBatch, bytes))
      for (const tx of txs) {
        expect(toHex(txId(tx))).toBe(toHex(hash(encode(SignedTx, tx))))
        expect(toHex(txSigningHash(tx.body))).toBe(toHex(txSigningHash(decode(SignedTx, encode(SignedTx, tx)).body)))
      }
    }
  })

  it('attack: refuses what decode refuses (a longer array head, a trailing byte, a tx not canonical, an empty message, too many txs)', () => {
    const three = encode(TxGossipBatch, batchOf(3, 5000))
    const longHead = new Uint8Array([0xdc, 0, 3, ...three.subarray(1)])
    const trailing = new Uint8Array([...three, 0xc0])
    // The first tx's nonce (a u32 inside it) written as uint 32 instead of its shortest form.
    const tx = encode(SignedTx, batchOf(1, 7)[0]!)
    const nonceAt = tx.indexOf(7, 3)
    const loose = new Uint8Array([0x91, ...tx.subarray(0, nonceAt), 0xce, 0, 0, 0, 7, ...tx.subarray(nonceAt + 1)])
    expect(decode(TxGossipBatch, encode(TxGossipBatch, batchOf(1, 7)))).toHaveLength(1)
    const tooMany = encode(TxGossipBatch, batchOf(MAX_TXS_PER_GOSSIP, 6000))
    const overCap = new Uint8Array([0xdc, 1, 1, ...tooMany.subarray(3), ...tooMany.subarray(3, 3 + tx.length)])
    for (const bad of [longHead, trailing, loose, new Uint8Array(0), overCap]) {
      expect(() => decode(TxGossipBatch, bad)).toThrow(CodecError)
      expect(() => decodeTxBatch(bad)).toThrow(CodecError)
    }
  })
})
