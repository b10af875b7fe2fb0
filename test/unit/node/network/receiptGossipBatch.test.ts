import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'

import { decode, encode, list } from '../../../../blocks/codec.ts'
import { CodecError } from '../../../../blocks/errors.ts'
import { computeResultHash, computeWriteSetHash } from '../../../../blocks/executionHashes.ts'
import { noteReceiptBodyBytes, receiptSigningHash } from '../../../../blocks/ids.ts'
import { type Hash, OUTCOME, type Receipt, type ReceiptBody, ReceiptGossip } from '../../../../blocks/schema.ts'
import { ReceiptPool } from '../../../../src/chain/receiptPool.ts'
import { hash, sign, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { admitReceiptBatch, decodeReceiptBatch, MAX_RECEIPTS_PER_GOSSIP, ReceiptGossipBatch, ReceiptGossipBatcher } from '../../../../src/node/network/receiptGossipBatch.ts'
import { EXECUTION_STATUS } from '../../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../../src/state/stateView.ts'
import { TABLES } from '../../../../src/state/tables.ts'
import { receipt as anyReceipt } from '../../../support/arbitraries.ts'
import { testGenesis, testKey } from '../../../support/chainFixtures.ts'

// A host's receipts gossiped as one message per window; validators judge the batch with the real
// receipt pool (each signature verified once) and real signatures.
const genesis = testGenesis({})
const host = testKey('receipt-batch-host')
const state = new StateOverlay(new MemoryState())
const executions: Hash[] = Array.from({ length: 5 }, (_, i) => hash(utf8(`receipt-batch-execution-${i}`)))
for (const [i, executionId] of executions.entries()) {
  state.write(TABLES.execution.at(executionId), {
    client: testKey('receipt-batch-client').publicKey, asset: hash(utf8('asset')), fn: 'run', input: new Uint8Array(0), fuelLimit: 1000n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false,
    assignment: [host.publicKey], escrow: 1000n, startSlot: 1, deadlineSlot: 50, status: i === 4 ? EXECUTION_STATUS.completed : EXECUTION_STATUS.pending, origin: { x: 0, y: 0, z: 0 }, seq: BigInt(i), agreed: undefined,
  })
}

function gossip(executionId: Hash, signer = host): ReceiptGossip {
  const output = utf8('out')
  const body: ReceiptBody = { chainId: genesis.chainId, executionId, host: host.publicKey, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 10n, writeSetHash: computeWriteSetHash([]), output, preStateHash: hash(utf8('pre')) }
  const receipt: Receipt = { body, signature: sign(signer.secretKey, receiptSigningHash(body)) }
  return { receipt, writeSet: [] }
}

/** A validator's judgement of the bytes as gossip hands them over: decode, then admit each receipt. */
function judge(pool: ReceiptPool, bytes: Uint8Array, settled: Receipt[] = []): string {
  let batch: ReceiptGossip[]
  try {
    batch = decode(ReceiptGossipBatch, bytes)
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError)
    return 'reject'
  }
  return admitReceiptBatch(batch, (m) => pool.add(m.receipt, m.writeSet, state), (r) => void settled.push(r))
}

describe('receipt gossip batches', () => {
  it('a batch of good receipts is accepted and each is held, verified once', () => {
    const pool = new ReceiptPool(genesis.chainId)
    const batch = executions.slice(0, 3).map((id) => gossip(id))
    expect(judge(pool, encode(ReceiptGossipBatch, batch))).toBe('accept')
    for (const m of batch) expect(pool.hasChecked(m.receipt)).toBe(true)
    // The same batch again: nothing new, ignored (not forwarded, no penalty).
    expect(judge(pool, encode(ReceiptGossipBatch, batch))).toBe('ignore')
  })

  it('attack: an empty batch is rejected', () => {
    expect(judge(new ReceiptPool(genesis.chainId), encode(ReceiptGossipBatch, []))).toBe('reject')
  })

  it('attack: a batch over the item bound is rejected at decode', () => {
    const many = Array.from({ length: MAX_RECEIPTS_PER_GOSSIP + 1 }, () => gossip(executions[0]!))
    expect(judge(new ReceiptPool(genesis.chainId), encode(list(ReceiptGossip, 1_000), many))).toBe('reject')
  })

  it('attack: one forged receipt among good ones rejects the batch; the good ones stay admitted, the forged one is not held', () => {
    const pool = new ReceiptPool(genesis.chainId)
    const forged = gossip(executions[1]!, testKey('receipt-batch-forger'))
    const batch = [gossip(executions[0]!), forged, gossip(executions[2]!)]
    expect(judge(pool, encode(ReceiptGossipBatch, batch))).toBe('reject')
    expect(pool.hasChecked(batch[0]!.receipt)).toBe(true)
    expect(pool.hasChecked(batch[2]!.receipt)).toBe(true)
    expect(pool.hasChecked(forged.receipt)).toBe(false)
  })

  it('a late receipt (execution settled) is offered as possible evidence and ignored; an unknown execution is ignored', () => {
    const settled: Receipt[] = []
    const late = gossip(executions[4]!)
    expect(judge(new ReceiptPool(genesis.chainId), encode(ReceiptGossipBatch, [late, gossip(hash(utf8('unknown')))]), settled)).toBe('ignore')
    expect(settled).toEqual([late.receipt])
  })

  it('the batcher sends a lone receipt at once and a burst within the window as one message', async () => {
    vi.useFakeTimers()
    try {
      let now = 1_000
      const sent: ReceiptGossip[][] = []
      const batcher = new ReceiptGossipBatcher({ publish: async (bytes) => void sent.push(decode(ReceiptGossipBatch, bytes)), now: () => now, windowMs: 25 })
      for (const id of executions.slice(0, 4)) batcher.add(gossip(id))
      expect(sent.map((b) => b.length)).toEqual([1])
      now += 25
      await vi.advanceTimersByTimeAsync(25)
      expect(sent.map((b) => b.length)).toEqual([1, 3])
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('a held batcher (a host\'s pass over an asset\'s executions)', () => {
  const held = async (run: (b: ReceiptGossipBatcher, sent: ReceiptGossip[][], advance: (ms: number) => Promise<void>) => Promise<void>): Promise<void> => {
    vi.useFakeTimers()
    try {
      let now = 1_000
      const sent: ReceiptGossip[][] = []
      const batcher = new ReceiptGossipBatcher({ publish: async (bytes) => void sent.push(decode(ReceiptGossipBatch, bytes)), now: () => now, windowMs: 25, maxHoldMs: 100 })
      await run(batcher, sent, async (ms) => {
        now += ms
        await vi.advanceTimersByTimeAsync(ms)
      })
    } finally {
      vi.useRealTimers()
    }
  }

  it('sends what was added while held as one message when released, the first item included', () => held(async (batcher, sent, advance) => {
    const release = batcher.hold()
    for (const id of executions.slice(0, 4)) {
      batcher.add(gossip(id))
      await advance(10)
    }
    expect(sent).toEqual([])
    release()
    expect(sent.map((b) => b.length)).toEqual([4])
    release() // twice is once: nothing more is sent, and the next hold works as the first
    expect(sent.map((b) => b.length)).toEqual([4])
  }))

  it('waits for every holder, but no item waits longer than maxHoldMs', () => held(async (batcher, sent, advance) => {
    const first = batcher.hold()
    const second = batcher.hold()
    batcher.add(gossip(executions[0]!))
    first()
    expect(sent).toEqual([])
    await advance(99)
    batcher.add(gossip(executions[1]!))
    expect(sent).toEqual([])
    await advance(1)
    expect(sent.map((b) => b.length)).toEqual([2])
    batcher.add(gossip(executions[2]!))
    second()
    expect(sent.map((b) => b.length)).toEqual([2, 1])
  }))

  it('still sends a full batch at once, and releasing with nothing held back sends nothing', () => held(async (batcher, sent) => {
    const release = batcher.hold()
    const many = Array.from({ length: MAX_RECEIPTS_PER_GOSSIP + 1 }, (_, i) => hash(utf8(`held ${i}`)))
    for (const id of many) batcher.add(gossip(id))
    expect(sent.map((b) => b.length)).toEqual([MAX_RECEIPTS_PER_GOSSIP])
    release()
    expect(sent.map((b) => b.length)).toEqual([MAX_RECEIPTS_PER_GOSSIP, 1])
    batcher.hold()()
    expect(sent).toHaveLength(2)
  }))
})

describe('decodeReceiptBatch', () => {
  const write = fc.record({ key: fc.uint8Array({ minLength: 1, maxLength: 40 }), value: fc.option(fc.uint8Array({ maxLength: 80 }), { nil: undefined }) })
  const item = fc.record({ receipt: anyReceipt, writeSet: fc.array(write, { maxLength: 3 }) })

  it('gives decode\'s batch, each body\'s signing hash the one its encoding gives (any batch, 1 to 20 receipts)', () => {
    fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 20 }), (batch) => {
      const bytes = encode(ReceiptGossipBatch, batch)
      const got = decodeReceiptBatch(bytes)
      expect(got).toEqual(decode(ReceiptGossipBatch, bytes))
      got.forEach((msg, i) => expect(toHex(receiptSigningHash(msg.receipt.body))).toBe(toHex(receiptSigningHash(decode(ReceiptGossipBatch, bytes)[i]!.receipt.body))))
    }), { numRuns: 150 })
  })

  it('keeps the first hash noted for a body, and refuses non-canonical or cut bytes as decode does', () => {
    const batch = fc.sample(fc.array(item, { minLength: 2, maxLength: 2 }), 1)[0]!
    const bytes = encode(ReceiptGossipBatch, batch)
    const got = decodeReceiptBatch(bytes)
    // A body already noted keeps its first hash: noting other bytes later changes nothing.
    const before = receiptSigningHash(got[0]!.receipt.body)
    noteReceiptBodyBytes(got[0]!.receipt.body, utf8('other bytes'))
    expect(receiptSigningHash(got[0]!.receipt.body)).toBe(before)
    const longHead = new Uint8Array([0xdc, 0x00, 0x02, ...bytes.subarray(1)])
    expect(() => decodeReceiptBatch(longHead)).toThrow(CodecError)
    expect(() => decodeReceiptBatch(bytes.subarray(0, bytes.length - 1))).toThrow(CodecError)
  })
})
