import { encode } from '../../../blocks/codec.ts'
import { type Hash, SignedTx } from '../../../blocks/schema.ts'
import type { Chain } from '../../chain/chain.ts'
import type { NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

export interface AdmitAndGossipModules {
  chain: Chain
  /** Absent on a node without p2p: the tx is only admitted. */
  net?: NetNode | undefined
  log: Logger
}

/**
 * The one way a tx enters this node, whoever brings it (RPC, the host role, gossip): the mempool
 * admits it (a typed error says why not) and then it is gossiped, so the slot's proposer sees it
 * wherever it arrived. A tx that came by gossip is not published again: gossipsub forwards it
 * itself once its validator accepts it.
 */
export async function admitAndGossip(m: AdmitAndGossipModules, tx: SignedTx, source: 'local' | 'gossip' = 'local'): Promise<Hash> {
  const id = await m.chain.submitTx(tx)
  if (source === 'local' && m.net !== undefined) {
    m.net.publish('transactions', encode(SignedTx, tx)).catch((err: unknown) => m.log.debug({ topic: 'transactions', err: String(err) }, 'publish failed'))
  }
  return id
}
