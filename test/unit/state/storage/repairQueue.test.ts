import { describe, expect, it } from 'vitest'

import { equalBytes, toHex } from '../../../../src/crypto/index.ts'
import { applyAudit, computeAuditBlockEntry } from '../../../../src/state/applyAudit.ts'
import { HOST_STATUS } from '../../../../src/state/records.ts'
import { StateOverlay } from '../../../../src/state/stateView.ts'
import { queueRepairsOfHost, readAssetsOfHost, readRepairQueue, REPAIRS_PER_AUDIT, writeAssetRecord } from '../../../../src/state/storage/repairQueue.ts'
import { TABLES } from '../../../../src/state/tables.ts'
import { buildAuditState } from '../../../support/auditState.ts'

/** A lost host's shards move in the next audit blocks, not when their assets happen to be sampled. */
describe('the repair queue', () => {
  it('the host → shards table follows every placement change and drops a deleted asset', () => {
    const f = buildAuditState({ assets: 20, hosts: 12 })
    const s = new StateOverlay(f.state)
    const host = f.hostAddresses[0]!
    const held = readAssetsOfHost(s, host)
    const expected = f.assetIds.filter((id) => s.read(TABLES.asset.at(id))!.placement.some((h) => equalBytes(h, host)))
    expect(held.map(toHex).sort()).toEqual(expected.map(toHex).sort())
    const [first] = held
    const record = s.read(TABLES.asset.at(first!))!
    const moved = record.placement.map((h) => (equalBytes(h, host) ? f.hostAddresses[11]! : h))
    writeAssetRecord(s, first!, { ...record, placement: moved })
    expect(readAssetsOfHost(s, host).some((a) => equalBytes(a, first!))).toBe(false)
    expect(readAssetsOfHost(s, f.hostAddresses[11]!).some((a) => equalBytes(a, first!))).toBe(true)
    writeAssetRecord(s, first!, undefined)
    expect(readAssetsOfHost(s, f.hostAddresses[11]!).some((a) => equalBytes(a, first!))).toBe(false)
  })

  it('a draining host among 1000 assets (6 sampled per audit) has all its shards moved within a few audit blocks', () => {
    const f = buildAuditState({ assets: 1000, hosts: 30, params: { auditSamplesPerBlock: 36, vettingPasses: 0 }, hostBond: 10n ** 12n })
    const leaving = f.hostAddresses[0]!
    const s = new StateOverlay(f.state)
    s.write(TABLES.host.at(leaving), { ...s.read(TABLES.host.at(leaving))!, status: HOST_STATUS.draining })
    queueRepairsOfHost(s, leaving) // as host.leave does (applyLedger)
    const held = readAssetsOfHost(s, leaving).length
    expect(held).toBe(200) // 1000 × 6 shards over 30 hosts
    f.state.apply(s.writeSet())
    let audits = 0
    for (let e = 1; readRepairQueue(f.state, 1).length > 0; e++) {
      expect(e).toBeLessThanOrEqual(Math.ceil(held / REPAIRS_PER_AUDIT) + 1)
      const ctx = f.context(1000 + e, e)
      const out = computeAuditBlockEntry(f.state, ctx, (c) => f.answer(c))
      const o = new StateOverlay(f.state)
      applyAudit(o, out.entry, ctx)
      f.state.apply(o.writeSet())
      audits++
    }
    // Sampling alone would have reached about 6 of its 200 assets per audit block.
    expect(audits).toBeLessThanOrEqual(Math.ceil(held / REPAIRS_PER_AUDIT) + 1)
    expect(readAssetsOfHost(f.state, leaving)).toEqual([])
    for (const id of f.assetIds) expect(f.state.get(TABLES.asset.key(id))).toBeDefined()
  })
})
