import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { type Address, AUDIT_OUTCOME, REPUTATION_CAUSE } from '../../../../blocks/schema.ts'
import { compareBytes, hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { ASSET_STATUS, HOST_STATUS, type HostRecord } from '../../../../src/state/records.ts'
import { type AuditEpochInput, computeAuditEntry, verifyAuditEntry } from '../../../../src/state/storage/computeAuditEntry.ts'
import { computeChunkProof } from '../../../../src/state/storage/computeChunkLeaves.ts'
import { type ChooseRepairHost, computeRepairs, computeShardsToRepair } from '../../../../src/state/storage/computeRepairs.ts'
import { encodeAsset } from '../../../../src/storage/encodeAsset.ts'
import { assetRecord, hostAddress, hostRecord } from './storageTestState.ts'

const P = { k: 4, m: 2, segmentSize: 8192, chunkSize: 512 }
const hosts = Array.from({ length: 9 }, (_, i) => hostAddress(i))
const placement = hosts.slice(0, 6)
const params = { auditFailThreshold: 2, rentGraceEpochs: 2, reputationAlphaBp: 1000, reputationSuspendBp: 3000, reputationDisqualifyBp: 1000 }

/** Deterministic stand-in for the router: the lowest-addressed spare host not excluded. */
const chooseLowest = (pool: Address[]): ChooseRepairHost => (_asset, _record, _i, exclude) =>
  [...pool].sort(compareBytes).find((h) => !exclude.some((e) => compareBytes(e, h) === 0))

function hostMap(overrides: Record<number, Partial<HostRecord>> = {}): Map<string, HostRecord> {
  return new Map(hosts.map((h, i) => [toHex(h), hostRecord({ usedBytes: 10_000n, ...overrides[i] })]))
}

describe('repair decisions', () => {
  const { manifest } = encodeAsset(new Uint8Array(randomBytes(10_000)), P)
  const asset = hash(utf8('repair-asset'))
  it('a shard is lost when its host left, drained, is suspended (repair starts at suspension), was disqualified, is unknown, or failed audits past the threshold', () => {
    const hm = hostMap({ 1: { status: HOST_STATUS.left }, 2: { status: HOST_STATUS.draining }, 3: { status: HOST_STATUS.suspended } })
    const record = assetRecord(manifest, placement, { shardFailures: [0, 0, 0, 1, 2, 0] })
    const lookup = (h: Address) => hm.get(toHex(h))
    expect(computeShardsToRepair(record, lookup, 2)).toEqual([1, 2, 3, 4])
    expect(computeShardsToRepair({ ...record, placement: [hash(utf8('ghost')), ...placement.slice(1)] }, lookup, 2)).toEqual([0, 1, 2, 3, 4])
  })

  it('repairs start on the first lost shard, place on a host outside the placement, and give up below k', () => {
    const hm = hostMap({ 5: { status: HOST_STATUS.left } })
    const lookup = (h: Address) => hm.get(toHex(h))
    const record = assetRecord(manifest, placement)
    const plan = computeRepairs([{ asset, record }], lookup, params, chooseLowest(hosts))
    expect(plan.repairs).toHaveLength(1)
    const r = plan.repairs[0]!
    expect(r.shardIndex).toBe(5)
    expect(r.from).toEqual(placement[5])
    expect(placement.some((h) => compareBytes(h, r.to) === 0)).toBe(false)
    expect(plan.assets[0]!.record.placement[5]).toEqual(r.to)
    const gone = hostMap({ 0: { status: HOST_STATUS.left }, 1: { status: HOST_STATUS.left }, 2: { status: HOST_STATUS.left } })
    const dead = computeRepairs([{ asset, record }], (h) => gone.get(toHex(h)), params, chooseLowest(hosts))
    expect(dead.repairs).toEqual([])
    expect(dead.unrecoverable).toEqual([asset])
    // A chooser that returns a current holder is ignored.
    const bad = computeRepairs([{ asset, record }], lookup, params, () => placement[0])
    expect(bad.repairs).toEqual([])
    // At most maxRepairs per call.
    const two = hostMap({ 4: { status: HOST_STATUS.left }, 5: { status: HOST_STATUS.left } })
    expect(computeRepairs([{ asset, record }], (h) => two.get(toHex(h)), params, chooseLowest(hosts), 1).repairs).toHaveLength(1)
    expect(computeRepairs([{ asset, record }], (h) => two.get(toHex(h)), params, chooseLowest(hosts)).repairs).toHaveLength(2)
    // ...and so is one that is not active.
    const suspended = hostMap({ 5: { status: HOST_STATUS.left }, 6: { status: HOST_STATUS.suspended } })
    const none = computeRepairs([{ asset, record }], (h) => suspended.get(toHex(h)), params, () => hosts[6])
    expect(none.repairs).toEqual([])
  })
})

describe('audit entry', () => {
  const a = encodeAsset(new Uint8Array(randomBytes(30_000)), P)
  const b = encodeAsset(new Uint8Array(randomBytes(5_000)), P)
  const assetA = hash(utf8('A'))
  const assetB = hash(utf8('B'))
  const shardsOf = new Map([[toHex(assetA), a.shards], [toHex(assetB), b.shards]])

  function input(overrides: Partial<AuditEpochInput> = {}): AuditEpochInput {
    return {
      epoch: 3,
      seed: hash(utf8('epoch-seed')),
      height: 100,
      assets: [
        { asset: assetA, record: assetRecord(a.manifest, placement, { shardFailures: [0, 0, 0, 0, 0, 1] }) },
        { asset: assetB, record: assetRecord(b.manifest, placement) },
      ],
      hosts: hostMap(),
      params,
      choose: chooseLowest(hosts),
      ...overrides,
    }
  }

  it('records pass/fail/noAnswer, moves reputation, pays passing hosts, repairs a host past the threshold, and verifies', () => {
    // host 5 serves garbage, host 4 does not answer, the rest are honest.
    const out = computeAuditEntry(input(), (c) => {
      const idx = placement.findIndex((h) => compareBytes(h, c.host) === 0)
      if (idx === 4) return undefined
      const shard = shardsOf.get(toHex(c.asset))![c.shardIndex]!
      const proof = computeChunkProof(shard, P.chunkSize, c.chunkIndex)
      return idx === 5 ? { chunk: new Uint8Array(randomBytes(proof.chunk.length)), path: proof.path } : proof
    })
    const { entry } = out
    expect(entry.results).toHaveLength(12)
    const outcomeOf = (i: number) => entry.results.filter((r) => r.shardIndex === i).map((r) => r.outcome)
    expect(outcomeOf(0)).toEqual([AUDIT_OUTCOME.pass, AUDIT_OUTCOME.pass])
    expect(outcomeOf(4)).toEqual([AUDIT_OUTCOME.noAnswer, AUDIT_OUTCOME.noAnswer])
    expect(outcomeOf(5)).toEqual([AUDIT_OUTCOME.fail, AUDIT_OUTCOME.fail])
    // reputation: passes go up, failures down
    const h5 = entry.reputation.filter((r) => compareBytes(r.host, placement[5]!) === 0)
    expect(h5.map((r) => r.cause)).toEqual([REPUTATION_CAUSE.auditFail, REPUTATION_CAUSE.auditFail])
    expect(h5[1]!.after).toBeLessThan(h5[0]!.before)
    expect(out.hosts.get(toHex(placement[0]!))!.reputation).toBeGreaterThan(5000)
    // rent only to hosts 0..3
    expect(entry.rent.map((p) => toHex(p.to)).sort()).toEqual(placement.slice(0, 4).map(toHex).sort())
    // asset A shard 5 reached 2 failures: repaired; asset B shard 5 has 1: not yet
    expect(entry.repairs.map((r) => [toHex(r.asset), r.shardIndex])).toEqual([[toHex(assetA), 5]])
    const newA = out.assets.find((x) => compareBytes(x.asset, assetA) === 0)!.record
    expect(newA.placement[5]).toEqual(entry.repairs[0]!.to)
    expect(newA.shardFailures).toEqual([0, 0, 0, 0, 1, 0])
    expect(out.hosts.get(toHex(entry.repairs[0]!.to))!.usedBytes).toBe(10_000n + a.manifest.shardSize)
    // conservation of rent
    const paid = entry.rent.reduce((s, p) => s + p.amount, 0n)
    const before = 2n * 1_000_000_000n
    const after = out.assets.reduce((s, x) => s + x.record.deposit, 0n)
    expect(paid + after).toBe(before)
    // validators accept it, and reject tampering
    expect(verifyAuditEntry(input(), entry).ok).toBe(true)
    expect(verifyAuditEntry(input(), { ...entry, rent: entry.rent.map((p) => ({ ...p, amount: p.amount + 1n })) }).ok).toBe(false)
    expect(verifyAuditEntry(input(), { ...entry, repairs: [] }).ok).toBe(false)
    const flipped = entry.results.map((r) => (r.outcome === AUDIT_OUTCOME.pass ? { ...r, outcome: AUDIT_OUTCOME.fail } : r))
    expect(verifyAuditEntry(input(), { ...entry, results: flipped }).ok).toBe(false)
    expect(verifyAuditEntry(input(), { ...entry, results: entry.results.slice(1) }).ok).toBe(false)
    expect(verifyAuditEntry(input({ seed: hash(utf8('other')) }), entry).ok).toBe(false)
  })

  it('expires an asset after its grace and stops auditing it', () => {
    const graced = assetRecord(b.manifest, placement, { deposit: 0n, status: ASSET_STATUS.graced, exhaustedEpoch: 1 })
    const inp = input({ assets: [{ asset: assetB, record: graced }] })
    const out = computeAuditEntry(inp, () => undefined)
    expect(out.entry.expired).toEqual([assetB])
    expect(out.assets[0]!.record.status).toBe(ASSET_STATUS.expired)
    expect(out.hosts.get(toHex(placement[0]!))!.usedBytes).toBe(10_000n - b.manifest.shardSize)
    const next = computeAuditEntry(input({ epoch: 4, assets: out.assets }), () => undefined)
    expect(next.entry.results).toEqual([])
  })
})
