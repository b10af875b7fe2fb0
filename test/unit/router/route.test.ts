import { describe, expect, it } from 'vitest'

import { CAPABILITY, ROUTE_STRATEGY } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { HostIndex, route, routeExhaustive, type RouteRequest, RouterError } from '../../../src/router/index.ts'
import { HOST_STATUS } from '../../../src/state/records.ts'
import { addr, indexParams, makeHost, seeds } from './hostFixtures.ts'

const seed0 = new Uint8Array(32)

function compute(over: Partial<RouteRequest> = {}): RouteRequest {
  return { kind: 'compute', origin: { x: 0, y: 0, z: 0 }, replicas: 1, capabilities: CAPABILITY.compute, bid: 100n, minFreeBytes: 0n, ...over }
}

const hex = (as: Uint8Array[]): string[] => as.map((a) => toHex(a))
const sorted = (as: Uint8Array[]): string[] => hex(as).sort()

/** How often each host (by first address byte) is picked over `n` seeds. */
function tally(req: RouteRequest, index: HostIndex, n: number): Map<number, number> {
  const counts = new Map<number, number>()
  for (const s of seeds(n)) {
    const got = route(req, index, s)
    expect(hex(got)).toEqual(hex(routeExhaustive(req, index, s)))
    for (const a of got) counts.set(a[0]!, (counts.get(a[0]!) ?? 0) + 1)
  }
  return counts
}

describe('route filter', () => {
  it('returns exactly the eligible hosts when asked for more than exist: status, capability, price, room, memory, zones, exclusions', () => {
    const index = new HostIndex(indexParams(16))
    index.upsert(addr(1), makeHost({ zone: 'a' }))
    index.upsert(addr(2), makeHost({ zone: 'b', coord: { x: 5, y: 5, z: 5 } }))
    index.upsert(addr(3), makeHost({ zone: 'a', status: HOST_STATUS.suspended }))
    index.upsert(addr(4), makeHost({ zone: 'a', capabilities: CAPABILITY.storage }))
    index.upsert(addr(5), makeHost({ zone: 'a', askPerFuel: 101n }))
    index.upsert(addr(6), makeHost({ zone: 'c', memoryBytes: 1n << 20n }))
    index.upsert(addr(7), makeHost({ zone: 'c' }))
    index.upsert(addr(8), makeHost({ zone: 'd' }))
    expect(sorted(route(compute({ replicas: 8 }), index, seed0))).toEqual(sorted([addr(1), addr(2), addr(6), addr(7), addr(8)]))
    expect(sorted(route(compute({ replicas: 8, minMemoryBytes: 2n << 20n }), index, seed0))).toEqual(sorted([addr(1), addr(2), addr(7), addr(8)]))
    expect(sorted(route(compute({ replicas: 8, zones: ['a', 'c'] }), index, seed0))).toEqual(sorted([addr(1), addr(6), addr(7)]))
    expect(sorted(route(compute({ replicas: 8, zones: ['c'], exclude: [addr(7)] }), index, seed0))).toEqual(sorted([addr(6)]))
    expect(route(compute({ replicas: 3, zones: ['nowhere'] }), index, seed0)).toEqual([])
    expect(sorted(route({ ...compute({ replicas: 8 }), kind: 'storage', capabilities: CAPABILITY.storage, minFreeBytes: 1000n }, index, seed0))).toEqual(
      sorted([addr(1), addr(2), addr(3), addr(4), addr(5), addr(6), addr(7), addr(8)].filter((a) => ![3].includes(a[0]!))),
    )
  })

  it('returns fewer hosts than asked when fewer are eligible, and none from an empty index', () => {
    const index = new HostIndex(indexParams(8))
    expect(route(compute({ replicas: 3 }), index, seed0)).toEqual([])
    index.upsert(addr(1), makeHost({}))
    expect(route(compute({ replicas: 3 }), index, seed0)).toHaveLength(1)
  })
})

describe('placement draw (docs/router.md)', () => {
  it('distance only chooses the band: the nearest hosts beyond the band are never picked, and inside it picks follow weight, not distance', () => {
    const index = new HostIndex(indexParams(64, { placementBandHosts: 4 }))
    // Four hosts in the band at distances 0..3, four farther ones outside it.
    for (let i = 0; i < 8; i++) index.upsert(addr(i + 1), makeHost({ coord: { x: i < 4 ? i : 20 + i, y: 0, z: 0 }, zone: `z${i}` }))
    const counts = tally(compute(), index, 800)
    for (let i = 5; i <= 8; i++) expect(counts.get(i) ?? 0).toBe(0)
    // Equal weights: each band host gets about a quarter, the nearest no more than the farthest in the band.
    for (let i = 1; i <= 4; i++) expect(counts.get(i)!).toBeGreaterThan(140)
  })

  it('weights picks by bond × reputation', () => {
    const index = new HostIndex(indexParams(16))
    index.upsert(addr(1), makeHost({ zone: 'a', bond: 3000n }))
    index.upsert(addr(2), makeHost({ zone: 'b', bond: 1000n }))
    index.upsert(addr(3), makeHost({ zone: 'c', bond: 1000n, reputation: 5000 }))
    const counts = tally(compute(), index, 1200)
    // Expected shares 30000 : 10000 : 5000 of 45000 → 800, 267, 133.
    expect(counts.get(1)!).toBeGreaterThan(700)
    expect(counts.get(1)!).toBeLessThan(900)
    expect(counts.get(2)!).toBeGreaterThan(190)
    expect(counts.get(3)!).toBeGreaterThan(80)
    expect(counts.get(3)!).toBeLessThan(counts.get(2)!)
  })

  it('three Sybils declared at the origin in three zones get about their bond share, not every slot', () => {
    const index = new HostIndex(indexParams(1024))
    for (let i = 0; i < 3; i++) index.upsert(addr(0xf0 + i), makeHost({ zone: `sybil-${i}` }))
    for (let i = 0; i < 9; i++) index.upsert(addr(i + 1), makeHost({ coord: { x: 100 + 30 * i, y: 100, z: 100 }, zone: `zone-${i % 3}` }))
    const req = compute({ replicas: 3 })
    let sybilSlots = 0
    let allSybil = 0
    for (const s of seeds(400)) {
      const got = route(req, index, s)
      const n = got.filter((a) => a[0]! >= 0xf0).length
      sybilSlots += n
      if (n === 3) allSybil++
    }
    // 3 of 12 equal weights; anti-affinity spreads picks over 6 zones, so the Sybils' zones count as three of six.
    expect(sybilSlots / 1200).toBeGreaterThan(0.2)
    expect(sybilSlots / 1200).toBeLessThan(0.5)
    expect(allSybil).toBeLessThan(60)
  })

  it('keeps unvetted hosts to their share while vetted hosts suffice, and uses them when nobody is vetted', () => {
    const index = new HostIndex(indexParams(1024, { unvettedShareBp: 1000 }))
    for (let i = 0; i < 6; i++) index.upsert(addr(0xf0 + i), makeHost({ zone: `new-${i}`, passedChecks: 9, bond: 10_000n }))
    for (let i = 0; i < 12; i++) index.upsert(addr(i + 1), makeHost({ coord: { x: 50 + 10 * i, y: 0, z: 0 }, zone: `zone-${i % 4}` }))
    const req = compute({ replicas: 3 })
    let unvettedSlots = 0
    for (const s of seeds(600)) {
      const n = route(req, index, s).filter((a) => a[0]! >= 0xf0).length
      expect(n).toBeLessThanOrEqual(1) // ⌈3 × 10%⌉
      unvettedSlots += n
    }
    // Each slot rolls under 10% for the unvetted class (the cap of 1 trims a little): about 0.1 × 1800.
    expect(unvettedSlots).toBeGreaterThan(110)
    expect(unvettedSlots).toBeLessThan(230)
    // One more passed check vets a host: it then competes by weight (10× the others' bond).
    index.upsert(addr(0xf0), makeHost({ zone: 'new-0', passedChecks: 10, bond: 10_000n }))
    expect((tally(req, index, 200).get(0xf0) ?? 0) / 200).toBeGreaterThan(0.4)
    // A young network: nobody vetted, every slot still filled.
    const young = new HostIndex(indexParams(16))
    for (let i = 0; i < 5; i++) young.upsert(addr(i + 1), makeHost({ zone: `z${i}`, passedChecks: 0 }))
    expect(route(compute({ replicas: 3 }), young, seed0)).toHaveLength(3)
  })

  it('spreads picks over zones while the band offers them, and fills from picked zones only after', () => {
    const index = new HostIndex(indexParams(64))
    for (let i = 0; i < 10; i++) index.upsert(addr(i + 1), makeHost({ coord: { x: i, y: 0, z: 0 }, zone: i < 8 ? 'a' : `b${i}` }))
    for (const s of seeds(100)) {
      const got = route(compute({ replicas: 4 }), index, s).map((a) => a[0]!)
      // Zones a, b8, b9 first (in some order), then a second host of zone a.
      expect(new Set(got.slice(0, 3).map((n) => (n <= 8 ? 'a' : `b${n}`))).size).toBe(3)
      expect(got).toHaveLength(4)
    }
  })

  it('ranks the band by the request strategy: cheapest keeps dear hosts out, nearest keeps far ones out', () => {
    const index = new HostIndex(indexParams(64, { placementBandHosts: 2 }))
    // Dear hosts at distance 1 cost 2 × 200000; cheap ones at distance 2 cost 3 × 100000 under `cheapest`.
    index.upsert(addr(1), makeHost({ zone: 'a', askPerFuel: 100n, coord: { x: 1, y: 0, z: 0 } }))
    index.upsert(addr(2), makeHost({ zone: 'b', askPerFuel: 100n, coord: { x: 0, y: 1, z: 0 } }))
    index.upsert(addr(3), makeHost({ zone: 'c', askPerFuel: 0n, coord: { x: 2, y: 0, z: 0 } }))
    index.upsert(addr(4), makeHost({ zone: 'd', askPerFuel: 0n, coord: { x: 0, y: 2, z: 0 } }))
    const near = tally(compute({ strategy: ROUTE_STRATEGY.nearest }), index, 200)
    expect([...near.keys()].sort()).toEqual([1, 2])
    const cheap = tally(compute({ strategy: ROUTE_STRATEGY.cheapest }), index, 200)
    expect([...cheap.keys()].sort()).toEqual([3, 4])
  })
})

describe('HostIndex updates', () => {
  it('follows moves, updates and removals', () => {
    const index = new HostIndex(indexParams(32, { placementBandHosts: 1 }))
    for (let i = 0; i < 40; i++) index.upsert(addr(i + 1), makeHost({ coord: { x: 31, y: i % 32, z: 31 }, zone: `z${i % 3}` }))
    index.upsert(addr(200), makeHost({ coord: { x: 20, y: 20, z: 20 } }))
    index.upsert(addr(100), makeHost({ coord: { x: 5, y: 5, z: 5 } }))
    // Band of 2 (2 × replicas): one of the two nearest hosts.
    const picks = (): string[] => [...new Set(seeds(40).flatMap((s) => hex(route(compute(), index, s))))].sort()
    expect(picks()).toEqual(sorted([addr(100), addr(200)]))
    index.upsert(addr(100), makeHost({ coord: { x: 30, y: 30, z: 30 } }))
    expect(picks()).toContain(toHex(addr(200)))
    expect(picks()).not.toContain(toHex(addr(100)))
    index.upsert(addr(200), makeHost({ coord: { x: 20, y: 20, z: 20 }, status: HOST_STATUS.suspended }))
    expect(hex(route(compute(), index, seed0))).toEqual(hex(routeExhaustive(compute(), index, seed0)))
    expect(index.remove(addr(200))).toBe(true)
    expect(index.remove(addr(200))).toBe(false)
    expect(index.size).toBe(41)
    for (let i = 0; i < 40; i++) index.remove(addr(i + 1))
    expect(hex(route(compute({ replicas: 3 }), index, seed0))).toEqual(hex([addr(100)]))
    expect(index.root.count).toBe(1)
  })

  it('rejects hosts off the grid, bad parameters and malformed requests with typed errors', () => {
    const index = new HostIndex(indexParams(10))
    expect(() => index.upsert(addr(1), makeHost({ coord: { x: 10, y: 0, z: 0 } }))).toThrow(RouterError)
    expect(() => index.upsert(new Uint8Array(31), makeHost({}))).toThrow(RouterError)
    expect(() => new HostIndex(indexParams(10, { unvettedShareBp: 10_001 }))).toThrow(RouterError)
    for (const bad of [compute({ replicas: 0 }), compute({ bid: -1n }), compute({ origin: { x: 0, y: 10, z: 0 } }), compute({ origin: { x: 0.5, y: 0, z: 0 } }), compute({ strategy: 9 }), compute({ minMemoryBytes: -1n })]) {
      try {
        route(bad, index, seed0)
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(RouterError)
        expect((e as RouterError).code).toBe('BAD_REQUEST')
      }
    }
  })
})
