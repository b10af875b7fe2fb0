import { decode, encode, list } from '../../../blocks/codec.ts'
import { noteReceiptBodyBytes } from '../../../blocks/ids.ts'
import { arrayHead, skipValue } from '../../../blocks/msgpackSpans.ts'
import { type Receipt, ReceiptGossip } from '../../../blocks/schema.ts'
import { ReceiptError } from '../../chain/errors.ts'
import type { ValidationResult } from '../../net/index.ts'
import { GossipBatcher, type GossipBatcherOpts, oneBatcherPerNet } from './gossipBatcher.ts'

/** Most receipts one `receipts` gossip message carries; the topic's byte cap (GOSSIP_MAX_BYTES) bounds it too. */
export const MAX_RECEIPTS_PER_GOSSIP = 64

/**
 * The `receipts` topic's message (topic version 2): the receipts, each with its write set, that
 * one host signed within a short window. A host runs the executions of a block one after
 * another and used to send one message per receipt, each received about three times by every
 * validator.
 */
export const ReceiptGossipBatch = list(ReceiptGossip, MAX_RECEIPTS_PER_GOSSIP)

/**
 * `decode(ReceiptGossipBatch, bytes)`, with each receipt body's signing hash then taken from its
 * slice of the bytes just proved canonical (`noteReceiptBodyBytes`) instead of encoding the body
 * again when the pool checks its signature. Each item is `[[body, signature], writeSet]`.
 */
export function decodeReceiptBatch(bytes: Uint8Array): ReceiptGossip[] {
  const batch = decode(ReceiptGossipBatch, bytes)
  let at = arrayHead(bytes, 0)!.first
  for (const msg of batch) {
    const body = arrayHead(bytes, arrayHead(bytes, at)!.first)!.first
    noteReceiptBodyBytes(msg.receipt.body, bytes.subarray(body, skipValue(bytes, body)))
    at = skipValue(bytes, at)
  }
  return batch
}

/** The receipts this host gossips, coalesced (gossipBatcher.ts): a lone receipt leaves at once. */
export class ReceiptGossipBatcher extends GossipBatcher<ReceiptGossip> {
  constructor(opts: GossipBatcherOpts) {
    super({ topic: 'receipts', batch: ReceiptGossipBatch, maxItems: MAX_RECEIPTS_PER_GOSSIP, sizeOf: (r) => encode(ReceiptGossip, r).length }, opts)
  }
}

/**
 * The receipt batcher of one net node (one per node, made on first use). With `push` (a host's
 * ReceiptPushClient.send, receiptPush.ts) each batch goes straight to the validators, and on gossip
 * too only when `push` did not reach every member of the set.
 */
export const receiptGossipBatcherOf = oneBatcherPerNet((net, log, push?: (bytes: Uint8Array) => boolean) =>
  new ReceiptGossipBatcher({ publish: async (bytes) => (push?.(bytes) === true ? undefined : net.publish('receipts', bytes)), log }))

/** A refusal that is no fault of the sender: a receipt already known, late, or for an execution this node has not imported yet. */
export function isNoFaultRefusal(err: unknown): boolean {
  return err instanceof ReceiptError && (err.code === 'DUPLICATE' || err.code === 'SETTLED' || err.code === 'UNKNOWN_EXECUTION')
}

/**
 * Judges a gossiped batch by admitting each receipt to the pool (`submit`, Chain.submitReceipt,
 * which verifies each signature once). A receipt that can never be valid (forged, not assigned,
 * wrong chain or write set) rejects the batch, so gossipsub scores its sender down and does not
 * forward it; the good receipts in it stay admitted. Duplicates, late and unknown ones are no
 * fault: a batch with nothing new is ignored. An empty batch is rejected (nobody honest sends one).
 * `onSettled` is offered each receipt that came after its execution settled (possible evidence).
 */
export function admitReceiptBatch(batch: readonly ReceiptGossip[], submit: (msg: ReceiptGossip) => void, onSettled: (receipt: Receipt) => void): ValidationResult {
  if (batch.length === 0) return 'reject'
  let admitted = 0
  let rejected = false
  for (const msg of batch) {
    try {
      submit(msg)
      admitted++
    } catch (err) {
      if (err instanceof ReceiptError && err.code === 'SETTLED') onSettled(msg.receipt)
      if (!isNoFaultRefusal(err)) rejected = true
    }
  }
  return rejected ? 'reject' : admitted > 0 ? 'accept' : 'ignore'
}
