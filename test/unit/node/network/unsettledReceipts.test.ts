import { describe, expect, it } from 'vitest'

import type { Block, Hash, ReceiptGossip } from '../../../../blocks/schema.ts'
import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { REGOSSIP_AFTER_BLOCKS, UnsettledReceipts } from '../../../../src/node/network/unsettledReceipts.ts'

// A host's pushed receipts until they settle: one still pending REGOSSIP_AFTER_BLOCKS blocks after
// it was sent is handed back once for gossip; a settled one never is.
const id = (n: number): Hash => hash(utf8(`unsettled-${n}`))
const item = (n: number): ReceiptGossip => ({ receipt: { body: { executionId: id(n) } }, writeSet: [] }) as unknown as ReceiptGossip
const block = (height: number, completed: number[] = []): Block =>
  ({ header: { height }, entries: completed.map((n) => ({ type: 'completion', executionId: id(n) })) }) as unknown as Block
const ids = (items: ReceiptGossip[]): string[] => items.map((i) => toHex(i.receipt.body.executionId))

describe('UnsettledReceipts', () => {
  it('hands back a receipt still pending REGOSSIP_AFTER_BLOCKS blocks after it was sent, once; a settled or no longer pending one never', () => {
    const held = new UnsettledReceipts()
    held.sent(item(1), 10)
    held.sent(item(2), 10)
    held.sent(item(3), 10)
    held.sent(item(4), 12)
    const pending = new Set([1, 2, 4].map((n) => toHex(id(n))))
    const isPending = (e: Hash): boolean => pending.has(toHex(e))
    for (let h = 11; h < 10 + REGOSSIP_AFTER_BLOCKS; h++) expect(held.onBlock(block(h, h === 11 ? [2] : []), isPending)).toEqual([])
    // Execution 2 settled at 11 (completion entry), 3 is no longer pending (settled where we did not look): only 1 is due.
    expect(ids(held.onBlock(block(10 + REGOSSIP_AFTER_BLOCKS), isPending))).toEqual([toHex(id(1))])
    expect(held.size).toBe(1)
    expect(held.onBlock(block(11 + REGOSSIP_AFTER_BLOCKS), isPending)).toEqual([])
    expect(ids(held.onBlock(block(12 + REGOSSIP_AFTER_BLOCKS), isPending))).toEqual([toHex(id(4))])
    expect(held.size).toBe(0)
    expect(held.onBlock(block(13 + REGOSSIP_AFTER_BLOCKS), isPending)).toEqual([])
  })

  it('a newer receipt for the same execution replaces the older and restarts its wait', () => {
    const held = new UnsettledReceipts()
    held.sent(item(1), 10)
    held.sent(item(1), 12)
    expect(held.size).toBe(1)
    expect(held.onBlock(block(10 + REGOSSIP_AFTER_BLOCKS), () => true)).toEqual([])
    expect(held.onBlock(block(12 + REGOSSIP_AFTER_BLOCKS), () => true)).toHaveLength(1)
  })
})
