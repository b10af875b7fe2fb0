/**
 * Consensus simulator throughput: simulated commits per wall second with 4, 16 and 100
 * validators (adversarial seeds as in `npm run sim:consensus`: twins, withholders, splitters,
 * partitions, loss). Every signature is a real ed25519 signature through src/crypto and every
 * vote a real codec encoding, so the figure is the cost of the protocol core itself.
 *
 *   npm run bench:consensus [-- --seeds4 40 --seeds16 10 --seeds100 2]
 *
 * Last line: one JSON object. Baseline in the same run: the 4-validator figure (ratios below it).
 */
import { loadavg } from 'node:os'

import { runConsensusSims } from '../sim/consensusSim.ts'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

const plan: [number, number][] = [[4, arg('--seeds4', 40)], [16, arg('--seeds16', 10)], [100, arg('--seeds100', 2)]]
const byValidators: Record<string, { seeds: number; committedHeights: number; wallMs: number; commitsPerSecond: number; failures: number }> = {}
for (const [validators, seeds] of plan) {
  const s = runConsensusSims({ first: 1, count: seeds, validators: [validators], clock: () => performance.now() })
  const commitsPerSecond = Math.round((s.committedHeights / (s.wallMs / 1000)) * 10) / 10
  byValidators[String(validators)] = { seeds, committedHeights: s.committedHeights, wallMs: Math.round(s.wallMs), commitsPerSecond, failures: s.failingSeeds.length }
  console.log(`${validators} validators: ${s.committedHeights} commits in ${Math.round(s.wallMs)} ms over ${seeds} seeds = ${commitsPerSecond} commits/s; failing seeds ${s.failingSeeds.length}`)
}
const base = byValidators['4']!.commitsPerSecond
console.log(JSON.stringify({
  commitsPerSecond: base,
  byValidators,
  ratioToFour: Object.fromEntries(Object.entries(byValidators).map(([k, v]) => [k, Math.round((v.commitsPerSecond / base) * 1000) / 1000])),
  loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
}))
