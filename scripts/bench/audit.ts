// Audit benchmark: the audit block of a chain holding 1k and 100k assets (16 MiB modules, the
// largest a module may be, so Merkle paths are at their longest), with the devnet genesis
// (256-byte chunks, auditSamplesPerBlock). Every answer is a real chunk proof. Reports the audit
// entry's encoded bytes, the largest single result, and a validator's time to check and apply the
// entry (applyAudit: re-derive the sample, verify each proof, recompute rent/reputation/repairs).
// State is written directly (not through blocks). Last line: one JSON object.
// Usage: npm run bench:audit [-- --runs 5 --assetMib 16]
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'

import { encode } from '../../blocks/codec.ts'
import { AUDIT_OUTCOME, AuditResult, BlockEntry } from '../../blocks/schema.ts'
import { applyAudit, computeAuditBlockEntry } from '../../src/state/applyAudit.ts'
import { StateOverlay } from '../../src/state/stateView.ts'
import { buildAuditState } from '../../test/support/auditState.ts'
import { median, round } from './support/stats.ts'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const RUNS = arg('runs', 5)
const ASSET_BYTES = arg('assetMib', 16) * 1024 * 1024
const MIB = 1024 * 1024

function measure(assets: number): { blockBytes: number; maxResultBytes: number; results: number; verifyMs: number; buildMs: number } {
  const t0 = performance.now()
  const fixture = buildAuditState({ assets, hosts: 200, assetBytes: ASSET_BYTES })
  console.error(`  ${assets} assets written in ${Math.round(performance.now() - t0)} ms`)
  const blockBytes: number[] = []
  const verify: number[] = []
  const build: number[] = []
  let maxResultBytes = 0
  let results = 0
  for (let r = 0; r < RUNS; r++) {
    const ctx = fixture.context(1000 + r, 10 + r)
    let t = performance.now()
    const out = computeAuditBlockEntry(fixture.state, ctx, (c) => fixture.answer(c))
    build.push(performance.now() - t)
    if (!out.entry.results.every((x) => x.outcome === AUDIT_OUTCOME.pass)) throw new Error('an honest answer did not pass')
    blockBytes.push(encode(BlockEntry, out.entry).length)
    for (const x of out.entry.results) maxResultBytes = Math.max(maxResultBytes, encode(AuditResult, x).length)
    results = out.entry.results.length
    t = performance.now()
    applyAudit(new StateOverlay(fixture.state), out.entry, ctx)
    verify.push(performance.now() - t)
  }
  return { blockBytes: Math.max(...blockBytes), maxResultBytes, results, verifyMs: round(median(verify), 1), buildMs: round(median(build), 1) }
}

console.error(`audit bench: ${RUNS} audit blocks per size, ${ASSET_BYTES / MIB} MiB assets`)
const small = measure(1_000)
console.error(`  1k: ${small.blockBytes} B, ${small.results} results, verify ${small.verifyMs} ms`)
const large = measure(100_000)
console.error(`  100k: ${large.blockBytes} B, ${large.results} results, verify ${large.verifyMs} ms`)
console.log(JSON.stringify({
  auditBlockBytes1k: small.blockBytes,
  auditBlockBytes100k: large.blockBytes,
  goalBytes: MIB,
  withinGoal: large.blockBytes <= MIB,
  auditVerifyMs1k: small.verifyMs,
  auditVerifyMs100k: large.verifyMs,
  auditBuildMs100k: large.buildMs,
  resultsPerBlock: large.results,
  maxResultBytes: Math.max(small.maxResultBytes, large.maxResultBytes),
  assetMib: ASSET_BYTES / MIB,
  runs: RUNS,
  loadavg: loadavg().map((x) => round(x, 2)),
}))
