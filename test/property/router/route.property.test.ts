import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { CAPABILITY } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { computeUnvettedCap, HostIndex, route, routeExhaustive, type RouteRequest } from '../../../src/router/index.ts'
import { computeStoragePrice } from '../../../src/state/market/pricing.ts'
import { HOST_STATUS, type HostRecord } from '../../../src/state/records.ts'

const GRID = 12
// A band of 4 vetted hosts (8 for replicas ≥ 4), vetted after 6 checks, 15% of slots for unvetted hosts.
const params = { storageUtilizationSlopeBp: 7_500, placementBandHosts: 4, vettingPasses: 6, unvettedShareBp: 1_500 }
const ZONES = ['a', 'b', 'c', 'd'] as const

const arbAddress = fc.uint8Array({ minLength: 32, maxLength: 32 })
const arbHost: fc.Arbitrary<HostRecord> = fc.record({
  params: fc.record({
    coord: fc.record({ x: fc.nat(GRID - 1), y: fc.nat(GRID - 1), z: fc.nat(GRID - 1) }),
    zone: fc.constantFrom('a', 'b', 'c', 'd'),
    capacityBytes: fc.bigInt(0n, 1000n),
    capabilities: fc.nat(7),
    askPerFuel: fc.bigInt(0n, 120n),
    askPerByteEpoch: fc.bigInt(0n, 120n),
    peerId: fc.constant('p'),
    memoryBytes: fc.bigInt(0n, 32n << 20n),
      encryptionKey: fc.constant(undefined),
  }),
  reputation: fc.nat(10_000),
  // Mostly active so routes are not trivially empty.
  status: fc.constantFrom(0, 0, 0, 0, 1, 2, 3, 4),
  usedBytes: fc.bigInt(0n, 1000n),
  joinedHeight: fc.constant(0),
  failedAudits: fc.constant(0),
  bond: fc.bigInt(0n, 1000n),
  passedChecks: fc.nat(12),
})
const arbHosts = fc.uniqueArray(fc.tuple(arbAddress, arbHost), { minLength: 0, maxLength: 80, selector: ([a]) => toHex(a) })
const arbRequest: fc.Arbitrary<RouteRequest> = fc.record({
  kind: fc.constantFrom('compute' as const, 'storage' as const),
  origin: fc.record({ x: fc.nat(GRID - 1), y: fc.nat(GRID - 1), z: fc.nat(GRID - 1) }),
  replicas: fc.integer({ min: 1, max: 8 }),
  capabilities: fc.nat(7),
  bid: fc.bigInt(0n, 150n),
  minFreeBytes: fc.bigInt(0n, 600n),
  zones: fc.subarray([...ZONES]),
  strategy: fc.constantFrom(0, 1, 2, 3),
  minMemoryBytes: fc.bigInt(0n, 32n << 20n),
})
const arbSeed = fc.uint8Array({ minLength: 0, maxLength: 32 })

/** The filter restated independently of the router's code. */
function eligible(r: HostRecord, req: RouteRequest, utilizationBp: number, excluded: Set<string>, a: Uint8Array): boolean {
  const price = req.kind === 'compute' ? r.params.askPerFuel : computeStoragePrice(r.params.askPerByteEpoch, utilizationBp, params)
  const free = r.params.capacityBytes > r.usedBytes ? r.params.capacityBytes - r.usedBytes : 0n
  const zoneOk = req.zones === undefined || req.zones.length === 0 || req.zones.includes(r.params.zone)
  return r.status === HOST_STATUS.active && r.bond > 0n && (r.params.capabilities & req.capabilities) === req.capabilities && price <= req.bid && free >= req.minFreeBytes && !excluded.has(toHex(a)) &&
    zoneOk && r.params.memoryBytes >= (req.minMemoryBytes ?? 0n)
}

const hexes = (as: Uint8Array[]): string[] => as.map((a) => toHex(a))

describe('route properties', () => {
  it('equals the exhaustive specification and does not depend on insertion order', () => {
    fc.assert(
      fc.property(arbHosts, arbRequest, arbSeed, fc.func(fc.integer()), (hosts, req, seed, order) => {
        const index = HostIndex.build({ gridSize: GRID, ...params }, hosts)
        const shuffled = [...hosts].map((h, i) => [order(i), i, h] as const).sort((p, q) => p[0] - q[0] || p[1] - q[1]).map((t) => t[2])
        const index2 = HostIndex.build({ gridSize: GRID, ...params }, shuffled)
        const got = hexes(route(req, index, seed))
        expect(got).toEqual(hexes(routeExhaustive(req, index, seed)))
        expect(hexes(route(req, index2, seed))).toEqual(got)
      }),
      { numRuns: 300 },
    )
  })

  it('returns distinct eligible hosts, as many as possible; never outside the allowed zones; unvetted hosts within their cap while vetted hosts suffice', () => {
    fc.assert(
      fc.property(arbHosts, arbRequest, arbSeed, fc.nat(10), (hosts, req0, seed, nExclude) => {
        const req = { ...req0, exclude: hosts.slice(0, nExclude).map(([a]) => a) }
        const index = HostIndex.build({ gridSize: GRID, ...params }, hosts)
        const excluded = new Set(req.exclude.map((a) => toHex(a)))
        const got = route(req, index, seed)
        const ok = hosts.filter(([a, r]) => eligible(r, req, index.utilizationBp, excluded, a))
        const byKey = new Map(hosts.map(([a, r]) => [toHex(a), r]))
        expect(new Set(hexes(got)).size).toBe(got.length)
        for (const a of got) {
          const r = byKey.get(toHex(a))!
          expect(eligible(r, req, index.utilizationBp, excluded, a)).toBe(true)
          if ((req.zones ?? []).length > 0) expect(req.zones).toContain(r.params.zone)
        }
        expect(got.length).toBe(Math.min(req.replicas, ok.length))
        const vettedEligible = ok.filter(([, r]) => r.passedChecks >= params.vettingPasses).length
        const unvettedPicked = got.filter((a) => byKey.get(toHex(a))!.passedChecks < params.vettingPasses).length
        if (vettedEligible >= req.replicas) expect(unvettedPicked).toBeLessThanOrEqual(computeUnvettedCap(req.replicas, params.unvettedShareBp))
      }),
      { numRuns: 300 },
    )
  })

  it('spreads picks over as many zones as the band offers (band covering every eligible host, everyone vetted)', () => {
    const wide = { ...params, placementBandHosts: 1000, vettingPasses: 0 }
    fc.assert(
      fc.property(arbHosts, arbRequest, arbSeed, (hosts, req, seed) => {
        const index = HostIndex.build({ gridSize: GRID, ...wide }, hosts)
        const got = route(req, index, seed)
        const ok = hosts.filter(([a, r]) => eligible(r, req, index.utilizationBp, new Set(), a))
        const byKey = new Map(hosts.map(([a, r]) => [toHex(a), r]))
        const zonesAvailable = new Set(ok.map(([, r]) => r.params.zone)).size
        const zonesUsed = new Set(got.map((a) => byKey.get(toHex(a))!.params.zone)).size
        expect(zonesUsed).toBe(Math.min(req.replicas, zonesAvailable))
      }),
      { numRuns: 300 },
    )
  })

  it('over many seeds, unvetted hosts get no more than their share of slots (plus sampling noise)', () => {
    fc.assert(
      fc.property(arbHosts, fc.integer({ min: 1, max: 6 }), (hosts, replicas) => {
        const all = hosts.map(([a, r]) => [a, { ...r, status: HOST_STATUS.active, bond: r.bond + 1n, params: { ...r.params, capabilities: 7, askPerFuel: 0n } }] as const)
        const vetted = all.filter(([, r]) => r.passedChecks >= params.vettingPasses).length
        fc.pre(vetted >= replicas && vetted < all.length)
        const index = HostIndex.build({ gridSize: GRID, ...params }, all)
        const byKey = new Map(all.map(([a, r]) => [toHex(a), r]))
        let slots = 0
        let unvetted = 0
        for (let i = 0; i < 200; i++) {
          const got = route({ kind: 'compute', origin: { x: i % GRID, y: (i * 7) % GRID, z: (i * 5) % GRID }, replicas, capabilities: CAPABILITY.compute, bid: 1n, minFreeBytes: 0n }, index, new Uint8Array([i, i >> 8, 7]))
          slots += got.length
          unvetted += got.filter((a) => byKey.get(toHex(a))!.passedChecks < params.vettingPasses).length
        }
        expect(unvetted / slots).toBeLessThanOrEqual(params.unvettedShareBp / 10_000 + 0.06)
      }),
      { numRuns: 40 },
    )
  })

  it('an index updated by joins, moves, updates and leaves answers like one built from the final hosts', () => {
    const arbOps = fc.array(fc.tuple(fc.nat(19), fc.option(arbHost, { nil: undefined })), { maxLength: 120 })
    fc.assert(
      fc.property(arbOps, arbRequest, arbSeed, (ops, req, seed) => {
        const index = new HostIndex({ gridSize: GRID, ...params })
        const final = new Map<string, [Uint8Array, HostRecord]>()
        for (const [n, rec] of ops) {
          const a = new Uint8Array(32).fill(n + 1)
          if (rec === undefined) {
            index.remove(a)
            final.delete(toHex(a))
          } else {
            index.upsert(a, rec)
            final.set(toHex(a), [a, rec])
          }
        }
        const fresh = HostIndex.build({ gridSize: GRID, ...params }, final.values())
        expect(index.size).toBe(fresh.size)
        expect(index.utilizationBp).toBe(fresh.utilizationBp)
        expect(hexes(route(req, index, seed))).toEqual(hexes(route(req, fresh, seed)))
        expect(hexes(route(req, index, seed))).toEqual(hexes(routeExhaustive(req, fresh, seed)))
      }),
      { numRuns: 200 },
    )
  })

  it('stays exact on a dense grid where many hosts share cells (deep octree)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), arbRequest, arbSeed, (seedN, req, seed) => {
        // 400 hosts on a big grid clustered in a corner, origin anywhere: exercises splits and pruning.
        const index = new HostIndex({ gridSize: 1 << 20, ...params })
        let s = seedN
        const next = (m: number): number => {
          s = (s * 1103515245 + 12345) % 2147483648
          return s % m
        }
        for (let i = 0; i < 400; i++) {
          const a = new Uint8Array(32)
          a[0] = i & 0xff
          a[1] = i >> 8
          a[2] = next(256)
          index.upsert(a, {
            params: { coord: { x: next(64), y: next(64), z: next(64) }, zone: `z${next(5)}`, capacityBytes: 1000n, capabilities: 7, askPerFuel: BigInt(next(100)), askPerByteEpoch: BigInt(next(100)), peerId: 'p', memoryBytes: 16n << 20n, encryptionKey: undefined },
            reputation: next(10_001),
            status: 0,
            usedBytes: BigInt(next(1000)),
            joinedHeight: 0,
            failedAudits: 0, bond: BigInt(1 + next(1000)), passedChecks: next(10),
          })
        }
        const r = { ...req, zones: req.zones?.length ? ['z1', 'z3'] : [], capabilities: req.capabilities & CAPABILITY.compute, origin: { x: req.origin.x * 5000, y: req.origin.y, z: req.origin.z * 3 } }
        expect(hexes(route(r, index, seed))).toEqual(hexes(routeExhaustive(r, index, seed)))
      }),
      { numRuns: 60 },
    )
  })

  it('stays exact on 5000 hosts with few zones, rare capabilities and exclusions (deep tree, fill cases)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 30 }), fc.array(arbRequest, { minLength: 5, maxLength: 5 }), arbSeed, (seedN, reqs, seed) => {
        const grid = 4096
        const index = new HostIndex({ gridSize: grid, ...params })
        let s = seedN
        const next = (m: number): number => {
          s = (s * 1103515245 + 12345) % 2147483648
          return s % m
        }
        const addrs: Uint8Array[] = []
        for (let i = 0; i < 5000; i++) {
          const a = new Uint8Array(32)
          a[0] = next(256)
          a[1] = i & 0xff
          a[2] = i >> 8
          addrs.push(a)
          index.upsert(a, {
            params: { coord: { x: next(grid), y: next(grid), z: next(grid) }, zone: `z${next(3)}`, capacityBytes: 1000n, capabilities: next(8) === 0 ? 7 : 3, askPerFuel: BigInt(next(100)), askPerByteEpoch: BigInt(next(100)), peerId: 'p', memoryBytes: 16n << 20n, encryptionKey: undefined },
            reputation: next(10_001),
            status: next(10) === 0 ? 2 : 0,
            usedBytes: BigInt(next(1000)),
            joinedHeight: 0,
            failedAudits: 0, bond: BigInt(1 + next(1000)), passedChecks: next(10),
          })
        }
        for (const req of reqs) {
          const r = { ...req, zones: req.zones?.length ? ['z0', 'z2'] : [], origin: { x: req.origin.x * 300, y: req.origin.y * 300, z: req.origin.z * 300 }, exclude: addrs.slice(0, next(50)) }
          expect(hexes(route(r, index, seed))).toEqual(hexes(routeExhaustive(r, index, seed)))
        }
      }),
      { numRuns: 10 },
    )
  })
})
