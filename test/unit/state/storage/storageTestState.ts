import type { Address, Manifest } from '../../../../blocks/schema.ts'
import { hash, utf8 } from '../../../../src/crypto/index.ts'
import { ASSET_STATUS, type AssetRecord, HOST_STATUS, type HostRecord } from '../../../../src/state/records.ts'

/** Small builders of state records for storage tests. */
export function hostAddress(i: number): Address {
  return hash(utf8(`storage-test-host-${i}`))
}

export function hostRecord(overrides: Partial<HostRecord> = {}, ask = 2n): HostRecord {
  return {
    params: {
      coord: { x: 1, y: 2, z: 3 },
      zone: 'z1',
      capacityBytes: 1n << 40n,
      capabilities: 1,
      askPerFuel: 1n,
      askPerByteEpoch: ask,
      peerId: 'peer',
      memoryBytes: 16n << 20n, encryptionKey: undefined,
    },
    reputation: 5000,
    status: HOST_STATUS.active,
    usedBytes: 0n,
    joinedHeight: 0,
    failedAudits: 0, bond: 0n, passedChecks: 0,
    ...overrides,
  }
}

export function assetRecord(manifest: Manifest, placement: Address[], overrides: Partial<AssetRecord> = {}): AssetRecord {
  return {
    owner: hash(utf8('owner')),
    kind: 0,
    manifest,
    placement,
    shardFailures: placement.map(() => 0),
    deposit: 1_000_000_000n,
    bidPerByteEpoch: 3n,
    createdHeight: 1,
    status: ASSET_STATUS.active,
    exhaustedEpoch: undefined, zones: [],
    rentEpoch: undefined, acked: [], ackDeadline: undefined,
    ...overrides,
  }
}
