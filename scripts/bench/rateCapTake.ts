/**
 * CPU of one per-peer rate-cap `take` (PeerRateLimit) whose caps follow the validator set as the
 * validator network's vote cap does (`validatorCount()` → `Chain.validators()`, read twice a take:
 * burst and refill rate), on a real Chain opened on a one-validator bench genesis. Against the
 * same limiter with constant caps (the floor), alternated over `--rounds` (medians). Session 13:
 * `Chain.validators()` keyed its cache on the hex of the head hash, 1,119 ns a take against 96
 * for the floor; keyed on the head object it should sit at the floor.
 *
 *   npx tsx scripts/bench/rateCapTake.ts --takes 200000 --rounds 5
 */
import '../../src/polyfill.ts'

import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { Chain } from '../../src/chain/chain.ts'
import { PeerRateLimit } from '../../src/net/peerRateLimit.ts'
import { buildBenchGenesis } from './support/benchGenesis.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { takes: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } })
const takes = Number(values.takes)
const dir = mkdtempSync(join(tmpdir(), 'xsc-ratecap-'))
const { genesis, validator } = buildBenchGenesis({ name: 'ratecap', senders: 1, amount: 10n ** 12n })
const chain = await Chain.open({ dataDir: dir, genesis, validatorKey: validator, signatureWorkers: 0 })
const peers = Array.from({ length: 9 }, (_, i) => `12D3KooWLWgXL73ZNzcXk6xtApdoNXwd6DQ9b4WyzUHz7FYeqhx${i}`)
// As validatorNetwork.ts's vote cap: 8 messages per validator per slot.
const capsOf = (count: () => number): PeerRateLimit => new PeerRateLimit({ perSecond: () => (8 * count() * 1_000) / genesis.slotMs, burst: () => 8 * count() + 64 })
const ways: Record<string, () => PeerRateLimit> = { chainValidators: () => capsOf(() => chain.validators().length), constant: () => capsOf(() => 1) }
const nsPerTake: Record<string, number[]> = { chainValidators: [], constant: [] }
let admitted = 0
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [name, make] of Object.entries(ways)) {
    const limit = make()
    const start = process.cpuUsage()
    for (let i = 0; i < takes; i++) if (limit.take(peers[i % peers.length]!)) admitted++
    const used = process.cpuUsage(start)
    nsPerTake[name]!.push(((used.user + used.system) * 1_000) / takes)
  }
}
await chain.close()
rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify({ takes, chainValidatorsNsPerTake: round(median(nsPerTake.chainValidators!)), constantNsPerTake: round(median(nsPerTake.constant!)), rounds: nsPerTake, admitted, load1: round(loadavg()[0]!, 1) }))
