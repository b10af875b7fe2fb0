import { describe, expect, it } from 'vitest'

import { CAPABILITY } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { HostIndex, isEligibleHost, route, routeExhaustive, type RouteRequest } from '../../../src/router/index.ts'
import { HOST_STATUS } from '../../../src/state/records.ts'
import { addr, makeHost } from './hostFixtures.ts'

const storage: RouteRequest = { kind: 'storage', origin: { x: 0, y: 0, z: 0 }, replicas: 3, capabilities: CAPABILITY.storage, bid: 100n, minFreeBytes: 0n }
const hex = (as: Uint8Array[]): string[] => as.map((a) => toHex(a))

describe('only bonded, active hosts are placed', () => {
  it('never places a host whose bond is gone or that left, however well it scores', () => {
    const index = new HostIndex({ gridSize: 100, storageUtilizationSlopeBp: 10_000 })
    // The best-placed hosts (at the origin) have no bond or left; the bonded ones are farther away.
    index.upsert(addr(1), makeHost({ bond: 0n }))
    index.upsert(addr(2), makeHost({ status: HOST_STATUS.left }))
    index.upsert(addr(3), makeHost({ status: HOST_STATUS.draining }))
    for (let i = 4; i < 8; i++) index.upsert(addr(i), makeHost({ coord: { x: i, y: 0, z: 0 } }))
    const picked = hex(route(storage, index, new Uint8Array(32)))
    expect(picked).toEqual(hex(routeExhaustive(storage, index, new Uint8Array(32))))
    expect(picked).toEqual(hex([addr(4), addr(5), addr(6)]))
    expect(isEligibleHost(addr(1), storage, index)).toBe(false)
    expect(isEligibleHost(addr(2), storage, index)).toBe(false)
    expect(isEligibleHost(addr(4), storage, index)).toBe(true)
  })
})
