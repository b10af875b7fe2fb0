import type { Block, Hash, ReceiptGossip } from '../../../blocks/schema.ts'
import { toHex } from '../../crypto/index.ts'

/**
 * Blocks a pushed receipt may stay unsettled before the host publishes it on gossip once. A
 * receipt pushed at height h reaches the proposer within milliseconds; its execution settles once
 * a quorum of the assigned hosts' receipts is in, normally in block h+1 or h+2 (the other hosts run
 * the same execution in the same block window). Four leaves two blocks of slack for a round change
 * or a slow co-host before a gossip message is spent, and is far inside an execution's deadline
 * (tens of slots), so a validator that dropped or censored the push still gets the receipt from
 * the others' gossip relays in time.
 */
export const REGOSSIP_AFTER_BLOCKS = 4
/** Receipts held at most (a host runs a few per block); past it the oldest is dropped. */
const MAX_HELD = 4_096

interface Held {
  item: ReceiptGossip
  height: number
}

/**
 * A host's sent receipts until their execution settles (a completion entry names it, or the
 * execution is no longer pending): the ones still unsettled REGOSSIP_AFTER_BLOCKS blocks after
 * they were sent are handed back once, to be published on the `receipts` gossip topic.
 */
export class UnsettledReceipts {
  readonly #held = new Map<string, Held>()

  get size(): number {
    return this.#held.size
  }

  /** A receipt just sent at head height `height` (a newer receipt for the same execution replaces it). */
  sent(item: ReceiptGossip, height: number): void {
    const id = toHex(item.receipt.body.executionId)
    this.#held.delete(id)
    this.#held.set(id, { item, height })
    if (this.#held.size > MAX_HELD) this.#held.delete(this.#held.keys().next().value!)
  }

  /**
   * Forgets the executions `block` settles; returns (and forgets) the receipts sent
   * REGOSSIP_AFTER_BLOCKS blocks ago whose execution is still `pending`: due for their one gossip publish.
   */
  onBlock(block: Block, pending: (executionId: Hash) => boolean): ReceiptGossip[] {
    if (this.#held.size === 0) return []
    for (const entry of block.entries) if (entry.type === 'completion') this.#held.delete(toHex(entry.executionId))
    const due: ReceiptGossip[] = []
    for (const [id, held] of this.#held) {
      if (block.header.height - held.height < REGOSSIP_AFTER_BLOCKS) continue
      this.#held.delete(id)
      if (pending(held.item.receipt.body.executionId)) due.push(held.item)
    }
    return due
  }
}
