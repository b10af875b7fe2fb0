import { describe, expect, it } from 'vitest'

import { type Address, AUDIT_OUTCOME } from '../../../../blocks/schema.ts'
import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { ASSET_STATUS, type AssetRecord, HOST_STATUS, type HostRecord } from '../../../../src/state/records.ts'
import { AUDIT_GRACE_BLOCKS, type AuditEpochInput, computeAuditEntry, verifyAuditEntry } from '../../../../src/state/storage/computeAuditEntry.ts'
import { encodeAsset } from '../../../../src/storage/encodeAsset.ts'

/**
 * A freshly deployed asset is not audited until AUDIT_GRACE_BLOCKS blocks after its deployment
 * block: its hosts may not have been handed their shards yet, and must not pay for that.
 */

const P = { k: 4, m: 2, segmentSize: 8192, chunkSize: 512 }
const params = { auditFailThreshold: 2, rentGraceEpochs: 2, reputationAlphaBp: 1000, reputationSuspendBp: 3000, reputationDisqualifyBp: 1000 }
const hosts: Address[] = Array.from({ length: 6 }, (_, i) => hash(utf8(`audit-grace-host-${i}`)))
const { manifest } = encodeAsset(new Uint8Array(10_000).map((_, i) => i % 251), P)
const asset = hash(utf8('audit-grace-asset'))
const CREATED = 500

function hostRecord(): HostRecord {
  return {
    params: { coord: { x: 1, y: 2, z: 3 }, zone: 'z1', capacityBytes: 1n << 40n, capabilities: 1, askPerFuel: 1n, askPerByteEpoch: 2n, peerId: 'peer', memoryBytes: 16n << 20n, encryptionKey: undefined },
    reputation: 5000,
    status: HOST_STATUS.active,
    usedBytes: manifest.shardSize,
    joinedHeight: 0,
    failedAudits: 0, bond: 0n, passedChecks: 0,
  }
}

function assetRecord(): AssetRecord {
  return {
    owner: hash(utf8('owner')), kind: 0, manifest, placement: hosts, shardFailures: hosts.map(() => 0),
    deposit: 1_000_000_000n, bidPerByteEpoch: 3n, createdHeight: CREATED, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined,
  }
}

/** An audit at `height` in which no host answers (none received its shard). */
function auditAt(height: number) {
  const input: AuditEpochInput = {
    epoch: 7,
    seed: hash(utf8('grace-seed')),
    height,
    assets: [{ asset, record: assetRecord() }],
    hosts: new Map(hosts.map((h) => [toHex(h), hostRecord()])),
    params,
    choose: () => undefined,
  }
  const out = computeAuditEntry(input, () => undefined)
  return { input, out }
}

describe('audit grace for fresh assets', () => {
  it('a shard of an asset deployed in the last AUDIT_GRACE_BLOCKS blocks is not challenged, failed, or cut in reputation', () => {
    for (const height of [CREATED + 1, CREATED + AUDIT_GRACE_BLOCKS - 1]) {
      const { input, out } = auditAt(height)
      expect(out.challenges).toEqual([])
      expect(out.entry.results).toEqual([])
      expect(out.entry.reputation).toEqual([])
      expect(out.entry.rent).toEqual([])
      expect(out.assets[0]!.record.shardFailures).toEqual([0, 0, 0, 0, 0, 0])
      expect(out.hosts.size).toBe(0)
      expect(verifyAuditEntry(input, out.entry).ok).toBe(true)
    }
  })

  it('once the grace is over, the same unanswered shards fail and their hosts lose reputation', () => {
    const { input, out } = auditAt(CREATED + AUDIT_GRACE_BLOCKS)
    expect(out.entry.results).toHaveLength(6)
    expect(out.entry.results.every((r) => r.outcome === AUDIT_OUTCOME.noAnswer)).toBe(true)
    expect(out.assets[0]!.record.shardFailures).toEqual([1, 1, 1, 1, 1, 1])
    expect(out.entry.reputation).toHaveLength(6)
    expect(out.entry.reputation.every((r) => r.after < r.before)).toBe(true)
    expect([...out.hosts.values()].every((h) => h.failedAudits === 1)).toBe(true)
    expect(verifyAuditEntry(input, out.entry).ok).toBe(true)
  })

  it('a validator rejects an audit entry that challenges an asset still in its grace', () => {
    const late = auditAt(CREATED + AUDIT_GRACE_BLOCKS).out.entry
    const { input } = auditAt(CREATED + AUDIT_GRACE_BLOCKS - 1)
    expect(verifyAuditEntry(input, late).ok).toBe(false)
  })
})
