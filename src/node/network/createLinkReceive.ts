import { MempoolError } from '../../chain/errors.ts'
import type { ValidationResult } from '../../net/index.ts'
import { createGossipHandlers, type GossipHandlerModules, runGossipHandler } from './gossipHandlers.ts'
import { TxRefusalBudget } from './TxRefusalBudget.ts'
import type { LinkTopic } from './validatorLinks.ts'

export interface LinkReceiveOpts {
  now?: () => number
  /** The budget to charge (a caller that reports its drops passes its own). */
  budget?: TxRefusalBudget
}

/**
 * How a validator judges what its links carry (ValidatorLinksModules.receive): the gossip handler
 * table, plus a budget of refused txs per linked validator (TxRefusalBudget.ts). A tx that is well
 * signed but cannot enter the pool (an unfunded sender, a nonce ahead, an unknown asset) is
 * IGNOREd, nothing to punish, yet costs this node a state read (the signature is verified only
 * once every other check passed: checkTxAdmission.ts), a cold one for an account it never saw: a
 * Byzantine validator sending fresh ones without end held a receiver's CPU (~0.3-0.9 ms each
 * measured under load with the verify, about half that without). Past its budget a peer's tx
 * batches are dropped unread (IGNORE, no penalty), until it refills; its votes and blocks are
 * judged as ever. A linked validator sends only its own batches, so every refusal is charged to it
 * (on gossip, where `from` may be a relay, only batches nobody would forward are: gossipHandlers.ts),
 * except a tx already known, free as on gossip: it costs a lookup, and two validators may forward
 * the same tx (a client that sent it to both), so a duplicate is nobody's fault.
 */
export function createLinkReceive(modules: GossipHandlerModules, opts: LinkReceiveOpts = {}): (topic: LinkTopic, bytes: Uint8Array, from: string) => Promise<ValidationResult> {
  const budget = opts.budget ?? new TxRefusalBudget({ now: opts.now })
  const handlers = createGossipHandlers({
    ...modules,
    // The gossip budget is not this one: a link's batches are charged per tx below.
    txBudget: undefined,
    admitTx: async (tx, from) => {
      try {
        await modules.admitTx(tx, from)
      } catch (e) {
        if (from !== undefined && !(e instanceof MempoolError && e.code === 'ALREADY_KNOWN')) budget.charge(from, 1)
        throw e
      }
    },
  })
  return async (topic, bytes, from) => (topic === 'transactions' && !budget.judges(from) ? 'ignore' : await runGossipHandler(handlers, topic, bytes, from))
}
