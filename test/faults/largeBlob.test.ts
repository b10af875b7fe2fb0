import { describe, expect, it } from 'vitest'

import { runLargeBlobScenario } from '../support/largeBlobScenario.ts'

/**
 * Streaming end to end on real processes: a 4 GiB blob (XSC_LARGE_BLOB_MIB to change it)
 * deployed encrypted with `xsc deploy`, handed to six hosts and read back identical with
 * `xsc get`, while the validator, every host and both CLI runs stay under a memory bound far
 * below the blob's size (a whole-object buffer anywhere on the path would pass it). Needs about
 * 5.5 × the blob in free space under the temp dir (source, upload, hand-off scratch, shards, copy
 * read back). Too slow for `npm test` on a shared 2-core machine (64 MiB takes ~3.5 min there).
 */
const MIB = Number(process.env.XSC_LARGE_BLOB_MIB ?? 4096)
// The goal is 400 MiB; the node's read path (libp2p's stream iterator queues without
// backpressure) and `xsc deploy` do not meet it yet: 320 MiB measured validator 707-801 MiB,
// deploy 549 MiB (docs/storage.md). XSC_LARGE_BLOB_BOUND_MIB tightens it.
const BOUND_MIB = Number(process.env.XSC_LARGE_BLOB_BOUND_MIB ?? 1024)

describe('a 4 GiB blob streams end to end with bounded memory', () => {
  it(`${MIB} MiB: deploy, hand-off and xsc get with every process under ${BOUND_MIB} MiB RSS`, async () => {
    const r = await runLargeBlobScenario('large-blob', MIB, (line) => console.log(line))
    console.log(JSON.stringify(r))
    expect(r.peakRssMiB.validator).toBeGreaterThan(0)
    expect(r.peakRssMiB.validator).toBeLessThan(BOUND_MIB)
    for (const host of r.peakRssMiB.hosts) expect(host).toBeLessThan(BOUND_MIB)
    expect(r.peakRssMiB.deployCli).toBeLessThan(BOUND_MIB)
    expect(r.peakRssMiB.getCli).toBeLessThan(BOUND_MIB)
  }, 3 * 3_600_000)
})
