import { list } from '../../../blocks/codec.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import { computeTxSize } from '../../state/fees.ts'
import { GossipBatcher, type GossipBatcherOpts, oneBatcherPerNet } from './gossipBatcher.ts'

/** Most txs one `transactions` gossip message carries; the topic's byte cap (GOSSIP_MAX_BYTES) bounds it too. */
export const MAX_TXS_PER_GOSSIP = 256

/**
 * The `transactions` topic's message: the txs one node admitted within a short window. Every
 * gossip message costs each receiver a noise decrypt, a yamux frame, a protobuf decode and a
 * content hash, and each is received about three times (the publisher's flood plus mesh
 * relays); one message per tx made that per-message cost most of a transfer's network share.
 */
export const TxGossipBatch = list(SignedTx, MAX_TXS_PER_GOSSIP)

export type TxGossipBatcherOpts = GossipBatcherOpts

/** The txs this node gossips, coalesced (gossipBatcher.ts): a lone deploy or execute leaves at once. */
export class TxGossipBatcher extends GossipBatcher<SignedTx> {
  constructor(opts: TxGossipBatcherOpts) {
    super({ topic: 'transactions', batch: TxGossipBatch, maxItems: MAX_TXS_PER_GOSSIP, sizeOf: computeTxSize }, opts)
  }
}

/**
 * Sends an encoded batch to the other validators over their direct links (validatorLinks.ts):
 * true when that reached every other member of the set, so gossip is not needed.
 */
export type SendTxsDirect = (bytes: Uint8Array) => boolean

/**
 * The batcher of one net node (one per node, made on first use). A validator passes `sendDirect`:
 * its batches go over the validator links, each received once by each validator and relayed by
 * nobody (over gossipsub each batch reached a validator ~3 times: the flood plus mesh relays);
 * gossip carries a batch only when some member is not linked. Other nodes (hosts, RPC nodes)
 * publish on gossip, which the validators' mesh relays.
 */
export const txGossipBatcherOf = oneBatcherPerNet((net, log, sendDirect?: SendTxsDirect) => new TxGossipBatcher({ publish: (bytes) => (sendDirect?.(bytes) === true ? Promise.resolve() : net.publish('transactions', bytes)), log }))
