import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { toHex } from '../../../src/crypto/bytes.ts'
import { HostIndex, route, routeExhaustive, type RouteRequest } from '../../../src/router/index.ts'
import type { HostRecord } from '../../../src/state/records.ts'

// The search reads amounts from typed rows as doubles, exact below 2^53, and falls back to the
// record's bigint above: amounts straddling 2^53 (and products that leave the exact range) must
// give the same answer as the reference that scores every record in bigints.
const GRID = 8
const TWO53 = 1n << 53n
const arbAmount = fc.oneof(
  fc.bigInt(0n, 200n),
  fc.bigInt(TWO53 - 3n, TWO53 + 3n),
  fc.bigInt(0n, 1n << 64n),
  fc.bigInt((1n << 40n) - 5n, (1n << 40n) + 5n),
)
const arbHost: fc.Arbitrary<HostRecord> = fc.record({
  params: fc.record({
    coord: fc.record({ x: fc.nat(GRID - 1), y: fc.nat(GRID - 1), z: fc.nat(GRID - 1) }),
    zone: fc.constantFrom('a', 'b', 'c'),
    capacityBytes: arbAmount,
    capabilities: fc.constant(7),
    askPerFuel: arbAmount,
    askPerByteEpoch: arbAmount,
    peerId: fc.constant('p'),
    memoryBytes: arbAmount,
    encryptionKey: fc.constant(undefined),
  }),
  reputation: fc.nat(10_000),
  status: fc.constantFrom(0, 0, 0, 2),
  usedBytes: arbAmount,
  joinedHeight: fc.constant(0),
  failedAudits: fc.constant(0),
  bond: fc.bigInt(0n, 1000n),
  passedChecks: fc.nat(12),
})
const arbHosts = fc.uniqueArray(fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), arbHost), { maxLength: 60, selector: ([a]) => toHex(a) })
const arbRequest: fc.Arbitrary<RouteRequest> = fc.record({
  kind: fc.constantFrom('compute' as const, 'storage' as const),
  origin: fc.record({ x: fc.nat(GRID - 1), y: fc.nat(GRID - 1), z: fc.nat(GRID - 1) }),
  replicas: fc.integer({ min: 1, max: 6 }),
  capabilities: fc.constant(1),
  bid: arbAmount,
  minFreeBytes: arbAmount,
  strategy: fc.constantFrom(0, 1, 2, 3),
  minMemoryBytes: arbAmount,
})

describe('route on typed rows', () => {
  it('equals the bigint reference for amounts around and beyond 2^53, for every slope', () => {
    fc.assert(
      fc.property(arbHosts, arbRequest, fc.uint8Array({ maxLength: 32 }), fc.constantFrom(0, 7_500, 10_000, 0xffff_ffff), (hosts, req, seed, slope) => {
        const index = HostIndex.build({ gridSize: GRID, storageUtilizationSlopeBp: slope, placementBandHosts: 3, vettingPasses: 6, unvettedShareBp: 1_500 }, hosts)
        expect(route(req, index, seed).map((a) => toHex(a))).toEqual(routeExhaustive(req, index, seed).map((a) => toHex(a)))
      }),
      { numRuns: 400 },
    )
  })
})
