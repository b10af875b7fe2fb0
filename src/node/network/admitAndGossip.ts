import type { Hash, SignedTx } from '../../../blocks/schema.ts'
import type { Chain } from '../../chain/chain.ts'
import type { NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'
import { type SendTxsDirect, txGossipBatcherOf } from './txGossipBatch.ts'

export interface AdmitAndGossipModules {
  chain: Chain
  /** Absent on a node without p2p: the tx is only admitted. */
  net?: NetNode | undefined
  log: Logger
  /** A validator's direct links to the other validators (txGossipBatch.ts): local txs leave by them, gossip only when they did not reach every member. */
  sendDirect?: SendTxsDirect | undefined
}

/**
 * The one way a tx enters this node, whoever brings it (RPC, the host role, gossip): the mempool
 * admits it (a typed error says why not) and then it is gossiped, so the slot's proposer sees it
 * wherever it arrived. Local txs leave in batches (txGossipBatch.ts: a lone tx at once, a burst
 * within a fifth of a slot as one message), over the validator links when this is a validator. A tx that came by gossip
 * is not published again: gossipsub forwards its batch itself once this validator accepts it
 * (and a batch that came over a link is relayed by nobody: it was sent to every validator).
 */
export async function admitAndGossip(m: AdmitAndGossipModules, tx: SignedTx, source: 'local' | 'gossip' = 'local'): Promise<Hash> {
  const id = await m.chain.submitTx(tx)
  if (source === 'local' && m.net !== undefined) txGossipBatcherOf(m.net, m.log, m.chain.genesis.slotMs, m.sendDirect).add(tx)
  return id
}
