/**
 * A token bucket per peer: `take(peer)` is true while the peer is within `perSecond` with bursts
 * of `burst`. Both are functions so a cap can follow something that grows (the validator set).
 * Peers that have been quiet long enough to refill are forgotten.
 */
export interface PeerRateLimitOpts {
  perSecond: () => number
  burst: () => number
  now?: () => number
}

export class PeerRateLimit {
  readonly #opts: PeerRateLimitOpts
  readonly #now: () => number
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(opts: PeerRateLimitOpts) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
  }

  /** Whether `take(peer)` would succeed now (nothing is taken). */
  available(peer: string): boolean {
    const bucket = this.#buckets.get(peer)
    return bucket === undefined || this.#refill(bucket, this.#now(), this.#opts.burst()) >= 1
  }

  take(peer: string): boolean {
    const now = this.#now()
    const burst = this.#opts.burst()
    const bucket = this.#buckets.get(peer) ?? { tokens: burst, at: now }
    bucket.tokens = this.#refill(bucket, now, burst)
    bucket.at = now
    if (bucket.tokens < 1) {
      this.#buckets.set(peer, bucket)
      return false
    }
    bucket.tokens -= 1
    this.#buckets.set(peer, bucket)
    if (this.#buckets.size > 4_096) this.#forgetFull(burst, now)
    return true
  }

  /** Takes `n` tokens whether or not they are there: a debt is refilled before `available` or `take` succeed again. */
  spend(peer: string, n: number): void {
    const now = this.#now()
    const burst = this.#opts.burst()
    const bucket = this.#buckets.get(peer) ?? { tokens: burst, at: now }
    bucket.tokens = this.#refill(bucket, now, burst) - n
    bucket.at = now
    this.#buckets.set(peer, bucket)
    if (this.#buckets.size > 4_096) this.#forgetFull(burst, now)
  }

  #refill(bucket: { tokens: number; at: number }, now: number, burst: number): number {
    return Math.min(burst, bucket.tokens + ((now - bucket.at) * this.#opts.perSecond()) / 1_000)
  }

  #forgetFull(burst: number, now: number): void {
    const perSecond = this.#opts.perSecond()
    for (const [peer, b] of this.#buckets) if (b.tokens + ((now - b.at) * perSecond) / 1_000 >= burst) this.#buckets.delete(peer)
  }
}
