import { describe, expect, it } from 'vitest'

import { CAPABILITY } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { HostIndex, route, routeExhaustive, type RouteRequest, RouterError } from '../../../src/router/index.ts'
import { HOST_STATUS } from '../../../src/state/records.ts'
import { addr, makeHost } from './hostFixtures.ts'

const params = { storageUtilizationSlopeBp: 10_000 }
const seed0 = new Uint8Array(32)

function compute(over: Partial<RouteRequest> = {}): RouteRequest {
  return { kind: 'compute', origin: { x: 0, y: 0, z: 0 }, replicas: 1, capabilities: CAPABILITY.compute, bid: 100n, minFreeBytes: 0n, ...over }
}

const hex = (as: Uint8Array[]): string[] => as.map((a) => toHex(a))

describe('route scoring', () => {
  it('prefers a cheaper, more reputable host at distance 0 over a perfect host at distance 1, by the documented formula', () => {
    const index = new HostIndex({ gridSize: 100, ...params })
    // A: d = 1, rep 10000, ask 0, empty: penalty 100000 → cost (1+1) × 100000 = 200000
    index.upsert(addr(1), makeHost({ coord: { x: 1, y: 0, z: 0 } }))
    // B: d = 0, rep 5000, ask 50 of bid 100 (askBp 5000), empty:
    //    penalty 100000 + 4×5000 + 3×5000 = 135000 → cost 1 × 135000 = 135000
    index.upsert(addr(2), makeHost({ reputation: 5_000, askPerFuel: 50n }))
    expect(hex(route(compute({ replicas: 2 }), index, seed0))).toEqual(hex([addr(2), addr(1)]))
  })

  it('lets a nearer host win when the farther one is no better: ties in penalty go to distance', () => {
    const index = new HostIndex({ gridSize: 100, ...params })
    // C: d = 3 → 4 × 100000; D: d = 2 (x=1,y=1) → 3 × 100000
    index.upsert(addr(3), makeHost({ coord: { x: 3, y: 0, z: 0 } }))
    index.upsert(addr(4), makeHost({ coord: { x: 1, y: 1, z: 0 } }))
    expect(hex(route(compute({ replicas: 2 }), index, seed0))).toEqual(hex([addr(4), addr(3)]))
  })

  it('counts a fuller host as worse: 90% full at d=0 loses to empty at d=0', () => {
    const index = new HostIndex({ gridSize: 10, ...params })
    // E: full 9000 bp → penalty 100000 + 3×9000 = 127000; F: empty → 100000
    index.upsert(addr(5), makeHost({ usedBytes: 900n, capacityBytes: 1000n }))
    index.upsert(addr(6), makeHost({}))
    expect(hex(route(compute({ replicas: 2 }), index, seed0))).toEqual(hex([addr(6), addr(5)]))
  })
})

describe('route filters', () => {
  it('never picks suspended, draining, disqualified or left hosts, hosts without the capability, above the bid, without room, or excluded', () => {
    const index = new HostIndex({ gridSize: 16, ...params })
    index.upsert(addr(1), makeHost({ status: HOST_STATUS.suspended }))
    index.upsert(addr(2), makeHost({ status: HOST_STATUS.draining }))
    index.upsert(addr(3), makeHost({ status: HOST_STATUS.disqualified }))
    index.upsert(addr(4), makeHost({ status: HOST_STATUS.left }))
    index.upsert(addr(5), makeHost({ capabilities: CAPABILITY.storage }))
    index.upsert(addr(6), makeHost({ askPerFuel: 101n }))
    index.upsert(addr(7), makeHost({ capacityBytes: 10n, usedBytes: 5n }))
    index.upsert(addr(8), makeHost({}))
    index.upsert(addr(9), makeHost({ coord: { x: 15, y: 15, z: 15 }, askPerFuel: 100n }))
    const got = route(compute({ replicas: 5, minFreeBytes: 6n, exclude: [addr(8)] }), index, seed0)
    expect(hex(got)).toEqual(hex([addr(9)]))
  })

  it('requires every requested capability bit (private execution needs the private bit)', () => {
    const index = new HostIndex({ gridSize: 16, ...params })
    index.upsert(addr(1), makeHost({ capabilities: CAPABILITY.compute }))
    index.upsert(addr(2), makeHost({ capabilities: CAPABILITY.compute | CAPABILITY.private, coord: { x: 9, y: 9, z: 9 } }))
    expect(hex(route(compute({ replicas: 2, capabilities: CAPABILITY.compute | CAPABILITY.private }), index, seed0))).toEqual(hex([addr(2)]))
  })

  it('handles capability bit 31 like any other bit', () => {
    const index = new HostIndex({ gridSize: 16, ...params })
    const high = 0x8000_0000
    index.upsert(addr(1), makeHost({ capabilities: CAPABILITY.compute | high }))
    index.upsert(addr(2), makeHost({ capabilities: CAPABILITY.compute }))
    expect(hex(route(compute({ replicas: 2, capabilities: (CAPABILITY.compute | high) >>> 0 }), index, seed0))).toEqual(hex([addr(1)]))
  })

  it('compares the storage ask scaled by utilization with the bid', () => {
    const index = new HostIndex({ gridSize: 16, ...params })
    // Network: capacity 1000 + 1000, used 500 + 500 → utilization 5000 bp.
    // Price = ask × (10^8 + 10000 × 5000) / 10^8 = 1.5 × ask. Host 1 ask 60 → 90 ≤ 100; host 2 ask 70 → 105 > 100.
    index.upsert(addr(1), makeHost({ askPerByteEpoch: 60n, usedBytes: 500n }))
    index.upsert(addr(2), makeHost({ askPerByteEpoch: 70n, usedBytes: 500n }))
    expect(index.utilizationBp).toBe(5_000)
    const req: RouteRequest = { kind: 'storage', origin: { x: 0, y: 0, z: 0 }, replicas: 2, capabilities: CAPABILITY.storage, bid: 100n, minFreeBytes: 1n }
    expect(hex(route(req, index, seed0))).toEqual(hex([addr(1)]))
  })
})

describe('route anti-affinity and ties', () => {
  it('spreads across zones before reusing one', () => {
    const index = new HostIndex({ gridSize: 64, ...params })
    index.upsert(addr(1), makeHost({ zone: 'a', coord: { x: 0, y: 0, z: 0 } }))
    index.upsert(addr(2), makeHost({ zone: 'a', coord: { x: 1, y: 0, z: 0 } }))
    index.upsert(addr(3), makeHost({ zone: 'a', coord: { x: 2, y: 0, z: 0 } }))
    index.upsert(addr(4), makeHost({ zone: 'b', coord: { x: 60, y: 60, z: 60 } }))
    // Zone picks first (a's best, then b's best however far), then the best leftover of a.
    expect(hex(route(compute({ replicas: 3 }), index, seed0))).toEqual(hex([addr(1), addr(4), addr(2)]))
    // Same with enough zone-a hosts near the origin to fill every slot from leaves visited long before b's.
    for (let i = 0; i < 60; i++) index.upsert(addr(100 + i), makeHost({ zone: 'a', coord: { x: 3 + (i % 4), y: i % 5, z: 0 } }))
    expect(hex(route(compute({ replicas: 3 }), index, seed0))).toEqual(hex([addr(1), addr(4), addr(2)]))
  })

  it('breaks exact ties by host id XOR seed', () => {
    const index = new HostIndex({ gridSize: 8, ...params })
    index.upsert(addr(0x10), makeHost({ zone: 'a' }))
    index.upsert(addr(0x20), makeHost({ zone: 'b' }))
    expect(hex(route(compute({ replicas: 2 }), index, seed0))).toEqual(hex([addr(0x10), addr(0x20)]))
    // seed first byte 0x30: 0x10^0x30 = 0x20, 0x20^0x30 = 0x10 → order flips.
    const seed = new Uint8Array(32)
    seed[0] = 0x30
    expect(hex(route(compute({ replicas: 2 }), index, seed))).toEqual(hex([addr(0x20), addr(0x10)]))
  })

  it('visits a region whose lower bound equals the best cost so far, so an equally cheap host with a smaller id wins', () => {
    const index = new HostIndex({ gridSize: 64, ...params })
    // A at d=1, perfect: cost 2 × 100000 = 200000, address 0x01…
    index.upsert(addr(1), makeHost({ coord: { x: 1, y: 0, z: 0 } }))
    // B at d=0, worst penalty: 100000 + 4×10000 + 3×10000 (ask = bid) + 3×10000 (full) = 200000, address 0x02…
    index.upsert(addr(2), makeHost({ reputation: 0, askPerFuel: 100n, usedBytes: 1000n }))
    // Suspended fillers at the origin force the octree down to unit cells, so A and B sit in different leaves.
    for (let i = 0; i < 30; i++) index.upsert(addr(100 + i), makeHost({ status: HOST_STATUS.suspended }))
    expect(hex(route(compute(), index, seed0))).toEqual(hex([addr(1)]))
  })

  it('returns fewer hosts than asked when fewer are eligible, and none from an empty index', () => {
    const index = new HostIndex({ gridSize: 8, ...params })
    expect(route(compute({ replicas: 3 }), index, seed0)).toEqual([])
    index.upsert(addr(1), makeHost({}))
    expect(route(compute({ replicas: 3 }), index, seed0)).toHaveLength(1)
  })
})

describe('HostIndex updates', () => {
  it('follows moves, updates and removals', () => {
    const index = new HostIndex({ gridSize: 32, ...params })
    for (let i = 0; i < 40; i++) index.upsert(addr(i + 1), makeHost({ coord: { x: 31, y: i % 32, z: 31 }, zone: `z${i % 3}` }))
    index.upsert(addr(200), makeHost({ coord: { x: 20, y: 20, z: 20 } }))
    expect(hex(route(compute(), index, seed0))).toEqual(hex([addr(200)]))
    index.upsert(addr(100), makeHost({ coord: { x: 5, y: 5, z: 5 } }))
    expect(hex(route(compute(), index, seed0))).toEqual(hex([addr(100)]))
    index.upsert(addr(100), makeHost({ coord: { x: 30, y: 30, z: 30 } }))
    expect(hex(route(compute(), index, seed0))).toEqual(hex([addr(200)]))
    index.upsert(addr(200), makeHost({ coord: { x: 20, y: 20, z: 20 }, status: HOST_STATUS.suspended }))
    expect(hex(route(compute(), index, seed0))).toEqual(hex(routeExhaustive(compute(), index, seed0)))
    expect(index.remove(addr(200))).toBe(true)
    expect(index.remove(addr(200))).toBe(false)
    expect(index.size).toBe(41)
    for (let i = 0; i < 40; i++) index.remove(addr(i + 1))
    expect(hex(route(compute({ replicas: 3 }), index, seed0))).toEqual(hex([addr(100)]))
    expect(index.root.count).toBe(1)
  })

  it('rejects hosts off the grid and malformed requests with typed errors', () => {
    const index = new HostIndex({ gridSize: 10, ...params })
    expect(() => index.upsert(addr(1), makeHost({ coord: { x: 10, y: 0, z: 0 } }))).toThrow(RouterError)
    expect(() => index.upsert(new Uint8Array(31), makeHost({}))).toThrow(RouterError)
    for (const bad of [compute({ replicas: 0 }), compute({ bid: -1n }), compute({ origin: { x: 0, y: 10, z: 0 } }), compute({ origin: { x: 0.5, y: 0, z: 0 } })]) {
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
