/**
 * The slot clock of a proposer: calls `onSlot(now)` just after each slot starts, each tick
 * scheduled after the previous one finished, so a slow proposal never overlaps the next.
 */
export interface SlotTickerOpts {
  genesisTime: bigint
  slotMs: number
  now: () => number
  onSlot: (nowMs: number) => Promise<void>
}

export class SlotTicker {
  readonly #opts: SlotTickerOpts
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(opts: SlotTickerOpts) {
    this.#opts = opts
  }

  start(): void {
    if (this.#stopped) return
    const { genesisTime, slotMs, now } = this.#opts
    const elapsed = now() - Number(genesisTime)
    const wait = elapsed < 0 ? -elapsed : slotMs - (elapsed % slotMs)
    this.#timer = setTimeout(() => void this.#tick(), wait + 5)
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
  }

  async #tick(): Promise<void> {
    await this.#opts.onSlot(this.#opts.now())
    this.start()
  }
}
