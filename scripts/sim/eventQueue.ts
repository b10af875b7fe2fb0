/** A binary min-heap of events by (time, insertion order): ties run in the order they were queued. */
export class EventQueue<T> {
  #times: number[] = []
  #seqs: number[] = []
  #items: T[] = []
  #seq = 0

  get size(): number { return this.#items.length }

  push(time: number, item: T): void {
    this.#times.push(time)
    this.#seqs.push(this.#seq++)
    this.#items.push(item)
    let i = this.#items.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(i, p)) break
      this.#swap(i, p)
      i = p
    }
  }

  /** Removes and returns the earliest event, or undefined. */
  pop(): { time: number; item: T } | undefined {
    const n = this.#items.length
    if (n === 0) return undefined
    const time = this.#times[0]!
    const item = this.#items[0]!
    this.#swap(0, n - 1)
    this.#times.pop()
    this.#seqs.pop()
    this.#items.pop()
    let i = 0
    const m = n - 1
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let s = i
      if (l < m && this.#less(l, s)) s = l
      if (r < m && this.#less(r, s)) s = r
      if (s === i) break
      this.#swap(i, s)
      i = s
    }
    return { time, item }
  }

  #less(a: number, b: number): boolean {
    const ta = this.#times[a]!
    const tb = this.#times[b]!
    return ta < tb || (ta === tb && this.#seqs[a]! < this.#seqs[b]!)
  }

  #swap(a: number, b: number): void {
    const t = this.#times[a]!; this.#times[a] = this.#times[b]!; this.#times[b] = t
    const s = this.#seqs[a]!; this.#seqs[a] = this.#seqs[b]!; this.#seqs[b] = s
    const x = this.#items[a]!; this.#items[a] = this.#items[b]!; this.#items[b] = x
  }
}
