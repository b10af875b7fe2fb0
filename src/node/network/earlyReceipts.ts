import type { ReceiptGossip } from '../../../blocks/schema.ts'
import { ReceiptError } from '../../chain/errors.ts'
import { isNoFaultRefusal } from './receiptGossipBatch.ts'

/**
 * Blocks a pushed receipt for an execution this validator does not know yet is retried for. A
 * host learns the execution block from one validator's commit feed and pushes its receipt at once,
 * so a validator a block behind that one gets the receipt before the execution (gossip had the
 * same race, but its slower path hid it more often). Two blocks cover a validator one behind; a
 * receipt still unknown after that is dropped (the host publishes it on gossip once if its
 * execution has not settled 4 blocks later: unsettledReceipts.ts).
 */
export const EARLY_RECEIPT_BLOCKS = 2
/** Receipts held at most, and per pusher (a pusher's unknown receipts cost a state read per retry). */
const MAX_HELD = 1_024
const MAX_PER_PEER = 128

interface Early {
  msg: ReceiptGossip
  from: string
  height: number
}

/** A validator's pushed receipts that came before their execution: admitted at the next blocks. */
export class EarlyReceipts {
  readonly #submit: (msg: ReceiptGossip) => void
  readonly #penalize: (peer: string) => void
  #held: Early[] = []
  readonly #perPeer = new Map<string, number>()

  /** `submit`: the pool admission (Chain.submitReceipt); `penalize`: a retried receipt turned out invalid (its pusher's fault). */
  constructor(submit: (msg: ReceiptGossip) => void, penalize: (peer: string) => void) {
    this.#submit = submit
    this.#penalize = penalize
  }

  get size(): number {
    return this.#held.length
  }

  /** A receipt refused as UNKNOWN_EXECUTION at head height `height`; dropped when the bounds are full. */
  add(msg: ReceiptGossip, from: string, height: number): void {
    const n = this.#perPeer.get(from) ?? 0
    if (this.#held.length >= MAX_HELD || n >= MAX_PER_PEER) return
    this.#perPeer.set(from, n + 1)
    this.#held.push({ msg, from, height })
  }

  /** Retries every held receipt after a block at `height`; returns how many the pool admitted. */
  onBlock(height: number): number {
    if (this.#held.length === 0) return 0
    const held = this.#held
    this.#held = []
    this.#perPeer.clear()
    let admitted = 0
    for (const early of held) {
      try {
        this.#submit(early.msg)
        admitted++
      } catch (err) {
        if (err instanceof ReceiptError && err.code === 'UNKNOWN_EXECUTION') {
          if (height - early.height < EARLY_RECEIPT_BLOCKS) this.add(early.msg, early.from, early.height)
        } else if (!isNoFaultRefusal(err)) this.#penalize(early.from)
      }
    }
    return admitted
  }
}
