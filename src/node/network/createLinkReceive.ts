import { PeerRateLimit, type ValidationResult } from '../../net/index.ts'
import { createGossipHandlers, type GossipHandlerModules, runGossipHandler } from './gossipHandlers.ts'
import type { LinkTopic } from './validatorLinks.ts'

/**
 * Txs of a linked validator's batches this node may refuse per second (for any reason: a REJECT
 * also costs the sender a penalty), with bursts of four full batches. An honest
 * validator sends only txs it admitted, so refusals here are races (a nonce ahead of this
 * node's state, a tx also sent to this node, a full pool): rare next to this cap.
 */
export const LINK_TX_REFUSALS_PER_SECOND = 128
export const LINK_TX_REFUSALS_BURST = 1_024

export interface LinkReceiveOpts {
  now?: () => number
}

/**
 * How a validator judges what its links carry (ValidatorLinksModules.receive): the gossip handler
 * table, plus a budget of refused txs per linked validator. A tx that is well signed but cannot
 * enter the pool (an unfunded sender, a nonce ahead, an unknown asset) is IGNOREd, nothing to
 * punish, yet costs this node a state read (the signature is verified only once every other
 * check passed: checkTxAdmission.ts), a cold one for an account it never saw: a Byzantine
 * validator sending fresh ones without end held a receiver's CPU (~0.3-0.9 ms each measured
 * under load with the verify, about half that without). Past its budget a peer's tx batches are dropped
 * unread (IGNORE, no penalty), until it refills; its votes and blocks are judged as ever.
 * Gossip has no such budget: there `from` is a relay, which would pay for whoever published.
 */
export function createLinkReceive(modules: GossipHandlerModules, opts: LinkReceiveOpts = {}): (topic: LinkTopic, bytes: Uint8Array, from: string) => Promise<ValidationResult> {
  const refusals = new PeerRateLimit({ perSecond: () => LINK_TX_REFUSALS_PER_SECOND, burst: () => LINK_TX_REFUSALS_BURST, now: opts.now })
  const handlers = createGossipHandlers({
    ...modules,
    admitTx: async (tx, from) => {
      try {
        await modules.admitTx(tx, from)
      } catch (e) {
        // Charged even past the budget (a debt): a batch that crossed it delays the next by what it cost.
        if (from !== undefined) refusals.spend(from, 1)
        throw e
      }
    },
  })
  return async (topic, bytes, from) => (topic === 'transactions' && !refusals.available(from) ? 'ignore' : await runGossipHandler(handlers, topic, bytes, from))
}
