import { describe, expect, it } from 'vitest'

import { encode } from '../../../../blocks/codec.ts'
import type { SignedTx } from '../../../../blocks/schema.ts'
import { MempoolError } from '../../../../src/chain/errors.ts'
import { createLinkReceive } from '../../../../src/node/network/createLinkReceive.ts'
import { MAX_TXS_PER_GOSSIP, TxGossipBatch } from '../../../../src/node/network/txGossipBatch.ts'
import { TX_REFUSALS_BURST, TxRefusalBudget } from '../../../../src/node/network/TxRefusalBudget.ts'
import { testKey, transfer } from '../../../support/chainFixtures.ts'
import { txOnlyModules } from '../../../support/txOnlyModules.ts'

const payer = testKey('linkreceive-payer')
const to = testKey('linkreceive-to').publicKey
/** One full batch of distinct well-formed txs (the pool stand-in below never checks them). */
const batch = encode(TxGossipBatch, Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i): SignedTx => transfer(payer, i, to, 1n)))
/** Batches whose txs, all refused, would cross the budget twice over. */
const batches = (2 * TX_REFUSALS_BURST) / MAX_TXS_PER_GOSSIP

/** A link from `peer` whose every tx the pool refuses with `code`; the budget's clock stands still (no refill). */
async function sendRefused(code: 'ALREADY_KNOWN' | 'NONCE_GAP'): Promise<{ judged: number; budget: TxRefusalBudget; verdicts: string[] }> {
  const budget = new TxRefusalBudget({ now: () => 0 })
  let judged = 0
  const receive = createLinkReceive(txOnlyModules(async () => {
    judged++
    throw code === 'ALREADY_KNOWN' ? new MempoolError(code, 'known', { txId: 'x' }) : new MempoolError(code, 'gap', {})
  }), { budget })
  const verdicts: string[] = []
  for (let i = 0; i < batches; i++) verdicts.push(await receive('transactions', batch, 'peer'))
  return { judged, budget, verdicts }
}

describe('createLinkReceive: the refused-tx budget of a linked validator', () => {
  it('txs the pool already holds are free, as on gossip: every batch of duplicates is judged however many come', async () => {
    const { judged, budget, verdicts } = await sendRefused('ALREADY_KNOWN')
    expect(judged).toBe(batches * MAX_TXS_PER_GOSSIP)
    expect(budget.droppedBatches).toBe(0)
    expect(budget.judges('peer')).toBe(true)
    expect(verdicts.every((v) => v === 'ignore')).toBe(true)
  })

  it('txs refused for another reason are charged: past the budget the link\'s batches are dropped unread', async () => {
    const { judged, budget } = await sendRefused('NONCE_GAP')
    expect(judged).toBe(TX_REFUSALS_BURST)
    expect(budget.droppedBatches).toBe(batches - TX_REFUSALS_BURST / MAX_TXS_PER_GOSSIP)
  })
})
