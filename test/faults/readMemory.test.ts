import { describe, expect, it } from 'vitest'

import { runLargeBlobScenario } from '../support/largeBlobScenario.ts'

/**
 * The node's side of a read is bounded by its window of shard ranges (streamAsset: depth ×
 * (k+1) × 2 MiB), not by the blob: a validator serving `xsc get --via-node` of a blob four times the bound
 * grows by less than the bound (VmHWM reset just before the read). Whole-shard shard/get
 * responses, which libp2p queued ahead of the reader, took ~400 MiB extra for 320 MiB.
 * Real processes (one validator, six hosts); ~5 min on the shared 2-core machine.
 */
const MIB = Number(process.env.XSC_READ_MEMORY_MIB ?? 384)
const BOUND_MIB = 96

describe('the node serving a read holds a window, not the blob', () => {
  it(`xsc get --via-node of ${MIB} MiB: the validator grows by less than ${BOUND_MIB} MiB`, async () => {
    const r = await runLargeBlobScenario('read-memory', MIB, (line) => console.log(line))
    console.log(JSON.stringify(r))
    expect(r.read.validatorPeakMiB).toBeGreaterThan(0)
    expect(r.read.validatorPeakMiB - r.read.validatorRssBeforeMiB).toBeLessThan(BOUND_MIB)
    expect(MIB).toBeGreaterThanOrEqual(4 * BOUND_MIB)
    // The default read (the CLI reading the hosts' HTTP servers) holds a window too.
    expect(r.peakRssMiB.getCli).toBeLessThan(4 * BOUND_MIB)
  }, 3_600_000)
})
