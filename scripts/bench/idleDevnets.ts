/**
 * Idle cost per block of one or more builds' devnets, **side by side over the same windows** (the
 * machine's load moves CPU figures by ±30 %; two devnets measured together see the same load):
 * starts `scripts/devnet.ts` of each `--repo` (4 validators + 6 hosts, its own free ports, data
 * under `--work`), waits until all are up, then over `--rounds` windows of `--secs` reads each
 * devnet's validators' and hosts' CPU from /proc and its blocks from validator 0, and prints per
 * round and the median of rounds the CPU ms per block per validator and per host. With
 * `--slot-ms` every devnet runs on a copy of its genesis.json with that slot length (two runs at
 * two slot lengths split CPU into a fixed cost per second and a cost per block). Last line: JSON.
 *
 *   npx tsx scripts/bench/idleDevnets.ts --repo /work/main --repo . --work .idle --rounds 3 --secs 20
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

import { createClient, getChainStatus, http } from '../../src/client/index.ts'
import { devnetCpuByRole, launchDevnet, type LaunchedDevnet } from './support/launchDevnet.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { repo: { type: 'string', multiple: true, default: ['.'] }, work: { type: 'string', default: '.idle-devnets' }, rounds: { type: 'string', default: '3' }, secs: { type: 'string', default: '20' }, 'slot-ms': { type: 'string' }, 'settle-secs': { type: 'string', default: '5' } } })
const work = resolve(values.work)
rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
// `--repo DIR@SLOTMS` runs that devnet at its own slot length (one run, two slot lengths: F and B).
const repos = values.repo.map((r) => resolve(r.split('@')[0]!))
const slots = values.repo.map((r) => r.split('@')[1] ?? values['slot-ms'])
const V = 4
const H = 6

const devnets: LaunchedDevnet[] = []
const stopAll = async (): Promise<void> => {
  await Promise.all(devnets.map((d) => d.group.stop()))
}
process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)))

try {
  for (const [i, repo] of repos.entries()) {
    let genesisFile: string | undefined
    if (slots[i]) {
      const g = JSON.parse(readFileSync(join(repo, 'genesis.json'), 'utf8')) as { slotMs: number }
      g.slotMs = Number(slots[i])
      genesisFile = join(work, `genesis-${i}.json`)
      writeFileSync(genesisFile, JSON.stringify(g, null, 2))
    }
    mkdirSync(join(work, `d${i}`), { recursive: true })
    devnets.push(await launchDevnet({ repoRoot: repo, workDir: join(work, `d${i}`), validators: V, hosts: H, attempt: 0, logLevel: 'warn', readyTimeoutMs: 400_000, ...(genesisFile ? { genesisFile } : {}) }))
  }
  const urls = await Promise.all(devnets.map((d) => d.ready))
  const clients = urls.map((u) => createClient({ transport: http(u.validators[0]!) }))
  await sleep(Number(values['settle-secs']) * 1000)
  const rounds: { load: number; per: Record<string, number>[] }[] = []
  for (let r = 0; r < Number(values.rounds); r++) {
    const h0 = await Promise.all(clients.map(async (c) => (await getChainStatus(c)).head.height))
    const c0 = devnets.map((d) => devnetCpuByRole(d))
    await sleep(Number(values.secs) * 1000)
    const h1 = await Promise.all(clients.map(async (c) => (await getChainStatus(c)).head.height))
    const c1 = devnets.map((d) => devnetCpuByRole(d))
    const per = devnets.map((_, i) => {
      const blocks = h1[i]! - h0[i]!
      return { blocks, validatorMsPerBlock: round(((c1[i]!.validators - c0[i]!.validators) * 1000) / Math.max(1, blocks) / V, 2), hostMsPerBlock: round(((c1[i]!.hosts - c0[i]!.hosts) * 1000) / Math.max(1, blocks) / H, 2), validatorMsPerSec: round(((c1[i]!.validators - c0[i]!.validators) * 1000) / Number(values.secs) / V, 2), hostMsPerSec: round(((c1[i]!.hosts - c0[i]!.hosts) * 1000) / Number(values.secs) / H, 2) }
    })
    const load = round(loadavg()[0]!, 1)
    rounds.push({ load, per })
    console.error(JSON.stringify({ round: r, load, per }))
  }
  await Promise.all(clients.map((c) => c.close()))
  const summary = repos.map((repo, i) => ({ repo, slotMs: slots[i] ?? 'genesis', blocks: median(rounds.map((r) => r.per[i]!.blocks!)), validatorMsPerBlock: median(rounds.map((r) => r.per[i]!.validatorMsPerBlock!)), validatorMsPerSec: median(rounds.map((r) => r.per[i]!.validatorMsPerSec!)), hostMsPerSec: median(rounds.map((r) => r.per[i]!.hostMsPerSec!)), hostMsPerBlock: median(rounds.map((r) => r.per[i]!.hostMsPerBlock!)) }))
  console.log(JSON.stringify({ secs: Number(values.secs), loads: rounds.map((r) => r.load), devnets: summary }))
} finally {
  await stopAll()
}
