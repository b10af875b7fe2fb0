import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { encode } from '../../../../blocks/codec.ts'
import { AUDIT_OUTCOME, AuditResult, BlockEntry } from '../../../../blocks/schema.ts'
import { hash, toHex, u32be } from '../../../../src/crypto/index.ts'
import { applyAudit, computeAuditBlockEntry, computeAuditInput, isAuditDue } from '../../../../src/state/applyAudit.ts'
import { MemoryState, StateOverlay } from '../../../../src/state/stateView.ts'
import { addToAuditIndex, computeAuditSamplePositions, isInAuditIndex, readAuditIndexAt, readAuditIndexCount, removeFromAuditIndex } from '../../../../src/state/storage/auditIndex.ts'
import { computeAuditChallenges } from '../../../../src/state/storage/computeAuditEntry.ts'
import { TABLES } from '../../../../src/state/tables.ts'
import { buildAuditState } from '../../../support/auditState.ts'

/** Audits sample a bounded number of shards per block from a state-kept index, never every asset. */

describe('audit index', () => {
  it('stays dense and matches the set of added assets under any add/remove sequence', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 })), { maxLength: 120 }), (ops) => {
      const state = new StateOverlay(new MemoryState())
      const model = new Set<string>()
      for (const [add, n] of ops) {
        const id = hash(u32be(n))
        if (add) {
          addToAuditIndex(state, id)
          model.add(toHex(id))
        } else {
          removeFromAuditIndex(state, id)
          model.delete(toHex(id))
        }
      }
      const count = readAuditIndexCount(state)
      expect(count).toBe(model.size)
      const listed = new Set(Array.from({ length: count }, (_, i) => toHex(readAuditIndexAt(state, i))))
      expect(listed).toEqual(model)
      for (let n = 0; n <= 30; n++) expect(isInAuditIndex(state, hash(u32be(n)))).toBe(model.has(toHex(hash(u32be(n)))))
    }))
  })

  it('samples distinct positions, at most the wanted number, the same for the same seed and epoch', () => {
    const seed = hash(u32be(1))
    const a = computeAuditSamplePositions(seed, 5, 10_000, 85)
    expect(a).toHaveLength(85)
    expect(new Set(a).size).toBe(85)
    expect(a.every((n) => n >= 0 && n < 10_000)).toBe(true)
    expect(computeAuditSamplePositions(seed, 5, 10_000, 85)).toEqual(a)
    expect(computeAuditSamplePositions(seed, 6, 10_000, 85)).not.toEqual(a)
    expect(computeAuditSamplePositions(seed, 5, 7, 85)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(computeAuditSamplePositions(seed, 5, 0, 85)).toEqual([])
  })
})

describe('acknowledged shards only', () => {
  it('a shard its host never acknowledged is not challenged', () => {
    const fixture = buildAuditState({ assets: 1 })
    const [asset] = fixture.assetIds
    const record = new StateOverlay(fixture.state).read(TABLES.asset.at(asset!))!
    const input = { seed: hash(u32be(3)), epoch: 4, height: 100, assets: [{ asset: asset!, record: { ...record, acked: [1, 1, 0, 1, 1, 1] } }] }
    expect(computeAuditChallenges(input).map((c) => c.shardIndex)).toEqual([0, 1, 3, 4, 5])
    expect(computeAuditChallenges({ ...input, assets: [{ asset: asset!, record }] }).map((c) => c.shardIndex)).toEqual([0, 1, 2, 3, 4, 5])
  })
})

describe('sampled audit blocks', () => {
  const SAMPLES = 60 // 10 assets of 4+2 shards per audit block
  const fixture = buildAuditState({ assets: 1000, params: { auditSamplesPerBlock: SAMPLES } })

  it('an audit block challenges auditSamplesPerBlock shards out of 1000 assets, all from the index', () => {
    const ctx = fixture.context(100, 9)
    const input = computeAuditInput(fixture.state, ctx)
    expect(input.assets).toHaveLength(SAMPLES / 6)
    const challenges = computeAuditChallenges(input)
    expect(challenges).toHaveLength(SAMPLES)
    const out = computeAuditBlockEntry(fixture.state, ctx, (c) => fixture.answer(c))
    expect(out.entry.results.every((r) => r.outcome === AUDIT_OUTCOME.pass)).toBe(true)
    for (const r of out.entry.results) expect(encode(AuditResult, r).length).toBeLessThan(1024)
    expect(encode(BlockEntry, out.entry).length).toBeLessThan(SAMPLES * 1024)
  })

  it('a validator applying the entry accepts it and rejects one that audits another sample', () => {
    const ctx = fixture.context(100, 9)
    const out = computeAuditBlockEntry(fixture.state, ctx, (c) => fixture.answer(c))
    const overlay = new StateOverlay(fixture.state)
    applyAudit(overlay, out.entry, ctx)
    const other = computeAuditBlockEntry(fixture.state, fixture.context(101, 9), (c) => fixture.answer(c))
    expect(() => applyAudit(new StateOverlay(fixture.state), { ...other.entry }, ctx)).toThrow(/audit entry rejected/)
  })

  it('every asset is sampled about once every N·(k+m)/auditSamplesPerBlock epochs', () => {
    const small = buildAuditState({ assets: 200, params: { auditSamplesPerBlock: SAMPLES } })
    const seen = new Map<string, number>()
    const EPOCHS = 400 // expected 400 × 10 / 200 = 20 samples per asset
    for (let e = 1; e <= EPOCHS; e++) {
      for (const a of computeAuditInput(small.state, small.context(1000 + e, e)).assets) seen.set(toHex(a.asset), (seen.get(toHex(a.asset)) ?? 0) + 1)
    }
    expect(seen.size).toBe(200)
    const counts = [...seen.values()]
    expect(counts.reduce((s, n) => s + n, 0)).toBe(EPOCHS * 10)
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(5)
    expect(Math.max(...counts)).toBeLessThanOrEqual(40)
  })

  it('a sampled asset settles rent for every epoch since it was last settled', () => {
    const ctx = fixture.context(100, 9)
    const out = computeAuditBlockEntry(fixture.state, ctx, (c) => fixture.answer(c))
    // No asset paid since epoch 0: epochs 0..9 of 6 shards × shardSize × ask 1 each.
    const shardSize = out.assets[0]!.record.manifest.shardSize
    const paid = out.entry.rent.reduce((s, p) => s + p.amount, 0n)
    expect(paid).toBe(BigInt(SAMPLES) * shardSize * 10n)
    expect(out.assets.every((a) => a.record.rentEpoch === 10)).toBe(true)
  })

  it('audits still catch a host that dropped every shard: it fails each challenge it gets, others pass', () => {
    const small = buildAuditState({ assets: 200, params: { auditSamplesPerBlock: SAMPLES } })
    const dropper = small.hostAddresses[3]!
    const dropped = new Set([toHex(dropper)])
    let caught = 0
    for (let e = 1; e <= 20; e++) {
      const out = computeAuditBlockEntry(small.state, small.context(1000 + e, e), (c) => small.answer(c, dropped))
      for (const r of out.entry.results) {
        const isDropper = toHex(r.host) === toHex(dropper)
        expect(r.outcome).toBe(isDropper ? AUDIT_OUTCOME.noAnswer : AUDIT_OUTCOME.pass)
        if (isDropper) caught++
      }
    }
    // The dropper holds 1/60 of 1200 shards; 20 epochs × 60 challenges ⇒ 20 expected.
    expect(caught).toBeGreaterThan(0)
  })

  it('an expired asset leaves the index, so later samples never name it', () => {
    const one = buildAuditState({ assets: 3, params: { auditSamplesPerBlock: SAMPLES, rentGraceEpochs: 0 } })
    const poor = one.assetIds[1]!
    const s = new StateOverlay(one.state)
    const record = s.read(TABLES.asset.at(poor))!
    s.write(TABLES.asset.at(poor), { ...record, deposit: 0n })
    one.state.apply(s.writeSet())
    const ctx = one.context(100, 3)
    const out = computeAuditBlockEntry(one.state, ctx, (c) => one.answer(c))
    expect(out.entry.expired.map(toHex)).toEqual([toHex(poor)])
    const after = new StateOverlay(one.state)
    applyAudit(after, out.entry, ctx)
    expect(readAuditIndexCount(after)).toBe(2)
    expect(isInAuditIndex(after, poor)).toBe(false)
    expect(isAuditDue(after, 4 * one.genesis.params.auditEpochSlots, one.genesis.params.auditEpochSlots)).toBe(true)
  })
})
