import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import { SignedTx } from '../../../../blocks/schema.ts'
import { BftError } from '../../../../consensus/bft/errors.ts'
import { ConsensusMessage, signVote, VOTE_STEP } from '../../../../consensus/bft/messages.ts'
import { MempoolError } from '../../../../src/chain/errors.ts'
import { hash, utf8 } from '../../../../src/crypto/index.ts'
import { createGossipHandlers, type GossipHandlerModules, runGossipHandler } from '../../../../src/node/network/gossipHandlers.ts'
import { MAX_TXS_PER_GOSSIP, TxGossipBatch } from '../../../../src/node/network/txGossipBatch.ts'
import { TX_REFUSALS_BURST, TxRefusalBudget } from '../../../../src/node/network/TxRefusalBudget.ts'
import { StateError } from '../../../../src/state/errors.ts'
import { testKey, transfer } from '../../../support/chainFixtures.ts'

// Stand-ins for the chain side: the real handlers run over libp2p in test/integration/validators.
function modules(over: Partial<GossipHandlerModules> = {}): GossipHandlerModules & { counted: number } {
  const m = {
    counted: 0,
    admitTx: () => {},
    processBlock: async () => 'accept' as const,
    handleConsensus: async () => {
      m.counted++
      return 'accept' as const
    },
    handleCommitted: async () => {
      m.counted++
      return 'accept' as const
    },
    withinVoteCap: () => true,
    submitEvidence: () => true,
    withinEvidenceCap: () => true,
    ...over,
  }
  return m
}

const alice = testKey('gossip-table-alice')
const txBytes = encode(TxGossipBatch, [transfer(alice, 0, alice.publicKey, 1n)])
const vote = encode(ConsensusMessage, { type: 'vote', vote: signVote({ chainId: 'xsc-test', step: VOTE_STEP.prevote, height: 1, round: 0, blockId: hash(utf8('b')), validator: alice.publicKey }, alice.secretKey) })

describe('the gossip handler table: topic → decode → validate → verdict', () => {
  it('charges a neighbour\'s refused-tx budget only for a batch that admitted and rejected nothing, and not for txs already pending', async () => {
    const budget = new TxRefusalBudget({ now: () => 0 })
    const spent: number[] = []
    const charge = budget.charge.bind(budget)
    budget.charge = (peer, n) => (spent.push(n), charge(peer, n))
    const batch = (n: number): Uint8Array => encode(TxGossipBatch, Array.from({ length: n }, (_, i) => transfer(alice, i, alice.publicKey, BigInt(1 + i))))
    const by = (codes: (string | undefined)[]) => {
      let i = 0
      return createGossipHandlers(modules({ txBudget: budget, admitTx: () => {
        const code = codes[i++ % codes.length]
        if (code === 'ALREADY_KNOWN') throw new MempoolError('ALREADY_KNOWN', 'x', { txId: '' })
        if (code === 'NONCE_TOO_HIGH') throw new StateError('NONCE_TOO_HIGH', 'x', { got: 1, expected: 0 })
        if (code === 'INSUFFICIENT_FUNDS') throw new StateError('INSUFFICIENT_FUNDS', 'x', { balance: '0', needed: '1' })
        if (code === 'BAD_SIGNATURE') throw new StateError('BAD_SIGNATURE', 'x', {})
      } }))
    }
    expect(await runGossipHandler(by(['NONCE_TOO_HIGH', undefined, 'NONCE_TOO_HIGH']), 'transactions', batch(3), 'p')).toBe('accept')
    expect(await runGossipHandler(by(['NONCE_TOO_HIGH', 'BAD_SIGNATURE']), 'transactions', batch(2), 'p')).toBe('reject')
    expect(spent).toEqual([])
    expect(await runGossipHandler(by(['NONCE_TOO_HIGH', 'ALREADY_KNOWN', 'INSUFFICIENT_FUNDS']), 'transactions', batch(3), 'p')).toBe('ignore')
    expect(spent).toEqual([2])
    // Past the budget: dropped unread.
    budget.charge('p', TX_REFUSALS_BURST)
    expect(await runGossipHandler(by([undefined]), 'transactions', batch(1), 'p')).toBe('ignore')
    expect(budget.droppedBatches).toBe(1)
    expect(await runGossipHandler(by([undefined]), 'transactions', batch(1), 'q')).toBe('accept')
  })

  it('rejects undecodable bytes on every topic', async () => {
    const h = createGossipHandlers(modules())
    for (const topic of ['transactions', 'blocks', 'consensus'] as const) expect(await runGossipHandler(h, topic, new Uint8Array([0x93, 1, 2, 3]), 'p')).toBe('reject')
  })

  it('maps what validation throws through the one verdict mapping', async () => {
    const refuse = (e: unknown) => () => {
      throw e
    }
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: refuse(new StateError('BAD_SIGNATURE', 'x')) })), 'transactions', txBytes, 'p')).toBe('reject')
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: refuse(new StateError('NONCE_TOO_LOW', 'x', { got: 0, expected: 1 })) })), 'transactions', txBytes, 'p')).toBe('ignore')
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: refuse(new MempoolError('ALREADY_KNOWN', 'x', { txId: '0x01' })) })), 'transactions', txBytes, 'p')).toBe('ignore')
    expect(await runGossipHandler(createGossipHandlers(modules()), 'transactions', txBytes, 'p')).toBe('accept')
    expect(await runGossipHandler(createGossipHandlers(modules({ handleConsensus: async () => refuse(new BftError('EVIDENCE_EXPIRED', 'x', { height: 1, currentHeight: 9, maxAgeHeights: 2 }))() })), 'consensus', vote, 'p')).toBe('ignore')
    expect(await runGossipHandler(createGossipHandlers(modules({ handleConsensus: async () => refuse(new BftError('NOT_VALIDATOR', 'x', { validator: '0x01' }))() })), 'consensus', vote, 'p')).toBe('reject')
  })

  it('admits a batch of txs in order: accepted when any is new, ignored when none is', async () => {
    const txs = [0, 1, 2].map((n) => transfer(alice, n, alice.publicKey, 1n))
    const seen: number[] = []
    const admitTx = (tx: SignedTx) => {
      seen.push(tx.body.nonce)
      if (tx.body.nonce === 0) throw new MempoolError('ALREADY_KNOWN', 'x', { txId: '0x01' })
    }
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx })), 'transactions', encode(TxGossipBatch, txs), 'p')).toBe('accept')
    expect(seen).toEqual([0, 1, 2])
    const known = () => {
      throw new MempoolError('ALREADY_KNOWN', 'x', { txId: '0x01' })
    }
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: known })), 'transactions', encode(TxGossipBatch, txs), 'p')).toBe('ignore')
  })

  it('attack: a batch hiding one forged tx among good ones is rejected (its sender scored down), the good ones still admitted', async () => {
    const good = [0, 1].map((n) => transfer(alice, n, alice.publicKey, 1n))
    const forged = { ...transfer(alice, 2, alice.publicKey, 1n), signature: new Uint8Array(64) }
    const admitted: number[] = []
    const admitTx = (tx: SignedTx) => {
      if (tx.signature.every((b) => b === 0)) throw new StateError('BAD_SIGNATURE', 'x')
      admitted.push(tx.body.nonce)
    }
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx })), 'transactions', encode(TxGossipBatch, [good[0]!, forged, good[1]!]), 'p')).toBe('reject')
    expect(admitted).toEqual([0, 1])
  })

  it('attack: an empty batch or one over the count cap is rejected before any tx is admitted', async () => {
    let calls = 0
    const h = createGossipHandlers(modules({ admitTx: () => void calls++ }))
    expect(await runGossipHandler(h, 'transactions', encode(TxGossipBatch, []), 'p')).toBe('reject')
    const tx = encode(SignedTx, transfer(alice, 0, alice.publicKey, 1n))
    // MAX + 1 copies of one tx behind a msgpack array16 header: canonical bytes, one item too many.
    const count = MAX_TXS_PER_GOSSIP + 1
    const header = new Uint8Array([0xdc, count >>> 8, count & 0xff])
    const over = new Uint8Array(header.length + count * tx.length)
    over.set(header)
    for (let i = 0; i < count; i++) over.set(tx, header.length + i * tx.length)
    expect(() => decode(TxGossipBatch, over)).toThrow(/more than 256 items/)
    expect(await runGossipHandler(h, 'transactions', over, 'p')).toBe('reject')
    expect(calls).toBe(0)
  })

  it('drops consensus messages over a neighbour\'s cap unchecked and without penalty', async () => {
    const m = modules({ withinVoteCap: (from) => from !== 'flooder' })
    const h = createGossipHandlers(m)
    expect(await runGossipHandler(h, 'consensus', vote, 'flooder')).toBe('ignore')
    expect(m.counted).toBe(0)
    expect(await runGossipHandler(h, 'consensus', vote, 'honest')).toBe('accept')
    expect(m.counted).toBe(1)
  })
})
