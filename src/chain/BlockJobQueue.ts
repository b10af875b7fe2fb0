import type { QueueJob, SlowQueueJob } from './chainTypes.ts'

/** A job of the chain's queue that waited and ran this long together is reported. */
const SLOW_QUEUE_JOB_MS = 200

/**
 * Block jobs (import, check, commit, build) run one at a time. A job that waited or ran longer
 * than SLOW_QUEUE_JOB_MS is reported (`onSlow`): what stalls a round under load shows in the log.
 */
export class BlockJobQueue {
  #tail: Promise<unknown> = Promise.resolve()
  readonly #onSlow: (slow: Omit<SlowQueueJob, 'height'>) => void

  constructor(onSlow: (slow: Omit<SlowQueueJob, 'height'>) => void) {
    this.#onSlow = onSlow
  }

  run<T>(job: QueueJob, f: () => Promise<T>): Promise<T> {
    const queued = performance.now()
    let started = queued
    const timed = async (): Promise<T> => {
      started = performance.now()
      try {
        return await f()
      } finally {
        const ended = performance.now()
        if (ended - queued >= SLOW_QUEUE_JOB_MS) this.#onSlow({ job, waitedMs: Math.round(started - queued), ranMs: Math.round(ended - started) })
      }
    }
    const run = this.#tail.then(timed, timed)
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Resolves when every job queued so far has ended. */
  async drain(): Promise<void> {
    await this.#tail
  }
}
