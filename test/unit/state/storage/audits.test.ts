import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { AUDIT_OUTCOME } from '../../../../blocks/schema.ts'
import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { computeChunkCount, computeChunkProof } from '../../../../src/state/storage/computeChunkLeaves.ts'
import { computeAuditEpoch, deriveAuditChallenges } from '../../../../src/state/storage/deriveAuditChallenges.ts'
import { computeAuditOutcome, computeAuditResult, verifyAuditResult } from '../../../../src/state/storage/verifyAuditResult.ts'
import { encodeAsset } from '../../../../src/storage/encodeAsset.ts'
import { hostAddress } from './storageTestState.ts'

const P = { k: 4, m: 2, segmentSize: 8192, chunkSize: 256 }
const placement = Array.from({ length: 6 }, (_, i) => hostAddress(i))

describe('audit challenges', () => {
  const a = encodeAsset(new Uint8Array(randomBytes(20_000)), P)
  const b = encodeAsset(new Uint8Array(randomBytes(7_000)), P)
  const empty = encodeAsset(new Uint8Array(0), P)
  const assets = [
    { asset: hash(utf8('a')), manifest: a.manifest, placement },
    { asset: hash(utf8('b')), manifest: b.manifest, placement },
    { asset: hash(utf8('empty')), manifest: empty.manifest, placement },
  ]
  const seed = hash(utf8('block'))

  it('are deterministic, independent of input order, one per shard of each non-empty asset', () => {
    const c1 = deriveAuditChallenges(seed, 7, assets)
    const c2 = deriveAuditChallenges(seed, 7, [...assets].reverse())
    expect(c1).toEqual(c2)
    expect(c1).toHaveLength(12)
    const hexes = c1.map((c) => toHex(c.asset))
    expect(hexes).toEqual([...hexes].sort())
    for (const c of c1) {
      const m = assets.find((x) => toHex(x.asset) === toHex(c.asset))!.manifest
      expect(c.chunkIndex).toBeLessThan(computeChunkCount(m.shardSize, m.chunkSize))
      expect(c.host).toEqual(placement[c.shardIndex])
    }
  })

  it('change with the seed and the epoch', () => {
    const base = deriveAuditChallenges(seed, 7, assets).map((c) => c.chunkIndex)
    expect(deriveAuditChallenges(hash(utf8('other')), 7, assets).map((c) => c.chunkIndex)).not.toEqual(base)
    expect(deriveAuditChallenges(seed, 8, assets).map((c) => c.chunkIndex)).not.toEqual(base)
  })

  it('reject duplicate assets and placements of the wrong length', () => {
    expect(() => deriveAuditChallenges(seed, 1, [assets[0]!, assets[0]!])).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
    expect(() => deriveAuditChallenges(seed, 1, [{ ...assets[0]!, placement: placement.slice(1) }])).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS' }))
  })

  it('over the cap, a seeded sample of whole assets is audited, changing with the epoch', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ asset: hash(utf8(`many-${i}`)), manifest: b.manifest, placement }))
    const e1 = deriveAuditChallenges(seed, 1, many, 60)
    expect(e1).toHaveLength(60)
    expect(deriveAuditChallenges(seed, 1, [...many].reverse(), 60)).toEqual(e1)
    const assetsOf = (cs: typeof e1) => [...new Set(cs.map((c) => toHex(c.asset)))]
    expect(assetsOf(e1)).toHaveLength(10)
    expect(assetsOf(e1)).toEqual([...assetsOf(e1)].sort())
    for (const a of assetsOf(e1)) expect(e1.filter((c) => toHex(c.asset) === a)).toHaveLength(6)
    expect(assetsOf(deriveAuditChallenges(seed, 2, many, 60))).not.toEqual(assetsOf(e1))
    expect(deriveAuditChallenges(seed, 1, many)).toHaveLength(240)
  })

  it('the sample also keeps the hosts to be paid under a cap', () => {
    // 30 assets on disjoint host sets of 6: at most 3 assets fit under 20 hosts.
    const many = Array.from({ length: 30 }, (_, i) => ({
      asset: hash(utf8(`disjoint-${i}`)),
      manifest: b.manifest,
      placement: Array.from({ length: 6 }, (_, j) => hostAddress(1000 + 6 * i + j)),
    }))
    const cs = deriveAuditChallenges(seed, 1, many, 10_000, 20)
    expect(new Set(cs.map((c) => toHex(c.host))).size).toBe(18)
  })

  it('epochs are auditEpochSlots long', () => {
    expect(computeAuditEpoch(0, 10)).toBe(0)
    expect(computeAuditEpoch(19, 10)).toBe(1)
    expect(() => computeAuditEpoch(5, 0)).toThrow()
  })
})

describe('audit results', () => {
  const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(20_001)), P)
  const asset = hash(utf8('asset'))
  const challenges = deriveAuditChallenges(hash(utf8('seed')), 1, [{ asset, manifest, placement }])

  it('an honest answer passes and verifies', () => {
    for (const c of challenges) {
      const answer = computeChunkProof(shards[c.shardIndex]!, manifest.chunkSize, c.chunkIndex)
      const r = computeAuditResult(manifest, c, answer)
      expect(r.outcome).toBe(AUDIT_OUTCOME.pass)
      expect(verifyAuditResult(manifest, c, r)).toBe(true)
      // A proposer cannot turn a good answer into a recorded failure.
      expect(verifyAuditResult(manifest, c, { ...r, outcome: AUDIT_OUTCOME.fail })).toBe(false)
    }
  })

  it('garbage, a wrong chunk index, or a truncated path fails', () => {
    const c = challenges[0]!
    const good = computeChunkProof(shards[c.shardIndex]!, manifest.chunkSize, c.chunkIndex)
    const garbage = { chunk: new Uint8Array(randomBytes(good.chunk.length)), path: good.path }
    const other = computeChunkProof(shards[c.shardIndex]!, manifest.chunkSize, (c.chunkIndex + 1) % 10)
    const otherShard = computeChunkProof(shards[(c.shardIndex + 1) % 6]!, manifest.chunkSize, c.chunkIndex)
    for (const bad of [garbage, other, otherShard, { chunk: good.chunk, path: good.path.slice(1) }, { chunk: good.chunk.subarray(1), path: good.path }]) {
      const r = computeAuditResult(manifest, c, bad)
      expect(r.outcome).toBe(AUDIT_OUTCOME.fail)
      expect(verifyAuditResult(manifest, c, r)).toBe(true)
      expect(verifyAuditResult(manifest, c, { ...r, outcome: AUDIT_OUTCOME.pass })).toBe(false)
    }
  })

  it('no answer is recorded empty and checked against its challenge', () => {
    const c = challenges[2]!
    const r = computeAuditResult(manifest, c, undefined)
    expect(r).toMatchObject({ outcome: AUDIT_OUTCOME.noAnswer, chunk: new Uint8Array(0), path: [] })
    expect(verifyAuditResult(manifest, c, r)).toBe(true)
    expect(verifyAuditResult(manifest, challenges[3]!, r)).toBe(false)
    expect(verifyAuditResult(manifest, c, { ...r, outcome: 9 })).toBe(false)
    expect(computeAuditOutcome(manifest, { ...c, chunkIndex: 1_000_000 }, { chunk: new Uint8Array(0), path: [] })).toBe(AUDIT_OUTCOME.fail)
  })
})
