/** Slot flags. */
const PREORDER = 1
const ORPHAN = 2

/** Slot buffers up to this size are carved from shared slabs, in size classes of CLASS_BYTES. */
const SLAB_MAX_SLOT = 16 * 1024
const CLASS_BYTES = 128
const SLAB_BYTES = 256 * 1024

const readU32le = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0

/**
 * The cached tree pages of StateTreeStore, by slot (freed slots are reused), with no JS object
 * per node and one per page: each slot is one buffer holding the page's bytes, then its nodes'
 * hashes (32 bytes each, page order), then for pages in preorder (all but those joined from the
 * earlier layout) the index of each node's last descendant (its subtree is nodes i..ends[i], one
 * byte range), then each node's [start, end) in the page bytes as two u32le. (Four typed arrays a
 * page made a full 1M-key cache's JS heap ~840 bytes a page.) Per-slot numbers and the recency
 * list (least recent first; orphan slots are not in it) are typed arrays.
 *
 * Slot buffers are carved from 256 KiB slabs in size classes of 128 bytes (session 9): a typed
 * array of its own per page lives outside the JS heap, where the collector tracks and frees each
 * one, and a 1M-key block replaces ~3k pages. `buf(slot)` is the slab; every offset this class
 * gives (`hashAt`, `start`, `end`, `pageStart`) already includes the slot's place in it.
 */
export class TreePageSlots {
  readonly #buf: (Uint8Array | undefined)[] = []
  #length = new Int32Array(1024)
  #count = new Uint8Array(1024)
  #flags = new Uint8Array(1024)
  #prev = new Int32Array(1024)
  #next = new Int32Array(1024)
  #base = new Int32Array(1024)
  /** Size in bytes of each slot's piece of its slab (0: a buffer of its own). */
  #size = new Int32Array(1024)
  readonly #free: number[] = []
  /** Per size class: the free pieces of slabs (slab, offset), and the slab being carved with how far. */
  readonly #freeSlabs: Uint8Array[][] = []
  readonly #freeBases: number[][] = []
  #slab = new Uint8Array(0)
  #slabAt = 0
  #oldest = -1
  #newest = -1
  /** Bytes the slots hold. */
  bytes = 0

  /** A slot holding a copy of a page: its bytes, `count` nodes' hashes, spans ([start, end) at 2i, 2i+1) and ends (given: a page in preorder). Not in the recency list. */
  take(bytes: Uint8Array, spans: ArrayLike<number>, hashes: Uint8Array, count: number, ends: ArrayLike<number> | undefined): number {
    const length = bytes.length
    const slot = this.#allocate(length, count, ends === undefined ? 0 : PREORDER)
    const buf = this.#buf[slot]!
    const base = this.#base[slot]!
    buf.set(bytes, base)
    buf.set(hashes.subarray(0, 32 * count), base + length)
    if (ends !== undefined) for (let i = 0; i < count; i++) buf[base + length + 32 * count + i] = ends[i]!
    for (let i = 0, at = base + length + 33 * count; i < 2 * count; i++, at += 4) {
      const v = spans[i]!
      buf[at] = v & 0xff
      buf[at + 1] = (v >>> 8) & 0xff
      buf[at + 2] = (v >>> 16) & 0xff
      buf[at + 3] = v >>> 24
    }
    return slot
  }

  /** A slot with room for a page of `length` bytes and `count` nodes (page bytes, hashes, ends, spans). */
  #allocate(length: number, count: number, flags: number): number {
    const slot = this.#newSlot()
    const need = length + 41 * count
    if (need > SLAB_MAX_SLOT) {
      this.#buf[slot] = new Uint8Array(need)
      this.#base[slot] = 0
      this.#size[slot] = 0
      this.bytes += need
    } else {
      const cls = Math.ceil(need / CLASS_BYTES)
      const size = cls * CLASS_BYTES
      const slabs = this.#freeSlabs[cls]
      if (slabs !== undefined && slabs.length > 0) {
        this.#buf[slot] = slabs.pop()!
        this.#base[slot] = this.#freeBases[cls]!.pop()!
      } else {
        if (this.#slabAt + size > this.#slab.length) {
          this.#slab = new Uint8Array(SLAB_BYTES)
          this.#slabAt = 0
        }
        this.#buf[slot] = this.#slab
        this.#base[slot] = this.#slabAt
        this.#slabAt += size
      }
      this.#size[slot] = size
      this.bytes += size
    }
    this.#length[slot] = length
    this.#count[slot] = count
    this.#flags[slot] = flags
    return slot
  }

  /**
   * A slot for a page of `length` bytes and `count` nodes (in preorder) that the caller writes in place: the page
   * bytes from `pageStart`; `hashAt`, `endAt` and `setSpan` (spans relative to the page start) place its hashes, last
   * descendants and spans. Not in the recency list.
   */
  takeEmpty(length: number, count: number): number {
    return this.#allocate(length, count, PREORDER)
  }

  /** Sets node `i`'s span in a slot taken by takeEmpty. */
  setSpan(slot: number, i: number, start: number, end: number): void {
    const buf = this.#buf[slot]!
    let at = this.#base[slot]! + this.#length[slot]! + 33 * this.#count[slot]! + 8 * i
    buf[at++] = start & 0xff
    buf[at++] = (start >>> 8) & 0xff
    buf[at++] = (start >>> 16) & 0xff
    buf[at++] = start >>> 24
    buf[at++] = end & 0xff
    buf[at++] = (end >>> 8) & 0xff
    buf[at++] = (end >>> 16) & 0xff
    buf[at] = end >>> 24
  }

  /** Where node `i`'s last-descendant index goes in a slot's buffer. */
  endAt(slot: number, i: number): number {
    return this.#base[slot]! + this.#length[slot]! + 32 * this.#count[slot]! + i
  }

  #newSlot(): number {
    const slot = this.#free.pop() ?? this.#buf.length
    if (slot >= this.#prev.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2)
        b.set(a)
        return b
      }
      this.#prev = grow(this.#prev, (n) => new Int32Array(n))
      this.#next = grow(this.#next, (n) => new Int32Array(n))
      this.#length = grow(this.#length, (n) => new Int32Array(n))
      this.#base = grow(this.#base, (n) => new Int32Array(n))
      this.#size = grow(this.#size, (n) => new Int32Array(n))
      this.#count = grow(this.#count, (n) => new Uint8Array(n))
      this.#flags = grow(this.#flags, (n) => new Uint8Array(n))
    }
    return slot
  }

  /**
   * `slot` takes over the buffer and page of `from` (a slot taken and filled but not linked), keeping its own number
   * and place in the recency list; its old buffer is freed and `from` is free again. A rewritten page replaces the
   * version it supersedes this way, so the index entries of the nodes both hold at the same position stay as they are.
   */
  replace(slot: number, from: number): void {
    this.#release(slot)
    this.#buf[slot] = this.#buf[from]
    this.#base[slot] = this.#base[from]!
    this.#size[slot] = this.#size[from]!
    this.#length[slot] = this.#length[from]!
    this.#count[slot] = this.#count[from]!
    this.#flags[slot] = this.#flags[from]!
    this.#buf[from] = undefined
    this.#flags[from] = 0
    this.#free.push(from)
  }

  /** Frees a slot (unlink it first if it is in the recency list). */
  free(slot: number): void {
    this.#release(slot)
    this.#buf[slot] = undefined
    this.#flags[slot] = 0
    this.#free.push(slot)
  }

  /** Returns a slot's buffer (or its piece of a slab) to the free pieces. */
  #release(slot: number): void {
    const size = this.#size[slot]!
    if (size === 0) this.bytes -= this.#buf[slot]!.length
    else {
      const cls = size / CLASS_BYTES
      ;(this.#freeSlabs[cls] ??= []).push(this.#buf[slot]!)
      ;(this.#freeBases[cls] ??= []).push(this.#base[slot]!)
      this.bytes -= size
    }
  }

  /** The buffer holding the slot (a slab shared with other slots): page bytes from `pageStart`, then the hashes (`hashAt`). */
  buf(slot: number): Uint8Array {
    return this.#buf[slot]!
  }

  /** Where the slot's page bytes start in `buf(slot)` (they end where its hashes start: `hashAt(slot, 0)`). */
  pageStart(slot: number): number {
    return this.#base[slot]!
  }

  count(slot: number): number {
    return this.#count[slot]!
  }

  /** Where the hash of node `i` of `slot` is in its buffer (node 0: the page root). */
  hashAt(slot: number, i: number): number {
    return this.#base[slot]! + this.#length[slot]! + 32 * i
  }

  /** Where node `i` of `slot` starts in the page bytes. */
  start(slot: number, i: number): number {
    return this.#base[slot]! + readU32le(this.#buf[slot]!, this.#base[slot]! + this.#length[slot]! + 33 * this.#count[slot]! + 8 * i)
  }

  end(slot: number, i: number): number {
    return this.#base[slot]! + readU32le(this.#buf[slot]!, this.#base[slot]! + this.#length[slot]! + 33 * this.#count[slot]! + 8 * i + 4)
  }

  /** Whether `slot`'s nodes are in preorder with their last descendants (`lastDescendant`). */
  isPreorder(slot: number): boolean {
    return (this.#flags[slot]! & PREORDER) !== 0
  }

  lastDescendant(slot: number, i: number): number {
    return this.#buf[slot]![this.#base[slot]! + this.#length[slot]! + 32 * this.#count[slot]! + i]!
  }

  /** An orphan slot holds the copy of one node whose page left while another cached page still holds it. */
  isOrphan(slot: number): boolean {
    return (this.#flags[slot]! & ORPHAN) !== 0
  }

  markOrphan(slot: number): void {
    this.#flags[slot]! |= ORPHAN
  }

  /** The least recently used slot in the list, or -1. */
  get oldest(): number {
    return this.#oldest
  }

  /** Appends a slot to the recency list (newest). */
  link(slot: number): void {
    this.#prev[slot] = this.#newest
    this.#next[slot] = -1
    if (this.#newest >= 0) this.#next[this.#newest] = slot
    else this.#oldest = slot
    this.#newest = slot
  }

  unlink(slot: number): void {
    const prev = this.#prev[slot]!
    const next = this.#next[slot]!
    if (prev >= 0) this.#next[prev] = next
    else this.#oldest = next
    if (next >= 0) this.#prev[next] = prev
    else this.#newest = prev
  }

  /** The slot becomes the most recent. */
  touch(slot: number): void {
    if (this.#newest === slot) return
    this.unlink(slot)
    this.link(slot)
  }
}
