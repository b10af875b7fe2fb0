import type { GossipHandlerModules } from '../../src/node/network/gossipHandlers.ts'

/**
 * The gossip/link modules of a node that judges only transactions (tx-flood tests and benches):
 * `admitTx` as given, every other topic ignored, no caps. `extra` overrides any of them.
 */
export function txOnlyModules(admitTx: GossipHandlerModules['admitTx'], extra: Partial<GossipHandlerModules> = {}): GossipHandlerModules {
  return {
    admitTx,
    processBlock: async () => 'ignore',
    handleConsensus: async () => 'ignore',
    handleCommitted: async () => 'ignore',
    withinVoteCap: () => true,
    submitEvidence: () => false,
    withinEvidenceCap: () => true,
    ...extra,
  }
}
