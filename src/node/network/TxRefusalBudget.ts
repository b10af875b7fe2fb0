import { PeerRateLimit } from '../../net/index.ts'

/**
 * Txs of tx batches this node may refuse per second per peer (a REJECT also costs the sender a
 * penalty), with bursts of four full batches. An honest peer sends or relays txs it admitted
 * itself, so its refusals here are races (a nonce ahead of this node's state, a full pool): rare
 * next to this cap.
 */
export const TX_REFUSALS_PER_SECOND = 128
export const TX_REFUSALS_BURST = 1_024

/**
 * A budget of refused txs per peer, for the peers whose tx batches this node judges (linked
 * validators: createLinkReceive.ts; gossip neighbours: gossipHandlers.ts). A tx that is well
 * signed but cannot enter the pool is IGNOREd, nothing to punish, yet costs a state read (a cold
 * one for an account this node never saw). Past its budget a peer's tx batches are dropped
 * unread (IGNORE, no penalty) until it refills; `droppedBatches` counts them (a metric).
 */
export class TxRefusalBudget {
  readonly #limit: PeerRateLimit
  #dropped = 0

  constructor(opts: { now?: (() => number) | undefined } = {}) {
    this.#limit = new PeerRateLimit({ perSecond: () => TX_REFUSALS_PER_SECOND, burst: () => TX_REFUSALS_BURST, now: opts.now })
  }

  /** Tx batches dropped unread since start because their peer was past its budget. */
  get droppedBatches(): number {
    return this.#dropped
  }

  /** Whether a tx batch from `peer` is judged now; when not, it counts as dropped. */
  judges(peer: string): boolean {
    if (this.#limit.available(peer)) return true
    this.#dropped++
    return false
  }

  /** Charges `peer` for `refused` txs, even past the budget (a debt): a batch that crossed it delays the next by what it cost. */
  charge(peer: string, refused: number): void {
    this.#limit.spend(peer, refused)
  }
}
