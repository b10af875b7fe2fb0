/**
 * How far range sync trusts a peer. A peer's status is a hint: it decides whom to ask, never how
 * much work we do for it. Every session with one peer is bounded in requests and time, several
 * peers are synced from at once, and a validator pauses proposing only while some sync is
 * actually moving its head, and never longer than a budget.
 */
export const SYNC_LIMITS = {
  /** Peers synced from at the same time (one session per peer). */
  maxParallelPeers: 3,
  /** Range requests in one session (each at most PROTOCOL_LIMITS.blocksByRange.maxBlocks blocks). */
  maxRequestsPerSession: 8,
  /** Wall time of one session; it stops after the request in flight. */
  sessionBudgetMs: 30_000,
} as const

export interface ProductionPauseOpts {
  /** Sync counts as advancing for this long after it last moved the head. */
  advanceWindowMs: number
  /** Longest continuous pause of production, however long sync keeps advancing. */
  maxPauseMs: number
}

/**
 * Whether a validator should skip proposing now. Building on a head that sync is about to move
 * only makes a fork to be reverted, so production waits while sync advances the head; a peer
 * that never advances us cannot pause it, and a long catch-up pauses it at most `maxPauseMs`.
 */
export class ProductionPause {
  readonly #opts: ProductionPauseOpts
  #lastAdvanceAt: number | undefined
  #pausedSince: number | undefined

  constructor(opts: ProductionPauseOpts) {
    this.#opts = opts
  }

  /** Sync moved the head at `now`. */
  advanced(now: number): void {
    this.#lastAdvanceAt = now
  }

  /** True while sync moved the head within the advance window. */
  isAdvancing(now: number): boolean {
    return this.#lastAdvanceAt !== undefined && now - this.#lastAdvanceAt < this.#opts.advanceWindowMs
  }

  shouldPause(now: number): boolean {
    if (!this.isAdvancing(now)) {
      this.#pausedSince = undefined
      return false
    }
    this.#pausedSince ??= now
    return now - this.#pausedSince < this.#opts.maxPauseMs
  }
}
