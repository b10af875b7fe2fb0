import { BftError } from './errors.ts'

/**
 * Timeouts grow linearly with the round, so after the network becomes synchronous (GST) some
 * round's timeouts exceed the real message delay and that round can decide (Tendermint's
 * liveness argument). Integers (ms) only; the driver turns them into timers.
 */
export interface TimeoutParams {
  proposeMs: number
  proposeDeltaMs: number
  prevoteMs: number
  prevoteDeltaMs: number
  precommitMs: number
  precommitDeltaMs: number
}

export type TimeoutStep = 'propose' | 'prevote' | 'precommit'

/** No timer longer than an hour, whatever the round (a round number is attacker-influenced). */
export const MAX_TIMEOUT_MS = 3_600_000

export const DEFAULT_TIMEOUTS: TimeoutParams = {
  proposeMs: 1000,
  proposeDeltaMs: 500,
  prevoteMs: 500,
  prevoteDeltaMs: 250,
  precommitMs: 500,
  precommitDeltaMs: 250,
}

export function checkTimeoutParams(params: TimeoutParams): void {
  for (const [field, value] of Object.entries(params)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_TIMEOUT_MS) {
      throw new BftError('BAD_PARAMS', `timeout ${field} must be an integer in [0, ${MAX_TIMEOUT_MS}]`, { field, got: value })
    }
  }
}

export function computeTimeout(params: TimeoutParams, step: TimeoutStep, round: number): number {
  const [base, delta] = step === 'propose'
    ? [params.proposeMs, params.proposeDeltaMs]
    : step === 'prevote' ? [params.prevoteMs, params.prevoteDeltaMs] : [params.precommitMs, params.precommitDeltaMs]
  const ms = base + delta * round
  return ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : ms
}
