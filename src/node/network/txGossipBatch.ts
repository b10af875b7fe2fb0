import { decodeTrusted, encode, list, MAX_ENCODED_BYTES } from '../../../blocks/codec.ts'
import { CodecError } from '../../../blocks/errors.ts'
import { noteTxBytes } from '../../../blocks/ids.ts'
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

/**
 * `decode(TxGossipBatch, bytes)` (the same checks, the same typed errors for non-canonical input),
 * with each tx's canonical bytes taken note of (`noteTxBytes`): the batch is checked canonical by
 * encoding its txs one by one and comparing each with its slice of the message, and those slices
 * give each tx its id and signing hash, where `decode` encoded the whole batch once to compare and
 * admission then encoded every tx twice more (whole for the id, its body for the signing hash).
 */
export function decodeTxBatch(bytes: Uint8Array): SignedTx[] {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('WRONG_TYPE', `${TxGossipBatch.name}: expected bytes`)
  if (bytes.length > MAX_ENCODED_BYTES) throw new CodecError('TOO_LARGE', `${TxGossipBatch.name}: ${bytes.length} bytes exceeds ${MAX_ENCODED_BYTES}`)
  // Types and caps are checked here; canonical form below, byte by byte, as decode does.
  const txs = decodeTrusted(TxGossipBatch, bytes)
  // msgpack's shortest array head: fixarray below 16 items, array 16 up to MAX_TXS_PER_GOSSIP.
  let at = txs.length < 16 ? 1 : 3
  const canonicalHead = txs.length < 16 ? bytes[0] === (0x90 | txs.length) : bytes[0] === 0xdc && bytes[1] === txs.length >> 8 && bytes[2] === (txs.length & 0xff)
  if (!canonicalHead) throw new CodecError('NON_CANONICAL', `${TxGossipBatch.name}: not the canonical encoding`)
  const slices: Uint8Array[] = []
  for (const tx of txs) {
    const again = encode(SignedTx, tx)
    if (at + again.length > bytes.length || Buffer.compare(Buffer.from(again.buffer, again.byteOffset, again.length), Buffer.from(bytes.buffer, bytes.byteOffset + at, again.length)) !== 0) {
      throw new CodecError('NON_CANONICAL', `${TxGossipBatch.name}: not the canonical encoding`)
    }
    slices.push(again)
    at += again.length
  }
  if (at !== bytes.length) throw new CodecError('TRAILING_BYTES', `${TxGossipBatch.name}: trailing bytes`)
  // Only once the whole batch is known canonical: a tx's noted bytes are its encoding.
  txs.forEach((tx, i) => noteTxBytes(tx, slices[i]!))
  return txs
}

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
 * How long a node's local txs wait to share one batch: a fifth of the slot, 25-200 ms. Every
 * batch costs each other validator a wake-up, a frame and a handler (~0.1-0.25 ms in a devnet
 * process, docs/devnet.md), so at 25 ms a validator taking ~70 transfers a second over RPC sent
 * a batch of one or two txs to each peer every 25 ms: ~0.8 link messages per transfer per
 * validator. A fifth of the slot still lets a tx reach the next proposer well before its slot
 * (a tx waits at most the window, on average much less, and a lone tx after a quiet window leaves at once).
 */
export function txGossipWindowMs(slotMs: number): number {
  return Math.min(200, Math.max(25, Math.floor(slotMs / 5)))
}

/**
 * The batcher of one net node (one per node, made on first use; its window from the chain's slot,
 * `txGossipWindowMs`). A validator passes `sendDirect`:
 * its batches go over the validator links, each received once by each validator and relayed by
 * nobody (over gossipsub each batch reached a validator ~3 times: the flood plus mesh relays);
 * gossip carries a batch only when some member is not linked. Other nodes (hosts, RPC nodes)
 * publish on gossip, which the validators' mesh relays.
 */
export const txGossipBatcherOf = oneBatcherPerNet(
  (net, log, slotMs: number, sendDirect?: SendTxsDirect) =>
    new TxGossipBatcher({ publish: (bytes) => (sendDirect?.(bytes) === true ? Promise.resolve() : net.publish('transactions', bytes)), log, windowMs: txGossipWindowMs(slotMs) }),
)
