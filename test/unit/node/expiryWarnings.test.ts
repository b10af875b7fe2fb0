import { describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { AUDIT_OUTCOME, type Block, CAPABILITY } from '../../../blocks/schema.ts'
import { ZERO_HASH } from '../../../src/crypto/index.ts'
import { computeExpiryWarnings, EXPIRY_WARNING_EPOCHS } from '../../../src/node/chainEvents.ts'
import { ASSET_STATUS, AssetRecord, HOST_STATUS, HostRecord } from '../../../src/state/records.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testKey } from '../../support/chainFixtures.ts'

const hosts = [0, 1, 2, 3, 4, 5].map((i) => testKey(`expiry-host-${i}`).publicKey)
const asset = new Uint8Array(32).fill(3)
/** 6 shards × 100 bytes × ask 1 per byte-epoch. */
const EPOCH_COST = 600n

function stateWith(deposit: bigint, status: number = ASSET_STATUS.active): MemoryState {
  const s = new MemoryState()
  const params = { coord: { x: 0, y: 0, z: 0 }, zone: 'z', capacityBytes: 1n << 20n, capabilities: CAPABILITY.storage, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: '', memoryBytes: 16n << 20n, encryptionKey: undefined }
  s.apply([
    ...hosts.map((h) => ({ key: TABLES.host.key(h), value: encode(HostRecord, { params, reputation: 5000, status: HOST_STATUS.active, usedBytes: 100n, joinedHeight: 0, failedAudits: 0, bond: 0n, passedChecks: 0 }) })),
    { key: TABLES.asset.key(asset), value: encode(AssetRecord, { owner: hosts[0]!, kind: 0, manifest: { size: 400n, dataHash: ZERO_HASH, k: 4, m: 2, segmentSize: 400, shardSize: 100n, chunkSize: 100, shardHashes: [], chunkRoots: [] }, placement: hosts, shardFailures: hosts.map(() => 0), deposit, bidPerByteEpoch: 5n, createdHeight: 0, status, exhaustedEpoch: status === ASSET_STATUS.graced ? 1 : undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined }) },
  ])
  return s
}

const auditBlock = (): Block => ({
  header: { chainId: 'xsc-test', height: 40, prevHash: ZERO_HASH, kind: 'audit', slot: 40, timestamp: 0n, proposer: ZERO_HASH, bodyRoot: ZERO_HASH, stateRoot: ZERO_HASH, baseFee: 0n, txBytes: 0, round: 0, beaconReveal: new Uint8Array(32), proofs: [], signature: new Uint8Array(64) },
  entries: [{ type: 'audit', epoch: 4, results: [0, 1].map((i) => ({ asset, shardIndex: i, host: hosts[i]!, chunkIndex: 0, outcome: AUDIT_OUTCOME.pass, chunk: new Uint8Array(), path: [] })), repairs: [], rent: [], expired: [], reputation: [] }],
})

describe('expiry warnings after an audit block', () => {
  it('warn once per audited asset while the deposit covers fewer than EXPIRY_WARNING_EPOCHS epochs, with the epochs left', () => {
    const low = computeExpiryWarnings(auditBlock(), stateWith(EPOCH_COST * 2n + 1n), 7)
    expect(low).toEqual([{ topic: 'asset', height: 40, index: 7, asset, kind: 'expiring', epochsLeft: 2 }])
    expect(computeExpiryWarnings(auditBlock(), stateWith(EPOCH_COST * BigInt(EXPIRY_WARNING_EPOCHS)), 0)).toEqual([])
  })

  it('a graced asset has 0 epochs left; an expired one gets no warning (it has its expired event)', () => {
    expect(computeExpiryWarnings(auditBlock(), stateWith(10n, ASSET_STATUS.graced), 0)[0]).toMatchObject({ kind: 'expiring', epochsLeft: 0 })
    expect(computeExpiryWarnings(auditBlock(), stateWith(0n, ASSET_STATUS.expired), 0)).toEqual([])
  })
})
