/**
 * What starting an `xsc node` costs: CPU (user+sys of the whole process, /proc) and wall time from
 * spawn until its `ready` line, for bin/xsc.js running the compiled build (bin/build.mjs) and the
 * same through tsx (XSC_TSX=1), alternated round by round so both see the same load.
 *
 *   npx tsx scripts/bench/nodeStart.ts [-- --rounds 6 --host]
 *
 * --host starts a node without a validator key (what test networks start six of).
 * Last line: one JSON object (medians per mode, and the 1-minute load average before and after).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { ensureBuild } from '../../bin/build.mjs'
import { computeValidatorBeaconCommitment } from '../../consensus/beacon.ts'
import { hash, keyPairFromSecret, utf8 } from '../../src/crypto/index.ts'
import { writeGenesisFile } from '../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../src/node/keyFile.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import { spawnTracked, waitForLine } from './support/processes.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, host: { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const MODES = { build: {}, tsx: { XSC_TSX: '1' } } as const
type Mode = keyof typeof MODES

const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-node-start-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const validator = keyPairFromSecret(hash(utf8('xsc-bench-node-start/validator')))
writeGenesisFile(join(dir, 'genesis.json'), {
  chainId: 'xsc-bench',
  genesisTime: BigInt(Date.now()),
  slotMs: 1000,
  tokenSymbol: 'XSC',
  tokenDecimals: 9,
  allocations: [],
  validators: [{ address: validator.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(validator.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) }],
  consensus: DEFAULT_CONSENSUS,
  params: DEFAULT_PARAMS,
})
writeKeyFile(join(dir, 'v.json'), validator)

const TICK = 100 // clock ticks per second (USER_HZ)
/** user+sys CPU seconds of a process, all its threads. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / TICK
}

async function start(mode: Mode, i: number): Promise<{ cpuMs: number; wallMs: number }> {
  const args = ['bin/xsc.js', 'node', '--data', join(dir, `d${i}`), '--genesis', join(dir, 'genesis.json'), '--rpc', '127.0.0.1:0', ...(values.host ? [] : ['--key', join(dir, 'v.json')])]
  const t0 = performance.now()
  const child = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, XSC_LOG_LEVEL: 'warn', ...MODES[mode] } })
  await waitForLine(child, (line) => (line.includes('"event":"ready"') ? true : undefined), { onExit: (code) => new Error(`node exited with ${code}`) })
  const wallMs = performance.now() - t0
  const cpuMs = cpuSeconds(child.pid!) * 1000
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
  return { cpuMs, wallMs }
}

await ensureBuild()
const load0 = loadavg()[0]!
const samples: Record<Mode, { cpuMs: number[]; wallMs: number[] }> = { build: { cpuMs: [], wallMs: [] }, tsx: { cpuMs: [], wallMs: [] } }
for (let r = 0; r < ROUNDS; r++) {
  const order: Mode[] = r % 2 === 0 ? ['build', 'tsx'] : ['tsx', 'build']
  for (const mode of order) {
    const s = await start(mode, r * 2 + order.indexOf(mode))
    samples[mode].cpuMs.push(s.cpuMs)
    samples[mode].wallMs.push(s.wallMs)
    console.log(`round ${r} ${mode}: cpu ${round(s.cpuMs)} ms, wall ${round(s.wallMs)} ms`)
  }
}
const summary = Object.fromEntries(Object.entries(samples).map(([m, s]) => [m, { cpuMs: round(median(s.cpuMs)), wallMs: round(median(s.wallMs)) }]))
console.log(JSON.stringify({ bench: 'nodeStart', node: values.host ? 'host' : 'validator', rounds: ROUNDS, ...summary, load1Before: round(load0, 1), load1After: round(loadavg()[0]!, 1) }))
