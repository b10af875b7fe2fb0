/**
 * The floor under a devnet node's idle cost: what libp2p alone costs when nothing is sent. Starts
 * `--nodes` processes, each a net node as `createNetNode` configures it (tcp + noise + yamux,
 * identify, ping, gossipsub with our parameters, subscribed to every gossip topic), each dialling
 * all earlier ones (a full mesh, as the devnet's 10 nodes are), waits `--settle-secs`, then reads
 * their CPU from /proc over `--secs`: main thread and other threads (V8 workers, libuv) apart.
 * Compare with a devnet validator's idle CPU per second (`idleDevnets.ts`, docs/devnet.md).
 *
 *   npx tsx scripts/bench/netFloor.ts [--nodes 10 --secs 30 --settle-secs 15]
 *
 * Last line: one JSON object (`mainMsPerSec`, `otherMsPerSec`: medians over the nodes).
 */
import { type ChildProcess,spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '10' }, secs: { type: 'string', default: '30' }, 'settle-secs': { type: 'string', default: '15' }, child: { type: 'string' }, boot: { type: 'string', default: '' } } })

if (values.child !== undefined) {
  await import('../../src/polyfill.ts')
  const { createNetNode, GOSSIP_TOPICS } = await import('../../src/net/index.ts')
  const secretKey = new Uint8Array(32).fill(Number(values.child) + 1)
  const net = createNetNode({ secretKey, chainId: 'net-floor', listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: values.boot === '' ? [] : values.boot.split(',') })
  for (const topic of GOSSIP_TOPICS) net.subscribe(topic, { validate: () => 'accept', handle: () => undefined })
  await net.start()
  console.log(`${net.multiaddrs()[0]}/p2p/${net.peerId}`)
  process.on('SIGTERM', () => void net.stop().then(() => process.exit(0)))
  await new Promise(() => undefined)
}

const NODES = Number(values.nodes)
const SECS = Number(values.secs)
const self = fileURLToPath(import.meta.url)
const children: ChildProcess[] = []
const stop = (): void => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'))
process.on('exit', stop)

/** CPU ticks (user + system, 10 ms each) of a process's main thread and of its other threads. */
function ticks(pid: number): { main: number; other: number } {
  let main = 0
  let other = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const t = Number(fields[11]) + Number(fields[12])
    if (Number(tid) === pid) main += t
    else other += t
  }
  return { main, other }
}

const addrs: string[] = []
for (let i = 0; i < NODES; i++) {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', String(i), '--boot', addrs.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  addrs.push(await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`net node ${i} exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', resolve)
  }))
}
await sleep(Number(values['settle-secs']) * 1000)
const pids = children.map((c) => c.pid!)
const before = pids.map(ticks)
await sleep(SECS * 1000)
const after = pids.map(ticks)
stop()
const perSec = (k: 'main' | 'other'): number[] => after.map((a, i) => ((a[k] - before[i]![k]) * 10) / SECS)
console.log(JSON.stringify({ nodes: NODES, secs: SECS, mainMsPerSec: round(median(perSec('main')), 1), otherMsPerSec: round(median(perSec('other')), 1), mainMsPerSecMax: round(Math.max(...perSec('main')), 1), loadAvg1m: round(loadavg()[0]!, 1) }))
process.exit(0)
