import type { Address, ChainParams } from '../../blocks/schema.ts'
import { CAPABILITY } from '../../blocks/schema.ts'
import { toHex } from '../crypto/bytes.ts'
import { computeUtilizationBp } from '../state/market/pricing.ts'
import { HOST_STATUS, type HostRecord } from '../state/records.ts'
import { RouterError } from './errors.ts'

/** One host as the index holds it: the record plus fields the search reads on every visit. */
export interface IndexedHost {
  readonly key: string
  /** Row of this host in the index's typed arrays (HOT_* and AMOUNT_* columns); reused after a removal. */
  readonly slot: number
  readonly address: Address
  record: HostRecord
  x: number
  y: number
  z: number
  /** First 4 address bytes as a uint32: the fast path of the seeded id tie-break. */
  readonly tie: number
  /** Copies of the record fields the filter reads, one pointer away instead of three. */
  status: number
  capabilities: number
  reputation: number
  zone: string
  /** capacityBytes − usedBytes, never negative. */
  free: bigint
  /** usedBytes / capacityBytes in basis points (10000 when capacity is 0). */
  fullBp: number
  /** Memory the host offers one guest (HostParams.memoryBytes). */
  memoryBytes: bigint
  /** passedChecks ≥ vettingPasses: no longer capped to the unvetted share of placements. */
  vetted: boolean
  /** Draw weight within a band: max(bond, 1) × max(reputation, 1). */
  weight: bigint
}

/** An octree node over the cube [x, x+size)³; a leaf holds items, an inner node up to 8 children. */
export interface OctNode {
  readonly x: number
  readonly y: number
  readonly z: number
  readonly size: number
  count: number
  kids: (OctNode | undefined)[] | undefined
  /** Slots of the hosts in this leaf (a packed small-int array: one contiguous read per leaf). */
  items: number[] | undefined
}

/**
 * The columns of the hot row (Uint32Array, HOT_STRIDE words per host): what the search reads for
 * every host it looks at, so that looking at a leaf's hosts reads a few adjacent cache lines
 * instead of chasing a record, its params and their bigints per host.
 */
export const HOT = { x: 0, y: 1, z: 2, capabilities: 3, zoneId: 4, quality: 5, tie: 6, flags: 7 } as const
/** HOT.quality packs reputation (0..10000, low 16 bits) and fullBp (0..20000, high 16 bits). */
export const QUALITY_SHIFT = 16
export const HOT_STRIDE = 8
/** HOT.flags bits: `placeable` = active and bonded (a host with nothing at stake is never placed). */
export const HOST_FLAG = { placeable: 1, vetted: 2 } as const
/**
 * The amount row (Float64Array, AMOUNT_STRIDE per host): free bytes, memory bytes and the two
 * asks as integers, each capped at AMOUNT_BIG = 2^53. A value below the cap is exact; the cap
 * means "at least 2^53: compare the record's bigint" (the search then takes the slow path).
 */
export const AMOUNT = { free: 0, memory: 1, askPerFuel: 2, askPerByteEpoch: 3 } as const
export const AMOUNT_STRIDE = 4
export const AMOUNT_BIG = 2 ** 53

function toAmount(v: bigint): number {
  return v >= 9_007_199_254_740_992n ? AMOUNT_BIG : Number(v)
}

/** Leaf capacity before a split; a node collapses back to a leaf when it holds half of that. */
const LEAF_MAX = 16

function newLeaf(x: number, y: number, z: number, size: number): OctNode {
  return { x, y, z, size, count: 0, kids: undefined, items: [] }
}

function childIndex(node: OctNode, hot: Uint32Array, slot: number): number {
  const half = node.size / 2
  const r = slot * HOT_STRIDE
  return (hot[r + HOT.x]! >= node.x + half ? 1 : 0) | (hot[r + HOT.y]! >= node.y + half ? 2 : 0) | (hot[r + HOT.z]! >= node.z + half ? 4 : 0)
}

function childOf(node: OctNode, i: number): OctNode {
  const kids = node.kids!
  let kid = kids[i]
  if (kid === undefined) {
    const half = node.size / 2
    kid = newLeaf(node.x + (i & 1 ? half : 0), node.y + (i & 2 ? half : 0), node.z + (i & 4 ? half : 0), half)
    kids[i] = kid
  }
  return kid
}

function insert(node: OctNode, hot: Uint32Array, slot: number): void {
  for (;;) {
    node.count++
    if (node.items !== undefined) {
      node.items.push(slot)
      // A cell of size 1 cannot split: hosts sharing a coordinate all live in it.
      if (node.items.length > LEAF_MAX && node.size > 1) {
        const items = node.items
        node.items = undefined
        node.kids = new Array<OctNode | undefined>(8)
        for (const it of items) {
          const kid = childOf(node, childIndex(node, hot, it))
          kid.count++
          kid.items!.push(it)
        }
        // A split can leave every item in one child that is itself over full; re-split lazily on next insert.
      }
      return
    }
    node = childOf(node, childIndex(node, hot, slot))
  }
}

function collect(node: OctNode, out: number[]): void {
  if (node.items !== undefined) {
    for (const it of node.items) out.push(it)
    return
  }
  for (const kid of node.kids!) if (kid !== undefined) collect(kid, out)
}

/** Removes `slot` from the subtree; `hot` still holds the coordinates it was inserted at. */
function remove(node: OctNode, hot: Uint32Array, slot: number): void {
  node.count--
  if (node.items !== undefined) {
    const i = node.items.indexOf(slot)
    node.items[i] = node.items[node.items.length - 1]!
    node.items.pop()
    return
  }
  const i = childIndex(node, hot, slot)
  const kid = node.kids![i]!
  remove(kid, hot, slot)
  if (kid.count === 0) node.kids![i] = undefined
  if (node.count <= LEAF_MAX / 2) {
    const items: number[] = []
    collect(node, items)
    node.kids = undefined
    node.items = items
  }
}

/** The most significant set bit's position comparison: a < b in that sense (the Morton order trick). */
function lessMsb(a: number, b: number): boolean {
  return a < b && a < (a ^ b) >>> 0
}

/** Z-order comparison of two coordinates (bits interleaved z, y, x from the top). */
function compareMorton(a: { x: number; y: number; z: number }, b: { x: number; y: number; z: number }): number {
  const dx = (a.x ^ b.x) >>> 0
  const dy = (a.y ^ b.y) >>> 0
  const dz = (a.z ^ b.z) >>> 0
  let axis = 0
  let top = dx
  if (lessMsb(top, dy)) {
    axis = 1
    top = dy
  }
  if (lessMsb(top, dz)) axis = 2
  return axis === 0 ? a.x - b.x : axis === 1 ? a.y - b.y : a.z - b.z
}

function isStorageSupply(r: HostRecord): boolean {
  return r.status === HOST_STATUS.active && (r.params.capabilities & CAPABILITY.storage) !== 0
}

/**
 * The router's spatial index: an octree over the bounded grid, updated incrementally on join,
 * leave, move and update. Its shape depends on history, never its answers: `route` searches it
 * exactly, so the same set of hosts gives the same routes whatever the insertion order.
 * It also keeps the network storage totals (active storage hosts) that set storage prices.
 */
/** The chain parameters the router reads: the grid bound, the storage price slope and the placement rule's. */
export type HostIndexParams = Pick<ChainParams, 'gridSize' | 'storageUtilizationSlopeBp' | 'placementBandHosts' | 'vettingPasses' | 'unvettedShareBp'>

export class HostIndex {
  readonly gridSize: number
  readonly params: HostIndexParams
  /** The octree root; read by the router's search. */
  readonly root: OctNode
  /** HOT_STRIDE words per slot (see HOT); replaced by a larger copy when the slots run out. */
  hot: Uint32Array
  /** AMOUNT_STRIDE numbers per slot (see AMOUNT). */
  amounts: Float64Array
  private readonly bySlot: (IndexedHost | undefined)[] = []
  private readonly freeSlots: number[] = []
  private readonly byKey = new Map<string, IndexedHost>()
  private readonly zones = new Map<string, number>()
  /** Zone names interned to small ints (HOT.zoneId); never forgotten, so an id always means one name. */
  private readonly zoneIds = new Map<string, number>()
  private capacity = 0n
  private used = 0n

  constructor(params: HostIndexParams) {
    const gridSize = params.gridSize
    if (!Number.isInteger(gridSize) || gridSize < 1 || gridSize > 0xffff_ffff) throw new RouterError('BAD_REQUEST', `gridSize ${gridSize} is not in 1..2^32-1`, { gridSize })
    this.gridSize = gridSize
    for (const [field, max] of [['placementBandHosts', 0xffff], ['vettingPasses', 0xffff_ffff], ['unvettedShareBp', 10_000]] as const) {
      const v = params[field]
      if (!Number.isInteger(v) || v < 0 || v > max) throw new RouterError('BAD_REQUEST', `${field} ${v} is not in 0..${max}`, {})
    }
    this.params = {
      gridSize,
      storageUtilizationSlopeBp: params.storageUtilizationSlopeBp,
      placementBandHosts: params.placementBandHosts,
      vettingPasses: params.vettingPasses,
      unvettedShareBp: params.unvettedShareBp,
    }
    let size = 1
    while (size < gridSize) size *= 2
    this.root = newLeaf(0, 0, 0, size)
    this.hot = new Uint32Array(64 * HOT_STRIDE)
    this.amounts = new Float64Array(64 * AMOUNT_STRIDE)
  }

  /** An index holding every given host. */
  static build(params: HostIndexParams, hosts: Iterable<readonly [Address, HostRecord]>): HostIndex {
    const index = new HostIndex(params)
    // Insert in Morton (octree) order: neighbours in space are then allocated next to each other,
    // which keeps a query's leaves and hosts in fewer cache lines. The answers never depend on it.
    const list = [...hosts].sort((a, b) => compareMorton(a[1].params.coord, b[1].params.coord))
    for (const [address, record] of list) index.upsert(address, record)
    return index
  }

  get size(): number {
    return this.byKey.size
  }

  /**
   * Number of distinct zones among active hosts: only they can be routed to, so once a search has
   * seen a candidate in each of them no unseen zone can exist.
   */
  get zoneCount(): number {
    return this.zones.size
  }

  /** Storage utilization of the network in basis points: used / capacity over active storage hosts. */
  get utilizationBp(): number {
    return computeUtilizationBp(this.used, this.capacity)
  }

  get(address: Address): HostRecord | undefined {
    return this.byKey.get(toHex(address))?.record
  }

  getIndexed(address: Address): IndexedHost | undefined {
    return this.byKey.get(toHex(address))
  }

  /** The host under its hex key (IndexedHost.key). */
  getIndexedByKey(key: string): IndexedHost | undefined {
    return this.byKey.get(key)
  }

  has(address: Address): boolean {
    return this.byKey.has(toHex(address))
  }

  /** The host in `slot` (a slot listed by a leaf always holds one). */
  hostAt(slot: number): IndexedHost {
    return this.bySlot[slot]!
  }

  /** The interned id of a zone name, or undefined when no host ever declared it. */
  zoneIdOf(zone: string): number | undefined {
    return this.zoneIds.get(zone)
  }

  /** Every indexed host, in no particular order. */
  values(): IterableIterator<IndexedHost> {
    return this.byKey.values()
  }

  /** Adds a host or replaces its record; a changed coordinate moves it in the tree. */
  upsert(address: Address, record: HostRecord): void {
    if (!(address instanceof Uint8Array) || address.length !== 32) throw new RouterError('BAD_HOST', 'host address must be 32 bytes')
    const { x, y, z } = record.params.coord
    for (const c of [x, y, z]) {
      if (!Number.isInteger(c) || c < 0 || c >= this.gridSize) throw new RouterError('BAD_HOST', `coordinate ${c} is off the grid 0..${this.gridSize - 1}`, { coord: record.params.coord })
    }
    if (record.params.capacityBytes < 0n || record.usedBytes < 0n) throw new RouterError('BAD_HOST', 'capacity and used bytes must be non-negative')
    const key = toHex(address)
    const old = this.byKey.get(key)
    if (old !== undefined) {
      this.account(old.record, -1)
      this.zoneDelta(old.record, -1)
      if (old.x !== x || old.y !== y || old.z !== z) {
        remove(this.root, this.hot, old.slot)
        old.x = x
        old.y = y
        old.z = z
        this.writeCoord(old.slot, x, y, z)
        insert(this.root, this.hot, old.slot)
      }
      old.record = record
      this.derive(old)
    } else {
      const h: IndexedHost = {
        key,
        slot: this.allocateSlot(),
        address: new Uint8Array(address),
        record,
        x,
        y,
        z,
        tie: ((address[0]! << 24) | (address[1]! << 16) | (address[2]! << 8) | address[3]!) >>> 0,
        status: 0,
        capabilities: 0,
        reputation: 0,
        zone: '',
        free: 0n,
        fullBp: 0,
        memoryBytes: 0n,
        vetted: false,
        weight: 0n,
      }
      this.bySlot[h.slot] = h
      this.writeCoord(h.slot, x, y, z)
      this.derive(h)
      this.byKey.set(key, h)
      insert(this.root, this.hot, h.slot)
    }
    this.account(record, 1)
    this.zoneDelta(record, 1)
  }

  /** Removes a host; returns whether it was indexed. */
  remove(address: Address): boolean {
    const key = toHex(address)
    const h = this.byKey.get(key)
    if (h === undefined) return false
    this.byKey.delete(key)
    remove(this.root, this.hot, h.slot)
    this.bySlot[h.slot] = undefined
    // A free slot is never in a leaf; clearing its flags keeps a stale row from ever looking placeable.
    this.hot[h.slot * HOT_STRIDE + HOT.flags] = 0
    this.freeSlots.push(h.slot)
    this.account(h.record, -1)
    this.zoneDelta(h.record, -1)
    return true
  }

  private allocateSlot(): number {
    const reused = this.freeSlots.pop()
    if (reused !== undefined) return reused
    const slot = this.bySlot.length
    this.bySlot.push(undefined)
    if ((slot + 1) * HOT_STRIDE > this.hot.length) {
      const hot = new Uint32Array(this.hot.length * 2)
      hot.set(this.hot)
      this.hot = hot
      const amounts = new Float64Array(this.amounts.length * 2)
      amounts.set(this.amounts)
      this.amounts = amounts
    }
    return slot
  }

  private writeCoord(slot: number, x: number, y: number, z: number): void {
    const r = slot * HOT_STRIDE
    this.hot[r + HOT.x] = x
    this.hot[r + HOT.y] = y
    this.hot[r + HOT.z] = z
  }

  private internZone(zone: string): number {
    let id = this.zoneIds.get(zone)
    if (id === undefined) {
      id = this.zoneIds.size
      this.zoneIds.set(zone, id)
    }
    return id
  }

  private derive(h: IndexedHost): void {
    h.status = h.record.status
    h.capabilities = h.record.params.capabilities
    h.reputation = Math.min(10_000, Math.max(0, h.record.reputation))
    h.zone = h.record.params.zone
    const cap = h.record.params.capacityBytes
    const used = h.record.usedBytes
    h.free = cap > used ? cap - used : 0n
    h.fullBp = computeUtilizationBp(used, cap) + (cap === 0n ? 10_000 : 0)
    h.memoryBytes = h.record.params.memoryBytes
    h.vetted = h.record.passedChecks >= this.params.vettingPasses
    h.weight = (h.record.bond > 1n ? h.record.bond : 1n) * BigInt(h.reputation > 1 ? h.reputation : 1)
    const r = h.slot * HOT_STRIDE
    const hot = this.hot
    hot[r + HOT.capabilities] = h.capabilities >>> 0
    hot[r + HOT.zoneId] = this.internZone(h.zone)
    hot[r + HOT.quality] = h.reputation | (h.fullBp << QUALITY_SHIFT)
    hot[r + HOT.tie] = h.tie
    hot[r + HOT.flags] = (h.status === HOST_STATUS.active && h.record.bond !== 0n ? HOST_FLAG.placeable : 0) | (h.vetted ? HOST_FLAG.vetted : 0)
    const a = h.slot * AMOUNT_STRIDE
    const amounts = this.amounts
    amounts[a + AMOUNT.free] = toAmount(h.free)
    amounts[a + AMOUNT.memory] = toAmount(h.memoryBytes)
    amounts[a + AMOUNT.askPerFuel] = toAmount(h.record.params.askPerFuel)
    amounts[a + AMOUNT.askPerByteEpoch] = toAmount(h.record.params.askPerByteEpoch)
  }

  private account(r: HostRecord, sign: 1 | -1): void {
    if (!isStorageSupply(r)) return
    const s = BigInt(sign)
    this.capacity += s * r.params.capacityBytes
    this.used += s * (r.usedBytes < r.params.capacityBytes ? r.usedBytes : r.params.capacityBytes)
  }

  private zoneDelta(r: HostRecord, d: 1 | -1): void {
    if (r.status !== HOST_STATUS.active) return
    const zone = r.params.zone
    const n = (this.zones.get(zone) ?? 0) + d
    if (n === 0) this.zones.delete(zone)
    else this.zones.set(zone, n)
  }
}
