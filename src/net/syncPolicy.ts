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

/**
 * Whether a validator should skip proposing now. Building on a head that sync is about to move
 * only makes a fork to be reverted, so production waits while a sync session is advancing the
 * head (it brought new blocks and its peer has more); a peer that never advances us cannot pause
 * it, and a long catch-up pauses it at most `maxPauseMs` at a stretch.
 */
export class ProductionPause {
  readonly #maxPauseMs: number
  #pausedSince: number | undefined

  constructor(opts: { maxPauseMs: number }) {
    this.#maxPauseMs = opts.maxPauseMs
  }

  /** `advancing`: some sync session is moving the head now. */
  shouldPause(now: number, advancing: boolean): boolean {
    if (!advancing) {
      this.#pausedSince = undefined
      return false
    }
    this.#pausedSince ??= now
    return now - this.#pausedSince < this.#maxPauseMs
  }
}
