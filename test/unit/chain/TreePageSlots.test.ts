import { describe, expect, it } from 'vitest'

import { TreePageSlots } from '../../../src/chain/TreePageSlots.ts'

/** A one-node page of `length` bytes filled with `fill`, its hash 32 bytes of `fill` too. */
function take(slots: TreePageSlots, length: number, fill: number): number {
  return slots.take(new Uint8Array(length).fill(fill), [0, length], new Uint8Array(32).fill(fill), 1, [0])
}

const pageOf = (slots: TreePageSlots, slot: number): Uint8Array => slots.buf(slot).subarray(slots.pageStart(slot), slots.hashAt(slot, 0))

describe('TreePageSlots: slots carved from shared slabs', () => {
  it('slots of many sizes share slabs without overlapping; a freed piece is reused by its size class and the others keep their bytes', () => {
    const slots = new TreePageSlots()
    const live = new Map<number, { length: number; fill: number }>()
    let fill = 1
    // Churn: take and free pages of sizes in several classes (and one larger than a slab piece), checking every live page each round.
    for (let round = 0; round < 400; round++) {
      const length = [60, 100, 300, 1000, 3000, 20_000][round % 6]!
      const slot = take(slots, length, fill)
      live.set(slot, { length, fill })
      fill = (fill % 250) + 1
      if (round % 3 === 2) {
        const victim = [...live.keys()][(round * 7) % live.size]!
        slots.free(victim)
        live.delete(victim)
      }
      // Live pages are never written after take, so an overlap found later is still there: check every 20th round (and the last).
      if (round % 20 !== 19) continue
      for (const [s, { length: l, fill: f }] of live) {
        const page = pageOf(slots, s)
        expect(page.length).toBe(l)
        expect(page.every((b) => b === f)).toBe(true)
        expect(slots.buf(s).subarray(slots.hashAt(s, 0), slots.hashAt(s, 1)).every((b) => b === f)).toBe(true)
        expect([slots.start(s, 0) - slots.pageStart(s), slots.end(s, 0) - slots.pageStart(s)]).toEqual([0, l])
      }
    }
    // The byte count follows the live slots (size classes rounded up), so the cache's budget sees what it holds.
    let expected = 0
    for (const { length } of live.values()) expected += length + 41 > 16 * 1024 ? length + 41 : Math.ceil((length + 41) / 128) * 128
    expect(slots.bytes).toBe(expected)
  })

  it('replace: a slot takes over another slot\'s page under its own number and place in the recency list; its old piece and the other number are free again', () => {
    const slots = new TreePageSlots()
    const a = take(slots, 100, 1)
    const b = take(slots, 100, 2)
    const c = take(slots, 3000, 3)
    for (const s of [a, b, c]) slots.link(s)
    const fresh = take(slots, 20_000, 4)
    const before = slots.bytes
    slots.replace(b, fresh)
    expect(pageOf(slots, b).every((x) => x === 4) && pageOf(slots, b).length === 20_000).toBe(true)
    expect(slots.bytes).toBe(before - 256)
    // b kept its place: oldest first a, b, c.
    expect(slots.oldest).toBe(a)
    slots.unlink(a)
    expect(slots.oldest).toBe(b)
    // The number `fresh` and b's old piece (same size class) are reused by the next take, and the other pages keep their bytes.
    const next = take(slots, 100, 5)
    expect(next).toBe(fresh)
    expect(pageOf(slots, next).every((x) => x === 5)).toBe(true)
    expect(pageOf(slots, a).every((x) => x === 1) && pageOf(slots, c).every((x) => x === 3) && pageOf(slots, b).every((x) => x === 4)).toBe(true)
  })
})
