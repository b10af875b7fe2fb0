/**
 * Validator CPU per included transfer on a devnet that is already running (`npm run devnet` or
 * `scripts/devnet.ts --data DIR --rpc-port P`), for comparing two builds' devnets side by side
 * over the same window (CPU per unit of work moves less with the machine's load than rates do):
 * funds 8 accounts from devnet account 0, keeps 200 transfers each in flight to validator
 * `j mod 4` for `--secs`, waits until the sink holds every accepted transfer, and divides the
 * validators' CPU (from /proc, every `xsc node` process whose --data is under DIR/validator-*) by
 * the transfers included; `marginalCpuMsPerTransferPerNode` first subtracts what the window's blocks
 * cost idle (the validators' CPU per block over `--idle-secs` before the load, as bench:devnet). `--tag` must differ between runs on one devnet (fresh accounts).
 * `--batch N` (default 1: one HTTP request per transfer, as before) sends each sender's next N
 * transfers in one JSON-RPC batch (sendTransactions), with one fee estimate per batch, as a
 * wallet or an exchange would. `--transport ws` sends the senders' calls over one WebSocket per
 * validator (JSON-RPC without an HTTP request per call, as a client sending many would) instead of
 * HTTP POSTs. `--watch` follows validator 0's chain (bench/support/chainWatcher.ts) and counts a
 * transfer done once a block carries it, so a sender keeps 200 uncommitted transfers in flight
 * instead of stopping after its first 200; it adds bench:devnet's `transfersPerSec` (included in
 * blocks stamped inside the window after a 1 s ramp), accept-to-block latency percentiles, each
 * validator's largest mempool (`poolMax`, sampled every 500 ms) and what is still in it at the end
 * (`poolLeft`: accepted txs no block took), and the window's highest `baseFeeMax`. `--senders N`
 * (default 8). Last line: one JSON object.
 *
 *   npx tsx scripts/bench/devnetTransferCpu.ts --rpc-port 8545 --data .devnet --secs 20 --tag a [--batch 20] [--transport ws] [--watch]
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

import { createClient, getBalance, getBlock, getChainStatus, getNonce, getTransaction, http, transfer, webSocket } from '../../src/client/index.ts'
import { hash, keyPairFromSecret, toHex, utf8 } from '../../src/crypto/index.ts'
import { devnetKey } from '../devnetKeys.ts'
import { ChainWatcher } from './support/chainWatcher.ts'
import { closedLoad } from './support/closedLoad.ts'
import { sendTransferBatch } from './support/sendTransferBatch.ts'

const { values } = parseArgs({ options: { 'rpc-port': { type: 'string', default: '8545' }, data: { type: 'string', default: '.devnet' }, secs: { type: 'string', default: '20' }, tag: { type: 'string', default: 'a' }, batch: { type: 'string', default: '1' }, transport: { type: 'string', default: 'http' }, 'idle-secs': { type: 'string', default: '5' }, 'chain-id': { type: 'string', default: 'xsc-devnet' }, watch: { type: 'boolean', default: false }, senders: { type: 'string', default: '8' } } })
const base = Number(values['rpc-port'])
const dataDir = resolve(values.data)
const chainId = values['chain-id']
if (values.transport !== 'http' && values.transport !== 'ws') throw new Error('--transport: http or ws')
const clients = [0, 1, 2, 3].map((i) => createClient({ transport: values.transport === 'ws' ? webSocket(`ws://127.0.0.1:${base + i}`, { timeoutMs: 15_000 }) : http(`http://127.0.0.1:${base + i}`, { timeoutMs: 15_000 }) }))
const key = (name: string) => keyPairFromSecret(hash(utf8(`devnet-transfer-cpu/${values.tag}/${name}`)))
const senders = Array.from({ length: Number(values.senders) }, (_, i) => key(`sender-${i}`))
const sink = key('sink')
const AMOUNT = 1000n
const BATCH = Number(values.batch)

/** CPU ms (user + system) of the devnet's validator processes. */
function validatorsCpuMs(): number {
  let out = ''
  try {
    out = execFileSync('pgrep', ['-f', `xsc.js node --data ${dataDir}/validator-`]).toString()
  } catch {
    return 0
  }
  let ticks = 0
  for (const pid of out.trim().split('\n').filter(Boolean)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // exited
    }
  }
  return ticks * 10 // USER_HZ 100
}

const funder = devnetKey('account', 0)
let nonce = await getNonce(clients[0]!, { address: funder.publicKey })
let last: Uint8Array | undefined
for (const s of senders) last = await transfer(clients[0]!, { account: funder, to: s.publicKey, amount: 10_000_000_000n, nonce: nonce++, chainId })
for (let i = 0; i < 600 && !(await getTransaction(clients[0]!, { id: last! })); i++) await sleep(100)
/** JSON-RPC calls the validators answered so far (xsc_rpc_requests_total over GET /metrics). */
async function rpcCalls(): Promise<number> {
  let n = 0
  for (let i = 0; i < 4; i++) {
    const text = await (await fetch(`http://127.0.0.1:${base + i}/metrics`)).text()
    for (const m of text.matchAll(/^xsc_rpc_requests_total\{[^}]*\} (\d+)/gm)) n += Number(m[1])
  }
  return n
}

// Idle calibration (as bench:devnet): the validators' CPU per block over `--idle-secs` with nothing sent.
const idleH0 = (await getChainStatus(clients[0]!)).head.height
const idleCpu0 = validatorsCpuMs()
await sleep(Number(values['idle-secs']) * 1000)
const idleBlocks = (await getChainStatus(clients[0]!)).head.height - idleH0
const idleCpuMsPerBlock = (validatorsCpuMs() - idleCpu0) / Math.max(1, idleBlocks)
const h0 = (await getChainStatus(clients[0]!)).head.height
const calls0 = await rpcCalls()
const cpu0 = validatorsCpuMs()
const t0 = Date.now()
const acceptedAt = new Map<string, number>()
const poolMax = [0, 0, 0, 0]
/** Each validator's mempool size (GET /metrics). */
const poolSizes = (): Promise<number[]> => Promise.all([0, 1, 2, 3].map(async (i) => {
  const m = /^xsc_mempool_size (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${base + i}/metrics`)).text())
  return m ? Number(m[1]) : -1
}))
const poolTimer = values.watch
  ? setInterval(() => void poolSizes().then((sizes) => sizes.forEach((n, i) => (poolMax[i] = Math.max(poolMax[i]!, n)))).catch(() => {}), 500)
  : undefined
const watcher = values.watch ? new ChainWatcher(clients[0]!) : undefined
watcher?.start(h0)
const load = await closedLoad({
  senders,
  clients,
  seconds: Number(values.secs),
  inflight: 200,
  isDone: (id) => watcher?.included.has(id) ?? false,
  send: async (c, s, n) => {
    const id = await transfer(c, { account: s, to: sink.publicKey, amount: AMOUNT, nonce: n, chainId })
    acceptedAt.set(toHex(id), Date.now())
    return id
  },
  ...(BATCH > 1
    ? {
      batch: BATCH,
      sendBatch: (c, s, nonces) => sendTransferBatch(c, s, nonces, { to: sink.publicKey, amount: AMOUNT, chainId }),
    }
    : {}),
})
// Drained when every accepted transfer reached the sink, or its balance held still for 10 s (a
// large block under load takes seconds: 3 s cut big batched loads short), or after 60 s.
const expected = BigInt(load.ids.length) * AMOUNT
let balance = -1n
let still = 0
for (let i = 0; i < 120 && still < 20 && balance !== expected; i++) {
  await sleep(500)
  const b = await getBalance(clients[0]!, { address: sink.publicKey })
  still = b === balance ? still + 1 : 0
  balance = b
}
clearInterval(poolTimer)
const waits = watcher === undefined ? [] : [...acceptedAt].flatMap(([id, t]) => {
  const at = watcher.included.get(id)
  return at === undefined ? [] : [at.timestamp - t]
}).sort((a, b) => a - b)
const pct = (q: number): number | undefined => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))]
await watcher?.stop()
// As bench:devnet's transfersPerSec: included in blocks stamped inside the window after a 1 s ramp.
const inWindow = watcher === undefined ? undefined : load.ids.filter((id) => {
  const at = watcher.included.get(id)
  return at !== undefined && at.timestamp >= load.start + 1000 && at.timestamp <= load.end
}).length
const transfersPerSec = inWindow === undefined ? undefined : Math.round(inWindow / ((load.end - load.start - 1000) / 1000))
const cpuMs = validatorsCpuMs() - cpu0
// What the window's blocks asked (a rising base fee strands txs priced before it) and what no block took.
let baseFeeMax = 0n
if (watcher !== undefined) for (let h = h0 + 1; h <= (await getChainStatus(clients[0]!)).head.height; h++) {
  const b = await getBlock(clients[0]!, { height: h })
  if (b !== null && b.header.baseFee > baseFeeMax) baseFeeMax = b.header.baseFee
}
const poolLeft = await poolSizes()
const calls = (await rpcCalls()) - calls0
const blocks = (await getChainStatus(clients[0]!)).head.height - h0
const included = Number(balance / AMOUNT)
for (const c of clients) await c.close()
console.log(JSON.stringify({ batch: BATCH, transport: values.transport, transfersPerSec, inclusionMsP50: pct(0.5), inclusionMsP90: pct(0.9), inclusionMsMax: waits.at(-1), seenByWatcher: waits.length, poolMax, poolLeft, baseFeeMax: Number(baseFeeMax), sent: load.ids.length, sendErrors: load.errors, included, blocks, secs: (Date.now() - t0) / 1000, validatorsCpuMs: cpuMs, validatorCpuMsPerTransferPerNode: Math.round((cpuMs / 4 / Math.max(1, included)) * 1000) / 1000, idleCpuMsPerBlock: Math.round(idleCpuMsPerBlock), rpcCallsPerTransfer: Math.round((calls / Math.max(1, included)) * 100) / 100, marginalCpuMsPerTransferPerNode: Math.round(((cpuMs - idleCpuMsPerBlock * blocks) / 4 / Math.max(1, included)) * 1000) / 1000, loadAvg1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) }))
