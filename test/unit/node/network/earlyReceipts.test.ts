import { describe, expect, it } from 'vitest'

import type { ReceiptGossip } from '../../../../blocks/schema.ts'
import { ReceiptError, type ReceiptErrorCode } from '../../../../src/chain/errors.ts'
import { EARLY_RECEIPT_BLOCKS, EarlyReceipts } from '../../../../src/node/network/earlyReceipts.ts'

// Pushed receipts that came before their execution block: admitted when a block brings it, dropped
// after EARLY_RECEIPT_BLOCKS, and their pusher scored when the retried receipt proves invalid.
const item = (n: number): ReceiptGossip => ({ receipt: { body: { n } }, writeSet: [] }) as unknown as ReceiptGossip
const num = (msg: ReceiptGossip): number => (msg.receipt.body as unknown as { n: number }).n

describe('EarlyReceipts', () => {
  it('admits a held receipt once its execution is known, drops one still unknown after EARLY_RECEIPT_BLOCKS, scores an invalid one', () => {
    const verdict = new Map<number, ReceiptErrorCode | 'ok'>([[1, 'UNKNOWN_EXECUTION'], [2, 'UNKNOWN_EXECUTION'], [3, 'UNKNOWN_EXECUTION'], [4, 'UNKNOWN_EXECUTION']])
    const admitted: number[] = []
    const penalized: string[] = []
    const early = new EarlyReceipts((msg) => {
      const v = verdict.get(num(msg))!
      if (v !== 'ok') throw new ReceiptError(v, v)
      admitted.push(num(msg))
    }, (peer) => penalized.push(peer))
    for (const n of [1, 2, 3, 4]) early.add(item(n), `peer-${n}`, 10)
    verdict.set(1, 'ok')
    verdict.set(3, 'BAD_SIGNATURE')
    verdict.set(4, 'DUPLICATE')
    expect(early.onBlock(11)).toBe(1)
    expect(admitted).toEqual([1])
    expect(penalized).toEqual(['peer-3'])
    expect(early.size).toBe(1) // 2: still unknown, within its blocks
    expect(early.onBlock(10 + EARLY_RECEIPT_BLOCKS)).toBe(0)
    expect(early.size).toBe(0)
    verdict.set(2, 'ok')
    expect(early.onBlock(13)).toBe(0)
  })

  it('holds at most 128 receipts per pusher', () => {
    const early = new EarlyReceipts(() => { throw new ReceiptError('UNKNOWN_EXECUTION', 'unknown') }, () => undefined)
    for (let i = 0; i < 200; i++) early.add(item(i), 'flooder', 1)
    early.add(item(1), 'honest', 1)
    expect(early.size).toBe(129)
  })
})
