import { randomBytes } from 'node:crypto'

import { StateTreeError, type TreeNodeWrite } from '../state/stateTree/index.ts'
import { decodeTreePage } from '../state/stateTree/treePage.ts'
import { PAGE_MAX_NODES, type ParsedPage, parseStoredPage } from './parseStoredPage.ts'
import { TreeNodeIndex } from './TreeNodeIndex.ts'
import { TreePageSlots } from './TreePageSlots.ts'

/** Scratch for parsing a stored page (addStoredPage copies what it keeps). */
const PARSED: ParsedPage = { hashes: new Uint8Array(PAGE_MAX_NODES * 32), spans: new Uint32Array(PAGE_MAX_NODES * 2), ends: new Uint8Array(PAGE_MAX_NODES) }

/**
 * StateTreeStore's cache of tree pages (split from it in session 10): the slots holding the pages and the two indexes
 * over them, with the bookkeeping that keeps them consistent when pages join, are replaced by a newer version, or leave.
 * No JS object per node (session 8): a cached page is a slot (TreePageSlots: its bytes, each node's span in them, each
 * node's hash); nodes and pages are found through two typed-array hash tables (TreeNodeIndex) whose keys are those
 * hashes. `nodes`: node hash → `slot * 32 + index` (the node is the index-th of the page in that slot; the newest cached
 * page holding it), with the count of cached pages holding it (an older root's page loaded beside the head's shares
 * nodes with it). `pages`: page root hash → slot.
 */
export class TreePageCache {
  readonly slots = new TreePageSlots()
  readonly nodes: TreeNodeIndex
  readonly pages: TreeNodeIndex
  readonly seed = randomBytes(8)
  readonly #maxNodes: number
  readonly #maxBytes: number
  constructor(maxNodes: number, maxBytes: number) {
    this.#maxNodes = maxNodes
    this.#maxBytes = maxBytes
    const slots = this.slots
    this.nodes = new TreeNodeIndex({ bytesOf: (v) => slots.buf(v >>> 5), offsetOf: (v) => slots.hashAt(v >>> 5, v & 31) }, { seed: this.seed })
    this.pages = new TreeNodeIndex({ bytesOf: (slot) => slots.buf(slot), offsetOf: (slot) => slots.hashAt(slot, 0) }, { seed: this.seed })
  }

  /** The cached node whose hash is `bytes[at..at+32)` (a view into its page), or undefined. */
  readAt(bytes: Uint8Array, at: number): Uint8Array | undefined {
    const v = this.nodes.get(bytes, at)
    if (v < 0) return undefined
    const slot = v >>> 5
    return this.slots.buf(slot).subarray(this.slots.start(slot, v & 31), this.slots.end(slot, v & 31))
  }

  /** Bytes the cache holds: its pages and the two indexes. */
  get cachedBytes(): number {
    return this.slots.bytes + (this.nodes.capacity + this.pages.capacity) * 10
  }

  /** Caches a page given as separate nodes, its root first (joined into one buffer). */
  addNodes(nodes: readonly TreeNodeWrite[]): void {
    if (nodes.length > PAGE_MAX_NODES) throw new StateTreeError('CORRUPT_NODE', 'tree page: more nodes than a page holds', { hash: Buffer.from(nodes[0]!.hash).toString('hex') })
    let size = 0
    for (const n of nodes) size += n.bytes.length
    const bytes = new Uint8Array(size)
    const spans = new Uint32Array(nodes.length * 2)
    const hashes = new Uint8Array(nodes.length * 32)
    let at = 0
    nodes.forEach((n, i) => {
      bytes.set(n.bytes, at)
      hashes.set(n.hash, i * 32)
      spans[2 * i] = at
      spans[2 * i + 1] = at += n.bytes.length
    })
    this.#addPage(bytes, spans, hashes, nodes.length, undefined)
  }

  /** Caches a page of `count` nodes (its root is the first hash), or marks it recently used when cached. */
  #addPage(bytes: Uint8Array, spans: ArrayLike<number>, hashes: Uint8Array, count: number, ends: ArrayLike<number> | undefined): void {
    const cached = this.pages.get(hashes, 0)
    if (cached >= 0) return this.slots.touch(cached)
    this.register(this.slots.take(bytes, spans, hashes, count, ends))
  }

  /** Indexes a page newly taken into `slot` (not cached before) and its nodes, as the most recently used. */
  register(slot: number): void {
    this.#indexNodes(slot, 0)
    this.slots.link(slot)
  }

  /** Indexes the page in `slot` and its nodes but those in `skip` (a mask of indexes: indexed there already). */
  #indexNodes(slot: number, skip: number): void {
    const nodes = this.nodes
    const buf = this.slots.buf(slot)
    const at = this.slots.hashAt(slot, 0)
    for (let i = 0; i < this.slots.count(slot); i++) {
      if ((skip & (1 << i)) !== 0) continue
      const pos = nodes.find(buf, at + i * 32)
      if (pos < 0) nodes.insert(buf, at + i * 32, slot * 32 + i)
      else {
        // A node already cached (in an older root's page) points into the newest page holding it.
        nodes.setCountAt(pos, nodes.countAt(pos) + 1)
        this.#relocate(pos, slot * 32 + i)
      }
    }
    this.pages.insert(buf, at, slot)
  }

  /** The nodes of the page in `slot` but those in `skip` leave it (#releaseNode), and so does its page entry. */
  #releaseNodes(slot: number, skip: number): void {
    for (let i = 0; i < this.slots.count(slot); i++) if ((skip & (1 << i)) === 0) this.#releaseNode(slot, i)
    this.pages.deleteAt(this.pages.find(this.slots.buf(slot), this.slots.hashAt(slot, 0)))
  }

  /**
   * The page newly encoded in `fresh` (taken, not indexed) takes the place of the cached page in `slot`, the version it
   * supersedes, under the same slot number (session 10). A node both hold at the same index (`kept`, a mask of indexes:
   * most of a rewritten page, as a block changes one path through it) keeps its index entry as it is; only the others
   * leave and join the index (at 1M keys a block rewrites ~3.4k pages of ~25 nodes, ~4 of them new).
   */
  replaceSlot(slot: number, fresh: number, kept: number): void {
    const slots = this.slots
    // The old version's other nodes leave while its bytes are still in the slot (a node another cached page holds
    // gets its orphan copy from them); the new version's join once its bytes are.
    this.#releaseNodes(slot, kept)
    slots.replace(slot, fresh)
    this.#indexNodes(slot, kept)
    slots.touch(slot)
  }

  /** Points the node at `pos` to `value`; an orphan copy it leaves is freed. */
  #relocate(pos: number, value: number): void {
    const old = this.nodes.valueAt(pos)
    this.nodes.setValueAt(pos, value)
    if (this.slots.isOrphan(old >>> 5)) this.slots.free(old >>> 5)
  }

  /**
   * Caches a page read from bucket `treePage`: the walk of decodeTreePage, with hashes copied from
   * the parents' bytes and no decoded objects (pages read per block at 1M keys: thousands).
   * Anything that does not parse goes through decodeTreePage, which names the fault.
   */
  addStoredPage(root: Uint8Array, bytes: Uint8Array): void {
    const cached = this.pages.get(root, 0)
    if (cached >= 0) return this.slots.touch(cached)
    const count = parseStoredPage(root, bytes, PARSED)
    if (count > 0) this.#addPage(bytes, PARSED.spans, PARSED.hashes, count, PARSED.ends)
    else this.addNodes(decodeTreePage(root, bytes).nodes)
  }

  /** Drops a cached page. */
  #dropSlot(slot: number): void {
    this.#releaseNodes(slot, 0)
    this.slots.unlink(slot)
    this.slots.free(slot)
  }

  /** The page in `slot` no longer holds its `i`-th node: the node leaves the cache with its last page. */
  #releaseNode(slot: number, i: number): void {
    const nodes = this.nodes
    const buf = this.slots.buf(slot)
    const hashAt = this.slots.hashAt(slot, 0) + i * 32
    const pos = nodes.find(buf, hashAt)
    if (pos < 0) return
    const at = nodes.valueAt(pos)
    const pages = nodes.countAt(pos)
    if (pages <= 1) {
      nodes.deleteAt(pos)
      if (this.slots.isOrphan(at >>> 5)) this.slots.free(at >>> 5)
      return
    }
    nodes.setCountAt(pos, pages - 1)
    if (at !== slot * 32 + i) return
    // Still held by another cached page, but located in this one: it keeps a copy of its bytes, as a slot of its own.
    const own = buf.subarray(this.slots.start(slot, i), this.slots.end(slot, i))
    const orphan = this.slots.take(own, [0, own.length], buf.subarray(hashAt, hashAt + 32), 1, undefined)
    this.slots.markOrphan(orphan)
    nodes.setValueAt(pos, orphan * 32)
  }

  /** Drops the least recently loaded pages until the cache is within its bounds (nodes and bytes); whether it dropped any. */
  trim(): boolean {
    let dropped = false
    while (this.slots.oldest >= 0 && (this.nodes.size > this.#maxNodes || this.cachedBytes > this.#maxBytes)) {
      this.#dropSlot(this.slots.oldest)
      dropped = true
    }
    return dropped
  }
}
