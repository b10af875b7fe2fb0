import { list } from '../../../blocks/codec.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import type { NetNode } from '../../net/index.ts'
import { computeTxSize } from '../../state/fees.ts'
import type { Logger } from '../logger.ts'
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

/** The batcher of one net node (one per node, made on first use). */
export const txGossipBatcherOf = oneBatcherPerNet((net, log) => new TxGossipBatcher({ publish: (bytes) => net.publish('transactions', bytes), log }))
