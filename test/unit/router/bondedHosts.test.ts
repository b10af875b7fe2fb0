import { describe, expect, it } from 'vitest'

import { CAPABILITY } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { HostIndex, isEligibleHost, route, routeExhaustive, type RouteRequest } from '../../../src/router/index.ts'
import { HOST_STATUS } from '../../../src/state/records.ts'
import { addr, indexParams, makeHost, seeds } from './hostFixtures.ts'

const storage: RouteRequest = { kind: 'storage', origin: { x: 0, y: 0, z: 0 }, replicas: 3, capabilities: CAPABILITY.storage, bid: 100n, minFreeBytes: 0n }
const hex = (as: Uint8Array[]): string[] => as.map((a) => toHex(a))

describe('only bonded, active hosts are placed', () => {
  it('never places a host whose bond is gone or that left, however well it scores', () => {
    const index = new HostIndex(indexParams(100))
    // The best-placed hosts (at the origin) have no bond or left; the bonded ones are farther away.
    index.upsert(addr(1), makeHost({ bond: 0n }))
    index.upsert(addr(2), makeHost({ status: HOST_STATUS.left }))
    index.upsert(addr(3), makeHost({ status: HOST_STATUS.draining }))
    for (let i = 4; i < 8; i++) index.upsert(addr(i), makeHost({ coord: { x: i, y: 0, z: 0 } }))
    const bad = new Set(hex([addr(1), addr(2), addr(3)]))
    for (const seed of seeds(20)) {
      const picked = hex(route(storage, index, seed))
      expect(picked).toEqual(hex(routeExhaustive(storage, index, seed)))
      expect(picked).toHaveLength(3)
      expect(picked.filter((a) => bad.has(a))).toEqual([])
    }
    expect(isEligibleHost(addr(1), storage, index)).toBe(false)
    expect(isEligibleHost(addr(2), storage, index)).toBe(false)
    expect(isEligibleHost(addr(4), storage, index)).toBe(true)
  })
})
