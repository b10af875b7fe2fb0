import { describe, expect, it } from 'vitest'

import { runScaleSim, type ScaleSimOptions } from '../../../scripts/sim/scaleSim.ts'

// `npm run sim:scale` at a size that runs in seconds: the same checks as the full run.
const small: ScaleSimOptions = {
  seed: 3, validators: 4, hosts: 400, assets: 1_500, heights: 400, deploysPerBlock: 100,
  failPercent: 3, leavePercent: 3, joinPercent: 3, k: 4, m: 2, blockIntervalMs: 500,
  repairMode: 'host-index', auditSamplesPerBlock: 512, clock: () => 0,
  liveness: true, livenessEpochSlots: 40, livenessMissThreshold: 2, livenessQuorumBlocks: 20, byzantinePercent: 25, heartbeatDelayBlocks: 3,
}
const TIMINGS = ['blockProcessingP50Ms', 'blockProcessingP99Ms', 'blockProcessingMaxMs', 'blockCpuP50Ms', 'blockCpuP99Ms'] as const

describe('scale simulation', () => {
  it('is deterministic for a seed, places every asset and repairs what leaving and failed hosts held', { timeout: 120_000 }, () => {
    const a = runScaleSim(small)
    const b = runScaleSim(small)
    for (const r of [a, b]) for (const t of TIMINGS) r[t] = 0
    expect(b).toEqual(a)
    expect(a.safetyViolations).toBe(0)
    expect(a.assets).toBe(1_500)
    expect(a.hostsFailed).toBe(12)
    expect(a.hostsLeft).toBe(12)
    expect(a.hostsJoined).toBe(12)
    expect(a.challenges).toBeGreaterThan(0)
    // Leaving hosts' shards are moved, failed hosts are caught by audits (then their shards move).
    expect(a.repairs).toBeGreaterThan(0)
    expect(a.failedHostsDetected).toBeGreaterThan(0)
    expect(a.assetsLost).toBe(0)
    // The liveness rule finds every failed host (and no live one, though a quarter of the proposers censor), and repair keeps up.
    expect(a.hostsFailedBeforeDetectionBound).toBeGreaterThan(4)
    expect(a.failedHostsDetected).toBeGreaterThanOrEqual(a.hostsFailedBeforeDetectionBound)
    expect(a.honestHostsSuspended).toBe(0)
    expect(a.assetsBelowKPlus1).toBeLessThanOrEqual(a.analyticEverBelowKPlus1)
    expect(a.detectionBlocksMax).toBeLessThanOrEqual((small.livenessMissThreshold + 1) * small.livenessEpochSlots)
    // Without it, sampled audits find fewer of them.
    expect(runScaleSim({ ...small, liveness: false }).failedHostsDetected).toBeLessThan(a.failedHostsDetected)
    // Another seed is another run.
    expect(runScaleSim({ ...small, seed: 4 }).repairs).not.toBe(a.repairs)
  })
})
