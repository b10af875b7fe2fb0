import { describe, expect, it } from 'vitest'

import { CAPABILITY } from '../../../blocks/schema.ts'
import { computeDeploymentRequest, computeExecutionRequest, findPlacementConstraintError, HostIndex, isEligibleHost, route } from '../../../src/router/index.ts'
import { HOST_STATUS } from '../../../src/state/records.ts'
import { addr, indexParams, makeHost } from './hostFixtures.ts'

const manifest = { size: 4000n, dataHash: new Uint8Array(32), k: 4, m: 2, segmentSize: 1024, shardSize: 1000n, chunkSize: 256, shardHashes: [], chunkRoots: [] }

describe('route requests', () => {
  it('asks for private-capable compute hosts within the fuel bid for a private execution', () => {
    const req = computeExecutionRequest({ origin: { x: 1, y: 2, z: 3 }, replicas: 3, bidPerFuel: 9n, private: true, zones: ['eu'], strategy: 1, minMemoryBytes: 5n })
    expect(req).toEqual({ kind: 'compute', origin: { x: 1, y: 2, z: 3 }, replicas: 3, capabilities: CAPABILITY.compute | CAPABILITY.private, bid: 9n, minFreeBytes: 0n, zones: ['eu'], strategy: 1, minMemoryBytes: 5n })
    expect(computeExecutionRequest({ origin: { x: 0, y: 0, z: 0 }, replicas: 1, bidPerFuel: 1n, private: false, zones: [], strategy: 0, minMemoryBytes: 0n }).capabilities).toBe(CAPABILITY.compute)
  })

  it('asks for k + m storage hosts with room for one shard, excluding current holders on repair', () => {
    const req = computeDeploymentRequest({ origin: { x: 0, y: 0, z: 0 }, manifest, bidPerByteEpoch: 5n, zones: ['a'], strategy: 2 }, [addr(7)])
    expect(req).toMatchObject({ kind: 'storage', replicas: 6, capabilities: CAPABILITY.storage, bid: 5n, minFreeBytes: 1000n, zones: ['a'], strategy: 2 })
    expect(req.exclude).toEqual([addr(7)])
  })

  it('places six shards on six distinct storage hosts across zones and checks eligibility host by host', () => {
    const index = new HostIndex(indexParams(64, { storageUtilizationSlopeBp: 0 }))
    for (let i = 1; i <= 9; i++) index.upsert(addr(i), makeHost({ zone: `z${i % 3}`, coord: { x: i * 6, y: 0, z: 0 }, capacityBytes: 2000n, askPerByteEpoch: 5n }))
    index.upsert(addr(10), makeHost({ status: HOST_STATUS.draining, capacityBytes: 2000n }))
    const req = computeDeploymentRequest({ origin: { x: 0, y: 0, z: 0 }, manifest, bidPerByteEpoch: 5n, zones: [], strategy: 0 })
    const placement = route(req, index, new Uint8Array(32))
    expect(placement).toHaveLength(6)
    expect(new Set(placement.map((a) => a[0])).size).toBe(6)
    for (const a of placement) expect(isEligibleHost(a, req, index)).toBe(true)
    expect(isEligibleHost(addr(10), req, index)).toBe(false)
    expect(isEligibleHost(addr(99), req, index)).toBe(false)
    // the first three picks cover the three zones
    expect(new Set(placement.slice(0, 3).map((a) => a[0]! % 3)).size).toBe(3)
  })

  it('finds what is wrong with placement constraints: unknown strategy, empty or repeated zones', () => {
    expect(findPlacementConstraintError({ zones: ['a', 'b'], strategy: 3 })).toBeUndefined()
    expect(findPlacementConstraintError({ zones: [], strategy: 4 })?.field).toBe('strategy')
    expect(findPlacementConstraintError({ zones: [''], strategy: 0 })?.field).toBe('zones')
    expect(findPlacementConstraintError({ zones: ['a', 'a'], strategy: 0 })?.field).toBe('zones')
  })
})
