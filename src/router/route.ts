import type { Address, Coord } from '../../blocks/schema.ts'
import { toHex } from '../crypto/bytes.ts'
import { computeStoragePrice } from '../state/market/pricing.ts'
import { HOST_STATUS } from '../state/records.ts'
import { RouterError } from './errors.ts'
import { HostIndex, type HostIndexParams, type IndexedHost, type OctNode } from './HostIndex.ts'

/**
 * What a placement or an assignment asks of the router. `bid` is per fuel unit for compute and
 * per byte-epoch for storage; `minFreeBytes` is the free capacity each host needs (a shard's size
 * for storage, 0 for compute); `exclude` lists hosts that must not be picked (current holders
 * when repairing a shard).
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
}

/**
 * Score (lower is better), an integer below 2^53:
 *   cost = (d + 1) × (100000 + 4 × (10000 − reputationBp) + 3 × askBp + 3 × fullBp)
 * d is the Manhattan distance to the origin; askBp = price × 10000 / bid (how much of the bid the
 * host's price takes, 0 when the bid is 0); fullBp = used / capacity. The penalty factor ranges
 * over 1x..2x, so a host is worth choosing over a nearer one only if it is at most twice as far
 * (plus one). That bound is what makes the search exact and fast: a region whose nearest point
 * is at distance D holds no host cheaper than (D + 1) × 100000.
 */
export const COST_BASE = 100_000
export const COST_WEIGHTS = { reputation: 4, ask: 3, full: 3 } as const

/** Work counters a caller may pass to `route` (benchmarks): they never affect the answer. */
export interface RouteStats {
  nodesVisited: number
  hostsExamined: number
}

interface Candidate {
  h: IndexedHost
  cost: number
}

/** The per-query constants: filter inputs and seed bytes for the tie-break. */
interface Query {
  req: RouteRequest
  ox: number
  oy: number
  oz: number
  excluded: Set<string>
  seed: Uint8Array
  seedTie: number
  utilizationBp: number
  params: HostIndexParams
}

function seedByte(seed: Uint8Array, i: number): number {
  return seed.length === 0 ? 0 : seed[i % seed.length]!
}

/** Rank order: cost, then the host id XOR-ed with the seed, byte by byte (a total order: ids are unique). */
function compareCandidates(a: Candidate, b: Candidate, q: Query): number {
  if (a.cost !== b.cost) return a.cost - b.cost
  const ta = (a.h.tie ^ q.seedTie) >>> 0
  const tb = (b.h.tie ^ q.seedTie) >>> 0
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

/**
 * The filter (active, has the capabilities, room for the data, not excluded, price within the
 * bid) and the cost. Returns undefined for an ineligible host or one whose cost exceeds `above`
 * (it could not change the selection, see `route`); the distance test runs first as it is cheapest.
 */
function evaluate(h: IndexedHost, q: Query, above: number): Candidate | undefined {
  if (h.status !== HOST_STATUS.active) return undefined
  // >>> 0: capability bit 31 would otherwise make the int32 AND negative.
  if ((h.capabilities & q.req.capabilities) >>> 0 !== q.req.capabilities) return undefined
  const dx = h.x - q.ox
  const dy = h.y - q.oy
  const dz = h.z - q.oz
  const d1 = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy) + (dz < 0 ? -dz : dz) + 1
  if (d1 * COST_BASE > above) return undefined
  if (h.free < q.req.minFreeBytes) return undefined
  if (q.excluded.size > 0 && q.excluded.has(h.key)) return undefined
  const price = priceOf(h, q)
  if (price > q.req.bid) return undefined
  const askBp = q.req.bid === 0n ? 0 : Number((price * 10_000n) / q.req.bid)
  const penalty = COST_BASE + COST_WEIGHTS.reputation * (10_000 - h.reputation) + COST_WEIGHTS.ask * askBp + COST_WEIGHTS.full * h.fullBp
  const cost = d1 * penalty
  return cost > above ? undefined : { h, cost }
}

/**
 * Anti-affinity: walk candidates in rank order taking the best host of each zone not used yet;
 * only if fewer zones than replicas exist among the eligible hosts, fill up with the best hosts
 * left over, again in rank order. Returned in pick order.
 */
function select(sorted: readonly Candidate[], k: number): { picked: Candidate[]; zonesPicked: number } {
  const zones = new Set<string>()
  const picked: Candidate[] = []
  const rest: Candidate[] = []
  for (const c of sorted) {
    if (picked.length === k) break
    if (zones.has(c.h.zone)) rest.push(c)
    else {
      zones.add(c.h.zone)
      picked.push(c)
    }
  }
  const zonesPicked = picked.length
  for (const c of rest) {
    if (picked.length === k) break
    picked.push(c)
  }
  return { picked, zonesPicked }
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
  const excluded = new Set<string>()
  for (const a of request.exclude ?? []) excluded.add(toHex(a))
  const seedTie = ((seedByte(seed, 0) << 24) | (seedByte(seed, 1) << 16) | (seedByte(seed, 2) << 8) | seedByte(seed, 3)) >>> 0
  return { req: request, ox: o.x, oy: o.y, oz: o.z, excluded, seed, seedTie, utilizationBp: index.utilizationBp, params: index.params }
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

/**
 * Keeps the rank-sorted candidates, at most `k` per zone: selection only ever takes a zone's best
 * host as its representative plus at most k−1 fills, so a zone's (k+1)-th host can never matter.
 */
class CandidateList {
  readonly items: Candidate[] = []
  private readonly perZone = new Map<string, number>()
  constructor(private readonly k: number, private readonly q: Query) {}
  get zoneCount(): number {
    return this.perZone.size
  }
  add(c: Candidate): void {
    const items = this.items
    const zone = c.h.zone
    const n = this.perZone.get(zone) ?? 0
    if (n >= this.k) {
      let worst = items.length - 1
      while (items[worst]!.h.zone !== zone) worst--
      if (compareCandidates(c, items[worst]!, this.q) >= 0) return
      items.splice(worst, 1)
    } else this.perZone.set(zone, n + 1)
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compareCandidates(items[mid]!, c, this.q) < 0) lo = mid + 1
      else hi = mid
    }
    items.splice(lo, 0, c)
  }
}

/**
 * Up to `request.replicas` distinct eligible hosts, best first (zone-distinct picks, then fills).
 * Best-first search over the octree by a lower bound of cost; it stops once every pick is cheaper
 * than anything left unvisited could be and no unseen zone could displace a fill. Exact: the answer
 * equals `routeExhaustive` on the same hosts. Pure and deterministic: same hosts + same seed →
 * same answer on every machine, whatever the order hosts were inserted in.
 */
export function route(request: RouteRequest, index: HostIndex, seed: Uint8Array, stats?: RouteStats): Address[] {
  const q = makeQuery(request, index, seed)
  const k = request.replicas
  const cands = new CandidateList(k, q)
  const heap = new NodeHeap()
  if (index.root.count > 0) heap.push(index.root, nodeLowerBound(index.root, q))
  let dirty = true
  // Once the picks are settled (k of them, no unseen zone can claim a slot), nothing costing more
  // than the dearest pick can enter the selection: such hosts and regions are skipped, and the
  // search stops when the cheapest unvisited region's bound exceeds it (Infinity: not settled yet).
  let stopAbove = Infinity
  while (heap.length > 0) {
    if (dirty) {
      dirty = false
      stopAbove = Infinity
      const { picked, zonesPicked } = select(cands.items, k)
      // Fills exist only when fewer zones than k were seen: an unseen zone could still claim a slot,
      // unless every zone of the index already has an eligible candidate.
      if (picked.length === k && (zonesPicked === k || cands.zoneCount === index.zoneCount)) {
        let maxCost = 0
        for (const c of picked) if (c.cost > maxCost) maxCost = c.cost
        stopAbove = maxCost
      }
    }
    if (heap.peekKey() > stopAbove) break
    const node = heap.pop()
    if (stats !== undefined) {
      stats.nodesVisited++
      if (node.items !== undefined) stats.hostsExamined += node.items.length
    }
    if (node.items !== undefined) {
      for (const h of node.items) {
        const c = evaluate(h, q, stopAbove)
        if (c !== undefined) {
          cands.add(c)
          dirty = true
        }
      }
    } else {
      for (const kid of node.kids!) {
        if (kid === undefined) continue
        const lb = nodeLowerBound(kid, q)
        if (lb <= stopAbove) heap.push(kid, lb)
      }
    }
  }
  return select(cands.items, k).picked.map((c) => c.h.address)
}
/**
 * The specification `route` must equal: score every indexed host, sort, select. O(n log n); used
 * by tests and available to anyone who wants to check a placement the slow way.
 */
export function routeExhaustive(request: RouteRequest, index: HostIndex, seed: Uint8Array): Address[] {
  const q = makeQuery(request, index, seed)
  const all: Candidate[] = []
  for (const h of index.values()) {
    const c = evaluate(h, q, Infinity)
    if (c !== undefined) all.push(c)
  }
  all.sort((a, b) => compareCandidates(a, b, q))
  return select(all, request.replicas).picked.map((c) => c.h.address)
}

/** Whether `route` may ever pick this host for this request (the filter alone, no ranking). */
export function isEligibleHost(host: Address, request: RouteRequest, index: HostIndex): boolean {
  const h = index.getIndexed(host)
  return h !== undefined && evaluate(h, makeQuery(request, index, new Uint8Array(0)), Infinity) !== undefined
}
