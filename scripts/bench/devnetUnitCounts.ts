/**
 * Work per unit of work on a running devnet whose nodes carry the count preloads (docs/devnet.md,
 * "Session 13: work per unit"): verifies, signs, hashes, codec encodes and decodes by type and by
 * caller, LevelDB batches, socket writes, gossip messages, per included transfer and per agreed
 * execution, for validators and hosts separately. Three windows, each opened and closed by
 * SIGUSR2 to every node process under --data: idle (`--idle-secs`: what a block costs with
 * nothing sent), transfers (8 senders, 200 in flight each, `--secs`), executions (8 senders, 16 in
 * flight each against one fib.wasm asset, `--exec-secs`). A loaded window's counts minus its
 * blocks × the idle counts per block, divided by the units, per node of the role (mean over the
 * role's nodes). Start the devnet with
 *   COUNT_DIR=/tmp/x NODE_OPTIONS="--import ./scripts/bench/support/idleCountsPreload.mjs --import ./scripts/bench/support/unitCountsPreload.mjs" \
 *     npx tsx scripts/devnet.ts --data /tmp/x-dn --rpc-port 44000
 * then: npx tsx scripts/bench/devnetUnitCounts.ts --data /tmp/x-dn --rpc-port 44000 --count-dir /tmp/x [--top 60]
 * Last line: one JSON object (per role, per unit: the `--top` largest keys). `--profile-phase transfers|executions`:
 * the nodes carry cpuProfilePreload.cjs with XSC_CPU_PROF_AFTER_MS=signal instead, and only that
 * window's start is signalled (its profile window is XSC_CPU_PROF_MS).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

import { COMPLETION_STATUS } from '../../blocks/schema.ts'
import { createClient, deploy, execute, getBalance, getChainParams, getChainStatus, getNonce, getTransaction, http, transfer } from '../../src/client/index.ts'
import { hash, keyPairFromSecret, toHex, utf8 } from '../../src/crypto/index.ts'
import { codingParamsOf, computeManifest } from '../../src/storage/encodeAsset.ts'
import { devnetKey } from '../devnetKeys.ts'
import { ChainWatcher } from './support/chainWatcher.ts'
import { closedLoad } from './support/closedLoad.ts'

const { values } = parseArgs({ options: { 'rpc-port': { type: 'string', default: '8545' }, data: { type: 'string', default: '.devnet' }, 'count-dir': { type: 'string' }, secs: { type: 'string', default: '15' }, 'exec-secs': { type: 'string', default: '15' }, 'idle-secs': { type: 'string', default: '10' }, tag: { type: 'string', default: 'a' }, top: { type: 'string', default: '60' }, skip: { type: 'string', default: '' }, 'profile-phase': { type: 'string' } } })
// The count files the preloads write: `<name>-<pid>.json`, `units-…` and `timers-…` likewise. Only
// these are removed between windows (an earlier version removed every .json under the directory,
// and with no --count-dir that was the working directory: package.json went with them).
const COUNT_FILE = /^[\w.-]+-\d+\.json$/
const profiling = values['profile-phase'] !== undefined
if (!profiling && values['count-dir'] === undefined) {
  console.error('devnetUnitCounts: --count-dir DIR is required (the COUNT_DIR the nodes write to), unless --profile-phase')
  process.exit(2)
}
const countDir = values['count-dir'] === undefined ? undefined : resolve(values['count-dir'])
const countFiles = (): string[] => (countDir === undefined ? [] : readdirSync(countDir).filter((f) => COUNT_FILE.test(f)))
const dataDir = resolve(values.data)
const base = Number(values['rpc-port'])
const TOP = Number(values.top)
const clients = [0, 1, 2, 3].map((i) => createClient({ transport: http(`http://127.0.0.1:${base + i}`, { timeoutMs: 15_000 }) }))
const c0 = clients[0]!
const params = await getChainParams(c0)
const chainId = params.chainId
const key = (name: string) => keyPairFromSecret(hash(utf8(`devnet-unit-counts/${values.tag}/${name}`)))

type Counts = Record<string, number>
type Role = 'validator' | 'host'
/** The node processes under --data and their role. */
function nodes(): { pid: number; role: Role }[] {
  const out = execFileSync('pgrep', ['-af', `xsc.js node --data ${dataDir}/`]).toString().trim().split('\n')
  return out.filter(Boolean).map((l) => ({ pid: Number(l.split(' ')[0]), role: l.includes(`${dataDir}/validator-`) ? 'validator' as const : 'host' as const }))
}
const signalAll = (): void => { for (const n of nodes()) process.kill(n.pid, 'SIGUSR2') }
// SIGUSR2 ends a Node process that has no handler for it: refuse to run unless every node has one (the preload installs it
// only when configured: XSC_CPU_PROF_AFTER_MS=signal, COUNT_DIR). SigCgt is the mask of caught signals; SIGUSR2 is 12.
const catchesSigusr2 = (pid: number): boolean => {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]
  return mask !== undefined && ((BigInt(`0x${mask}`) >> 11n) & 1n) === 1n
}
const bare = nodes().filter((n) => !catchesSigusr2(n.pid))
if (bare.length > 0) {
  const preload = profiling ? 'cpuProfilePreload.cjs with XSC_CPU_PROF_AFTER_MS=signal' : 'the count preloads with COUNT_DIR'
  console.error(`devnetUnitCounts: node process(es) ${bare.map((n) => n.pid).join(', ')} under ${dataDir} have no SIGUSR2 handler (start the devnet with ${preload}, see the header): the window's signal would kill them`)
  process.exit(2)
}
/** Opens a window; its close returns the summed counts per role, the node count per role, blocks. */
async function window(phase: string): Promise<() => Promise<{ perRole: Record<Role, Counts>; n: Record<Role, number>; blocks: number; secs: number }>> {
  for (const f of countFiles()) rmSync(join(countDir!, f))
  const h0 = (await getChainStatus(c0)).head.height
  const t0 = Date.now()
  // --profile-phase: the nodes carry cpuProfilePreload.cjs (XSC_CPU_PROF_AFTER_MS=signal) instead: one signal starts its window.
  if (!profiling || values['profile-phase'] === phase) signalAll()
  return async () => {
    if (!profiling) signalAll()
    const blocks = (await getChainStatus(c0)).head.height - h0
    const secs = (Date.now() - t0) / 1000
    await sleep(1500)
    const role = new Map(nodes().map((x) => [x.pid, x.role]))
    const perRole: Record<Role, Counts> = { validator: {}, host: {} }
    const n: Record<Role, number> = { validator: 0, host: 0 }
    for (const f of countFiles()) {
      if (f.startsWith('timers-')) continue
      const pid = Number(f.replace(/\.json$/, '').split('-').pop())
      const r = role.get(pid)
      if (!r) continue
      if (!f.startsWith('units-')) n[r]++
      const { counts } = JSON.parse(readFileSync(join(countDir!, f), 'utf8')) as { counts: Counts }
      for (const [k, v] of Object.entries(counts)) perRole[r][k] = (perRole[r][k] ?? 0) + v
    }
    return { perRole, n, blocks, secs }
  }
}
type Window = Awaited<ReturnType<Awaited<ReturnType<typeof window>>>>
/** Per unit per node of each role: (loaded − blocks × idle per block) / units / nodes. */
function perUnit(loaded: Window, idle: Window, units: number): Record<Role, Counts> {
  const out: Record<Role, Counts> = { validator: {}, host: {} }
  for (const r of ['validator', 'host'] as const) {
    const keys = new Set([...Object.keys(loaded.perRole[r]), ...Object.keys(idle.perRole[r])])
    const rows: [string, number][] = []
    for (const k of keys) {
      const idlePerBlock = (idle.perRole[r][k] ?? 0) / Math.max(1, idle.blocks)
      const v = ((loaded.perRole[r][k] ?? 0) - idlePerBlock * loaded.blocks) / Math.max(1, units) / Math.max(1, loaded.n[r])
      if (Math.abs(v) >= 0.02) rows.push([k, Math.round(v * 100) / 100])
    }
    rows.sort((a, b) => b[1] - a[1])
    out[r] = Object.fromEntries(rows.slice(0, TOP))
  }
  return out
}
const loadAvg = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
const result: Record<string, unknown> = {}

// Fund the senders (transfers and executions) from devnet account 0.
const funder = devnetKey('account', 0)
let nonce = await getNonce(c0, { address: funder.publicKey })
const senders = Array.from({ length: 8 }, (_, i) => key(`sender-${i}`))
const execSenders = Array.from({ length: 8 }, (_, i) => key(`exec-${i}`))
let last: Uint8Array | undefined
for (const s of [...senders, ...execSenders]) last = await transfer(c0, { account: funder, to: s.publicKey, amount: 10_000_000_000_000n, nonce: nonce++, chainId })
for (let i = 0; i < 600 && !(await getTransaction(c0, { id: last! })); i++) await sleep(100)

let close = await window('idle')
await sleep(Number(values['idle-secs']) * 1000)
const idle = await close()
result.idle = { blocks: idle.blocks, secs: idle.secs, nodes: idle.n, perBlockPerNode: perUnit({ ...idle, perRole: idle.perRole, blocks: 0 }, { ...idle, perRole: { validator: {}, host: {} } }, idle.blocks), loadAvg1m: loadAvg() }
console.log(JSON.stringify({ phase: 'idle', blocks: idle.blocks, loadAvg1m: loadAvg() }))

if (!values.skip.includes('transfers')) {
  const sink = key('sink')
  const AMOUNT = 1000n
  close = await window('transfers')
  const load = await closedLoad({ senders, clients, seconds: Number(values.secs), inflight: 200, isDone: () => false, send: (c, s, n) => transfer(c, { account: s, to: sink.publicKey, amount: AMOUNT, nonce: n, chainId }) })
  const expected = BigInt(load.ids.length) * AMOUNT
  let balance = -1n
  for (let i = 0, still = 0; i < 120 && still < 10 && balance !== expected; i++) {
    await sleep(500)
    const b = await getBalance(c0, { address: sink.publicKey })
    still = b === balance ? still + 1 : 0
    balance = b
  }
  const w = await close()
  const included = Number(balance / AMOUNT)
  result.transfers = { included, blocks: w.blocks, secs: w.secs, loadAvg1m: loadAvg(), perTransferPerNode: perUnit(w, idle, included) }
  console.log(JSON.stringify({ phase: 'transfers', included, sendErrors: load.errors, blocks: w.blocks, loadAvg1m: loadAvg() }))
}

if (!values.skip.includes('executions')) {
  const code = new Uint8Array(readFileSync(new URL('../../fixtures/wasm/fib.wasm', import.meta.url)))
  const manifest = computeManifest(code, codingParamsOf(params.params))
  const input = new Uint8Array([20, 0, 0, 0])
  const execArgs = { fn: 'run', input, fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 40, origin: { x: 150, y: 100, z: 100 } }
  const deployer = execSenders[0]!
  let dn = await getNonce(c0, { address: deployer.publicKey })
  const asset = await deploy(c0, { account: deployer, bytes: code, manifest, kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n, origin: execArgs.origin, nonce: dn++, chainId })
  // The deploy is in a block before the first execute goes out (under load a deploy can wait in the pool while the execute, sent at once, is refused NONCE_TOO_HIGH).
  for (let i = 0; i < 600 && !(await getTransaction(c0, { id: asset })); i++) await sleep(100)
  const watcher = new ChainWatcher(c0)
  watcher.start((await getChainStatus(c0)).head.height)
  const first = await execute(c0, { account: deployer, asset, ...execArgs, nonce: dn++, chainId })
  for (let i = 0; i < 300 && !watcher.settled.has(toHex(first)); i++) await sleep(100)
  close = await window('executions')
  const load = await closedLoad({ senders: execSenders, clients, seconds: Number(values['exec-secs']), inflight: 16, isDone: (id) => watcher.settled.has(id), send: (c, s, n) => execute(c, { account: s, asset, ...execArgs, nonce: n, chainId }) })
  for (let i = 0; i < 600 && load.ids.some((id) => !watcher.settled.has(id)); i++) await sleep(100)
  const w = await close()
  const agreed = load.ids.filter((id) => watcher.settled.get(id)?.status === COMPLETION_STATUS.agreed).length
  const unsettled = load.ids.filter((id) => !watcher.settled.has(id)).length
  await watcher.stop()
  result.executions = { sent: load.ids.length, agreed, unsettled, blocks: w.blocks, secs: w.secs, loadAvg1m: loadAvg(), perExecutionPerNode: perUnit(w, idle, agreed) }
  console.log(JSON.stringify({ phase: 'executions', sent: load.ids.length, sendErrors: load.errors, firstSettled: watcher.settled.has(toHex(first)), agreed, unsettled, blocks: w.blocks, loadAvg1m: loadAvg() }))
}
for (const c of clients) await c.close()
console.log(JSON.stringify(result))
