import { type Address, type Coord, ROUTE_STRATEGY } from '../../blocks/schema.ts'
import { toHex } from '../crypto/bytes.ts'
import { computeStoragePrice } from '../state/market/pricing.ts'
import { HOST_STATUS } from '../state/records.ts'
import { drawPlacement, type PlacementBand } from './drawPlacement.ts'
import { RouterError } from './errors.ts'
import { AMOUNT, AMOUNT_BIG, AMOUNT_STRIDE, HOST_FLAG, HostIndex, type HostIndexParams, HOT, HOT_STRIDE, type IndexedHost, type OctNode,QUALITY_SHIFT } from './HostIndex.ts'

/**
 * What a placement or an assignment asks of the router. `bid` is per fuel unit for compute and
 * per byte-epoch for storage; `minFreeBytes` is the free capacity each host needs (a shard's size
 * for storage, 0 for compute); `exclude` lists hosts that must not be picked (current holders
 * when repairing a shard); `zones`, when not empty, is a hard allow-list; `strategy`
 * (ROUTE_STRATEGY, default balanced) ranks the band; `minMemoryBytes` is matched against the
 * memory each host declares.
 */
export interface RouteRequest {
  kind: 'compute' | 'storage'
  origin: Coord
  replicas: number
  /** CAPABILITY bits every chosen host must have. */
  capabilities: number
  bid: bigint
  minFreeBytes: bigint
  exclude?: readonly Address[]
  zones?: readonly string[]
  strategy?: number
  minMemoryBytes?: bigint
}

/**
 * Rank score (lower is better), an integer below 2^53:
 *   cost = (d + 1) × penalty,   penalty ∈ [100000, 200000]
 * d is the Manhattan distance to the origin; the penalty depends on the strategy:
 *   balanced:   100000 + 4 × (10000 − reputationBp) + 3 × askBp + 3 × fullBp
 *   nearest:    100000
 *   cheapest:   100000 + 10 × askBp
 *   reputation: 100000 + 10 × (10000 − reputationBp)
 * askBp = price × 10000 / bid (0 when the bid is 0); fullBp = used / capacity. The penalty factor
 * is at most 2x, which keeps the search exact and local: a region whose nearest point is at
 * distance D holds no host cheaper than (D + 1) × 100000. The score only decides which hosts form
 * the band; the placement is drawn inside the band (drawPlacement.ts).
 */
export const COST_BASE = 100_000
export const COST_WEIGHTS = { reputation: 4, ask: 3, full: 3 } as const
/** Weight of the one quality term of the `cheapest` and `reputation` strategies. */
export const COST_SINGLE_WEIGHT = 10

/** Work counters a caller may pass to `route` (benchmarks): they never affect the answer. */
export interface RouteStats {
  nodesVisited: number
  hostsExamined: number
}

interface Candidate {
  h: IndexedHost
  cost: number
  /** h.tie, copied so that ranking reads the candidate alone. */
  tie: number
}

/** The per-query constants: filter inputs and seed bytes for the tie-break. */
interface Query {
  req: RouteRequest
  ox: number
  oy: number
  oz: number
  excluded: Set<string>
  zones: Set<string> | undefined
  strategy: number
  minMemoryBytes: bigint
  seed: Uint8Array
  seedTie: number
  utilizationBp: number
  params: HostIndexParams
  /** Vetted hosts the band holds: max(placementBandHosts, 2 × replicas). */
  bandSize: number
  /** The fast path's copies of the request as exact numbers (AMOUNT_BIG when ≥ 2^53: then the record decides). */
  minFreeAmount: number
  minMemoryAmount: number
  bidAmount: number
  /** Allowed zones as interned ids (undefined: any zone) and excluded hosts as slots. */
  zoneIds: Set<number> | undefined
  excludedSlots: Set<number>
  /** Storage price = ⌊ask × priceMul / PRICE_SCALE⌋ (computeStoragePrice with this query's utilization). */
  priceMul: number
}

/** computeStoragePrice's divisor (10000²) and the largest dividend below which ⌊a / b⌋ in doubles is exact. */
const PRICE_SCALE = 100_000_000
const EXACT_DIVIDEND = Number.MAX_SAFE_INTEGER - 1

function seedByte(seed: Uint8Array, i: number): number {
  return seed.length === 0 ? 0 : seed[i % seed.length]!
}

/** Rank order: cost, then the host id XOR-ed with the seed, byte by byte (a total order: ids are unique). */
function compareCandidates(a: Candidate, b: Candidate, q: Query): number {
  if (a.cost !== b.cost) return a.cost - b.cost
  const ta = (a.tie ^ q.seedTie) >>> 0
  const tb = (b.tie ^ q.seedTie) >>> 0
  if (ta !== tb) return ta - tb
  const x = a.h.address
  const y = b.h.address
  for (let i = 4; i < 32; i++) {
    const s = seedByte(q.seed, i)
    const d = (x[i]! ^ s) - (y[i]! ^ s)
    if (d !== 0) return d
  }
  return 0
}

function priceOf(h: IndexedHost, q: Query): bigint {
  const p = h.record.params
  return q.req.kind === 'compute' ? p.askPerFuel : computeStoragePrice(p.askPerByteEpoch, q.utilizationBp, q.params)
}

function penaltyOf(h: IndexedHost, askBp: number, strategy: number): number {
  return penaltyOfRow(h.reputation, h.fullBp, askBp, strategy)
}

/**
 * The filter (active and bonded, has the capabilities, in an allowed zone, enough memory, room for the data,
 * not excluded, price within the bid) and the cost. Returns undefined for an ineligible host or
 * one whose cost exceeds `above` (it could not enter the band, see `route`); the distance test
 * runs first as it is cheapest.
 */
function evaluate(h: IndexedHost, q: Query, above: number): Candidate | undefined {
  // An unbonded host (bond slashed away, or never locked) is never placed: it has nothing at stake.
  if (h.status !== HOST_STATUS.active || h.record.bond === 0n) return undefined
  // >>> 0: capability bit 31 would otherwise make the int32 AND negative.
  if ((h.capabilities & q.req.capabilities) >>> 0 !== q.req.capabilities) return undefined
  const dx = h.x - q.ox
  const dy = h.y - q.oy
  const dz = h.z - q.oz
  const d1 = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy) + (dz < 0 ? -dz : dz) + 1
  if (d1 * COST_BASE > above) return undefined
  if (h.free < q.req.minFreeBytes) return undefined
  if (h.memoryBytes < q.minMemoryBytes) return undefined
  if (q.zones !== undefined && !q.zones.has(h.zone)) return undefined
  if (q.excluded.size > 0 && q.excluded.has(h.key)) return undefined
  const price = priceOf(h, q)
  if (price > q.req.bid) return undefined
  const askBp = q.req.bid === 0n ? 0 : Number((price * 10_000n) / q.req.bid)
  const cost = d1 * penaltyOf(h, askBp, q.strategy)
  return cost > above ? undefined : { h, cost, tie: h.tie }
}

/**
 * `evaluate` on the index's typed rows (the same filter and cost, integer-exact): reads the host's
 * record only when an amount is at least 2^53 or a product would leave the exact double range.
 * Returns the cost, or -1 for an ineligible host or one costing more than `above`.
 */
function evaluateSlot(index: HostIndex, slot: number, q: Query, above: number): number {
  const hot = index.hot
  const r = slot * HOT_STRIDE
  if ((hot[r + HOT.flags]! & HOST_FLAG.placeable) === 0) return -1
  if ((hot[r + HOT.capabilities]! & q.req.capabilities) >>> 0 !== q.req.capabilities) return -1
  const dx = hot[r + HOT.x]! - q.ox
  const dy = hot[r + HOT.y]! - q.oy
  const dz = hot[r + HOT.z]! - q.oz
  const d1 = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy) + (dz < 0 ? -dz : dz) + 1
  if (d1 * COST_BASE > above) return -1
  const amounts = index.amounts
  const a = slot * AMOUNT_STRIDE
  const free = amounts[a + AMOUNT.free]!
  if (free < q.minFreeAmount || (free === AMOUNT_BIG && q.minFreeAmount === AMOUNT_BIG && index.hostAt(slot).free < q.req.minFreeBytes)) return -1
  const memory = amounts[a + AMOUNT.memory]!
  if (memory < q.minMemoryAmount || (memory === AMOUNT_BIG && q.minMemoryAmount === AMOUNT_BIG && index.hostAt(slot).memoryBytes < q.minMemoryBytes)) return -1
  if (q.zoneIds !== undefined && !q.zoneIds.has(hot[r + HOT.zoneId]!)) return -1
  if (q.excludedSlots.size > 0 && q.excludedSlots.has(slot)) return -1
  const ask = amounts[a + (q.req.kind === 'compute' ? AMOUNT.askPerFuel : AMOUNT.askPerByteEpoch)]!
  let askBp: number
  const price = ask === AMOUNT_BIG ? -1 : q.req.kind === 'compute' ? ask : ask * q.priceMul < EXACT_DIVIDEND ? Math.floor((ask * q.priceMul) / PRICE_SCALE) : -1
  if (price >= 0 && q.bidAmount !== AMOUNT_BIG) {
    if (price > q.bidAmount) return -1
    askBp = q.bidAmount === 0 ? 0 : price * 10_000 < EXACT_DIVIDEND ? Math.floor((price * 10_000) / q.bidAmount) : Number((BigInt(price) * 10_000n) / q.req.bid)
  } else {
    const exact = priceOf(index.hostAt(slot), q)
    if (exact > q.req.bid) return -1
    askBp = q.req.bid === 0n ? 0 : Number((exact * 10_000n) / q.req.bid)
  }
  const quality = hot[r + HOT.quality]!
  const cost = d1 * penaltyOfRow(quality & 0xffff, quality >>> QUALITY_SHIFT, askBp, q.strategy)
  return cost > above ? -1 : cost
}

function penaltyOfRow(reputation: number, fullBp: number, askBp: number, strategy: number): number {
  switch (strategy) {
    case ROUTE_STRATEGY.nearest:
      return COST_BASE
    case ROUTE_STRATEGY.cheapest:
      return COST_BASE + COST_SINGLE_WEIGHT * askBp
    case ROUTE_STRATEGY.reputation:
      return COST_BASE + COST_SINGLE_WEIGHT * (10_000 - reputation)
    default:
      return COST_BASE + COST_WEIGHTS.reputation * (10_000 - reputation) + COST_WEIGHTS.ask * askBp + COST_WEIGHTS.full * fullBp
  }
}

function makeQuery(request: RouteRequest, index: HostIndex, seed: Uint8Array): Query {
  const bad = (msg: string): never => {
    throw new RouterError('BAD_REQUEST', msg, {})
  }
  if (request.kind !== 'compute' && request.kind !== 'storage') bad(`unknown request kind ${String(request.kind)}`)
  if (!Number.isInteger(request.replicas) || request.replicas < 1 || request.replicas > 255) bad(`replicas ${request.replicas} is not in 1..255`)
  if (!Number.isInteger(request.capabilities) || request.capabilities < 0 || request.capabilities > 0xffff_ffff) bad('capabilities must be a u32')
  if (typeof request.bid !== 'bigint' || request.bid < 0n) bad('bid must be a non-negative bigint')
  if (typeof request.minFreeBytes !== 'bigint' || request.minFreeBytes < 0n) bad('minFreeBytes must be a non-negative bigint')
  if (!(seed instanceof Uint8Array)) bad('seed must be bytes')
  const o = request.origin
  for (const c of [o?.x, o?.y, o?.z]) {
    if (!Number.isInteger(c) || (c as number) < 0 || (c as number) >= index.gridSize) bad(`origin ${String(c)} is off the grid 0..${index.gridSize - 1}`)
  }
  const strategy = request.strategy ?? ROUTE_STRATEGY.balanced
  if (!(Object.values(ROUTE_STRATEGY) as number[]).includes(strategy)) bad(`strategy ${String(strategy)} is not one of ${Object.values(ROUTE_STRATEGY).join(', ')}`)
  const minMemoryBytes = request.minMemoryBytes ?? 0n
  if (typeof minMemoryBytes !== 'bigint' || minMemoryBytes < 0n) bad('minMemoryBytes must be a non-negative bigint')
  const excluded = new Set<string>()
  for (const a of request.exclude ?? []) excluded.add(toHex(a))
  const zones = request.zones !== undefined && request.zones.length > 0 ? new Set(request.zones) : undefined
  const seedTie = ((seedByte(seed, 0) << 24) | (seedByte(seed, 1) << 16) | (seedByte(seed, 2) << 8) | seedByte(seed, 3)) >>> 0
  const bandSize = Math.max(index.params.placementBandHosts, 2 * request.replicas)
  const excludedSlots = new Set<number>()
  for (const key of excluded) {
    const h = index.getIndexedByKey(key)
    if (h !== undefined) excludedSlots.add(h.slot)
  }
  let zoneIds: Set<number> | undefined
  if (zones !== undefined) {
    zoneIds = new Set()
    for (const z of zones) {
      const id = index.zoneIdOf(z)
      if (id !== undefined) zoneIds.add(id)
    }
  }
  const utilizationBp = index.utilizationBp
  const amount = (v: bigint): number => (v >= BigInt(AMOUNT_BIG) ? AMOUNT_BIG : Number(v))
  const slope = index.params.storageUtilizationSlopeBp
  // The multiplier as a double is exact while below 2^53; beyond, every storage price takes the bigint path.
  const priceMul = PRICE_SCALE + slope * utilizationBp
  return {
    req: request, ox: o.x, oy: o.y, oz: o.z, excluded, zones, strategy, minMemoryBytes, seed, seedTie, utilizationBp, params: index.params, bandSize,
    minFreeAmount: amount(request.minFreeBytes), minMemoryAmount: amount(minMemoryBytes), bidAmount: amount(request.bid), zoneIds, excludedSlots,
    priceMul: Number.isSafeInteger(priceMul) ? priceMul : Infinity,
  }
}

function nodeLowerBound(n: OctNode, q: Query): number {
  const hi = n.size - 1
  const gx = q.ox < n.x ? n.x - q.ox : q.ox > n.x + hi ? q.ox - n.x - hi : 0
  const gy = q.oy < n.y ? n.y - q.oy : q.oy > n.y + hi ? q.oy - n.y - hi : 0
  const gz = q.oz < n.z ? n.z - q.oz : q.oz > n.z + hi ? q.oz - n.z - hi : 0
  return (gx + gy + gz + 1) * COST_BASE
}

/** A binary min-heap of octree nodes keyed by their cost lower bound. */
class NodeHeap {
  private readonly nodes: OctNode[] = []
  private readonly keys: number[] = []
  get length(): number {
    return this.nodes.length
  }
  peekKey(): number {
    return this.keys[0]!
  }
  push(n: OctNode, k: number): void {
    const nodes = this.nodes
    const keys = this.keys
    let i = nodes.length
    nodes.push(n)
    keys.push(k)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (keys[p]! <= k) break
      nodes[i] = nodes[p]!
      keys[i] = keys[p]!
      i = p
    }
    nodes[i] = n
    keys[i] = k
  }
  pop(): OctNode {
    const nodes = this.nodes
    const keys = this.keys
    const top = nodes[0]!
    const lastN = nodes.pop()!
    const lastK = keys.pop()!
    const len = nodes.length
    if (len > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= len) break
        const r = l + 1
        const c = r < len && keys[r]! < keys[l]! ? r : l
        if (keys[c]! >= lastK) break
        nodes[i] = nodes[c]!
        keys[i] = keys[c]!
        i = c
      }
      nodes[i] = lastN
      keys[i] = lastK
    }
    return top
  }
}

/** The best `max` candidates in rank order (a sorted array; `max` is a few dozen). */
class RankedList {
  readonly items: Candidate[] = []
  constructor(private readonly max: number, private readonly q: Query) {}
  get full(): boolean {
    return this.items.length >= this.max
  }
  /** The rank-last kept candidate's cost (only meaningful when full). */
  get lastCost(): number {
    return this.items[this.items.length - 1]!.cost
  }
  /** Whether (cost, tie) ranks strictly after the last kept candidate (an equal pair needs the full id). */
  ranksAfterLast(cost: number, tie: number): boolean {
    const last = this.items[this.items.length - 1]!
    if (cost !== last.cost) return cost > last.cost
    return ((tie ^ this.q.seedTie) >>> 0) > ((last.tie ^ this.q.seedTie) >>> 0)
  }
  add(c: Candidate): void {
    const items = this.items
    if (this.full && compareCandidates(c, items[items.length - 1]!, this.q) >= 0) return
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compareCandidates(items[mid]!, c, this.q) < 0) lo = mid + 1
      else hi = mid
    }
    items.splice(lo, 0, c)
    if (items.length > this.max) items.pop()
  }
}

/**
 * The band from the rank-sorted candidates: the best `bandSize` vetted hosts, and the best
 * `bandSize` unvetted hosts ranked no worse than the band's last vetted host (any, when fewer
 * than `bandSize` vetted hosts are eligible).
 */
function bandOf(vetted: readonly Candidate[], unvetted: readonly Candidate[], q: Query): PlacementBand {
  const v = vetted.slice(0, q.bandSize)
  const limit = v.length === q.bandSize ? v[v.length - 1]!.cost : Infinity
  const u = unvetted.filter((c) => c.cost <= limit).slice(0, q.bandSize)
  return { vetted: v.map((c) => c.h), unvetted: u.map((c) => c.h) }
}

function draw(band: PlacementBand, q: Query): Address[] {
  return drawPlacement(band, q.req.replicas, q.seed, q.params.unvettedShareBp).map((h) => h.address)
}

/**
 * Up to `request.replicas` distinct eligible hosts in pick order (docs/router.md):
 *  1. the band: the best-ranked eligible vetted hosts (at least `placementBandHosts`, at least
 *     twice the replicas) plus unvetted hosts ranked within it;
 *  2. the draw inside the band, weighted by bond × reputation, zone-anti-affine, with unvetted
 *     hosts bounded to their share (drawPlacement).
 * The band comes from a best-first search over the octree by a lower bound of cost, which stops
 * once the vetted band is full and nothing unvisited can rank inside it. Exact: the answer equals
 * `routeExhaustive` on the same hosts. Pure and deterministic: same hosts + same seed → same
 * answer on every machine, whatever the order hosts were inserted in.
 */
export function route(request: RouteRequest, index: HostIndex, seed: Uint8Array, stats?: RouteStats): Address[] {
  const q = makeQuery(request, index, seed)
  const vetted = new RankedList(q.bandSize, q)
  const unvetted = new RankedList(q.bandSize, q)
  const heap = new NodeHeap()
  if (index.root.count > 0) heap.push(index.root, nodeLowerBound(index.root, q))
  // Once the vetted band is full, nothing costing more than its last host can enter the band:
  // such hosts and regions are skipped, and the search stops when the cheapest unvisited region's
  // bound exceeds it (strictly: an equal bound can still hold a tie with a smaller seeded id).
  let stopAbove = Infinity
  while (heap.length > 0) {
    if (heap.peekKey() > stopAbove) break
    const node = heap.pop()
    if (stats !== undefined) {
      stats.nodesVisited++
      if (node.items !== undefined) stats.hostsExamined += node.items.length
    }
    if (node.items !== undefined) {
      for (const slot of node.items) {
        const cost = evaluateSlot(index, slot, q, stopAbove)
        if (cost < 0) continue
        const row = slot * HOT_STRIDE
        const isVetted = (index.hot[row + HOT.flags]! & HOST_FLAG.vetted) !== 0
        const list = isVetted ? vetted : unvetted
        const tie = index.hot[row + HOT.tie]!
        // Most hosts a search looks at rank below a full list: reject them without touching their record.
        if (list.full && list.ranksAfterLast(cost, tie)) continue
        list.add({ h: index.hostAt(slot), cost, tie })
        if (isVetted && vetted.full) stopAbove = vetted.lastCost
      }
    } else {
      for (const kid of node.kids!) {
        if (kid === undefined) continue
        const lb = nodeLowerBound(kid, q)
        if (lb <= stopAbove) heap.push(kid, lb)
      }
    }
  }
  return draw(bandOf(vetted.items, unvetted.items, q), q)
}

/**
 * The specification `route` must equal: score every indexed host, sort, cut the band, draw.
 * O(n log n); used by tests and available to anyone who wants to check a placement the slow way.
 */
export function routeExhaustive(request: RouteRequest, index: HostIndex, seed: Uint8Array): Address[] {
  const q = makeQuery(request, index, seed)
  const all: Candidate[] = []
  for (const h of index.values()) {
    const c = evaluate(h, q, Infinity)
    if (c !== undefined) all.push(c)
  }
  all.sort((a, b) => compareCandidates(a, b, q))
  return draw(bandOf(all.filter((c) => c.h.vetted), all.filter((c) => !c.h.vetted), q), q)
}

/** Whether `route` may ever pick this host for this request (the filter alone, no ranking). */
export function isEligibleHost(host: Address, request: RouteRequest, index: HostIndex): boolean {
  const h = index.getIndexed(host)
  return h !== undefined && evaluate(h, makeQuery(request, index, new Uint8Array(0)), Infinity) !== undefined
}
