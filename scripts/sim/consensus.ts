/**
 * Deterministic consensus simulator (see consensusSim.ts).
 *
 *   npm run sim:consensus -- --seeds N [--seed S] [--validators 4|7|10|16|100[,…]] [--unsafe-ignore-locks]
 *
 * Runs seeds S..S+N−1 (default S = 1) for each validator count (default 4 and 7, alternating).
 * Prints the replay command of every failing seed; the last line is one JSON object. Exit code 1
 * when any seed failed (unless --unsafe-ignore-locks, where failures are the expected outcome).
 */
import { runConsensusSims, type SimSummary } from './consensusSim.ts'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const seeds = Number(arg('--seeds') ?? '100')
const first = Number(arg('--seed') ?? '1')
const validatorsArg = arg('--validators')
const counts = validatorsArg === undefined ? [4, 7] : validatorsArg.split(',').map(Number)
const unsafe = process.argv.includes('--unsafe-ignore-locks')
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(first) || counts.some((c) => !Number.isSafeInteger(c) || c < 1)) {
  console.error('usage: npm run sim:consensus -- --seeds N [--seed S] [--validators 4,7,…] [--unsafe-ignore-locks]')
  process.exit(2)
}

// With several counts and no explicit list, seeds alternate; with an explicit list each count gets its own run.
const byValidators: Record<string, { seeds: number; committedHeights: number; wallMs: number; commitsPerSecond: number; safetyViolations: number; livenessFailures: number; slashedEquivocations: number }> = {}
const runs: SimSummary[] = []
const groups = validatorsArg === undefined ? [counts] : counts.map((c) => [c])
for (const group of groups) {
  const summary = runConsensusSims({ first, count: seeds, validators: group, unsafeIgnoreLocks: unsafe, clock: () => performance.now() })
  runs.push(summary)
  for (const f of summary.failingSeeds) {
    console.log(`FAIL seed ${f.seed} (${f.validators} validators): ${f.reasons[0]}`)
    console.log(`  replay: ${f.replay}`)
  }
  if (validatorsArg !== undefined) {
    byValidators[String(group[0])] = {
      seeds: summary.seeds,
      committedHeights: summary.committedHeights,
      wallMs: Math.round(summary.wallMs),
      commitsPerSecond: Math.round((summary.committedHeights / (summary.wallMs / 1000)) * 10) / 10,
      safetyViolations: summary.safetyViolations,
      livenessFailures: summary.livenessFailures,
      slashedEquivocations: summary.slashedEquivocations,
    }
  }
}
const total = runs.reduce((a, s) => ({
  seeds: a.seeds + s.seeds,
  safetyViolations: a.safetyViolations + s.safetyViolations,
  livenessFailures: a.livenessFailures + s.livenessFailures,
  slashingFailures: a.slashingFailures + s.slashingFailures,
  slashedEquivocations: a.slashedEquivocations + s.slashedEquivocations,
  committedHeights: a.committedHeights + s.committedHeights,
  wallMs: a.wallMs + s.wallMs,
}), { seeds: 0, safetyViolations: 0, livenessFailures: 0, slashingFailures: 0, slashedEquivocations: 0, committedHeights: 0, wallMs: 0 })
const failed = total.safetyViolations + total.livenessFailures + total.slashingFailures > 0
console.log(JSON.stringify({
  seeds: total.seeds,
  firstSeed: first,
  validators: counts,
  unsafeIgnoreLocks: unsafe,
  safetyViolations: total.safetyViolations,
  livenessFailures: total.livenessFailures,
  slashingFailures: total.slashingFailures,
  slashedEquivocations: total.slashedEquivocations,
  committedHeights: total.committedHeights,
  commitsPerSecond: Math.round((total.committedHeights / (total.wallMs / 1000)) * 10) / 10,
  wallMs: Math.round(total.wallMs),
  ...(validatorsArg !== undefined ? { byValidators } : {}),
}))
process.exitCode = failed && !unsafe ? 1 : 0
