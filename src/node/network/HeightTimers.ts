/**
 * The consensus driver's timeouts of the current height (consensusDriver.ts): each fires once,
 * and all are cleared together when the height moves on or the driver stops.
 */
export class HeightTimers {
  readonly #timers = new Set<NodeJS.Timeout>()

  /** Runs `fire` after `delayMs` unless cleared first. */
  set(delayMs: number, fire: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      fire()
    }, delayMs)
    this.#timers.add(timer)
  }

  clear(): void {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }
}
