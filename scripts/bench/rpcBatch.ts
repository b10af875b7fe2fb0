/**
 * What a JSON-RPC batch saves the node that takes txs over HTTP: the server's CPU per
 * `xsc_sendTransaction` sent one per POST vs in batches of `--batch` (sendTransactions), same
 * txs, same process, rounds alternating. The server is the real one (`startRpcServer`: HTTP,
 * JSON, params decoded from hex and checked canonical); behind it each tx gets its signature
 * verified (`verifyTxSignature`, what admission costs at least) and its id taken, nothing more,
 * so the difference is the HTTP request per tx. The client runs in a child process (its CPU is
 * not counted) with `--concurrency` requests in flight. A third arm sends the same one-tx calls
 * over WebSockets (one per lane, one call in flight on each): JSON-RPC without an HTTP request per
 * call. A fourth sends each tx after an xsc_feeEstimate POST, as signAndSend did before it reused
 * its estimate. A fifth (wsPipelined) sends every call on ONE WebSocket with `--ws-inflight` of them
 * in flight (answers matched by id): what one wallet or exchange connection can push. CPU is this
 * process's (process.cpuUsage); callsPerSecMedian is the client's wall rate per arm.
 * Last line: one JSON object.
 *
 *   npx tsx scripts/bench/rpcBatch.ts [--txs 2000 --batch 20 --rounds 3 --concurrency 8 --ws-inflight 64]
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { txId } from '../../blocks/ids.ts'
import type { Hash, SignedTx } from '../../blocks/schema.ts'
import { buildTransfer, encodeSignedTx, signTx } from '../../src/client/tx.ts'
import { hash, keyPairFromSecret, toHex, utf8 } from '../../src/crypto/index.ts'
import type { RpcBackend } from '../../src/rpc/backend.ts'
import { startRpcServer } from '../../src/rpc/server.ts'
import { verifyTxSignature } from '../../src/state/checkTx.ts'
import { median, round } from './support/stats.ts'
import { benchTempDirs } from './support/tempDirs.ts'

const { values } = parseArgs({ options: { txs: { type: 'string', default: '2000' }, batch: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '8' }, 'ws-inflight': { type: 'string', default: '64' } } })
const TXS = Number(values.txs)
const BATCH = Number(values.batch)
const ROUNDS = Number(values.rounds)
const CONCURRENCY = Number(values.concurrency)
const WS_INFLIGHT = Number(values['ws-inflight'])
const CHAIN = 'bench-rpc-batch'

let admitted = 0
// Only submitTx is reached by xsc_sendTransaction (and the server listens to events); the rest of the backend is not needed here.
const backend = {
  submitTx: async (tx: SignedTx): Promise<Hash> => (verifyTxSignature(tx, CHAIN, {}), admitted++, txId(tx)),
  getFeeInfo: async () => ({ baseFee: 7n, minFeePerByte: 1n, maxBaseFee: 10n ** 9n, height: 1 }),
  events: { listen: () => () => {} },
} as unknown as RpcBackend
const server = await startRpcServer({ ratePerSecond: 1e9, rateBurst: 1e9 }, { backend })

const senders = Array.from({ length: 16 }, (_, i) => keyPairFromSecret(hash(utf8(`bench-rpc-batch/${i}`))))
const to = hash(utf8('sink'))
const ESTIMATE = JSON.stringify({ jsonrpc: '2.0', id: 'e', method: 'xsc_feeEstimate', params: [] })
/** `batch` 0: one tx per POST, each after an xsc_feeEstimate POST (what signAndSend did before it reused its estimate). */
function bodies(round: number, batch: number): string[] {
  const calls = Array.from({ length: TXS }, (_, i) => {
    const s = senders[i % 16]!
    const tx = signTx(buildTransfer({ chainId: CHAIN, from: s.publicKey, nonce: round * TXS + i, fee: 500n, to, amount: 1000n }), s.secretKey)
    return { jsonrpc: '2.0', id: i, method: 'xsc_sendTransaction', params: [toHex(encodeSignedTx(tx))] }
  })
  const out: string[] = []
  if (batch === 0) for (const c of calls) out.push(ESTIMATE, JSON.stringify(c))
  else for (let i = 0; i < calls.length; i += batch) out.push(JSON.stringify(batch === 1 ? calls[i] : calls.slice(i, i + batch)))
  return out
}

const dirs = benchTempDirs('xsc-rpc-batch-')
const dir = dirs.make()
const CLIENT = `
const [url, file, conc] = process.argv.slice(1)
const bodies = JSON.parse(require('node:fs').readFileSync(file, 'utf8'))
let next = 0, errors = 0
let resets = 0
// A connection reset (seen at load 30+) is retried once: the node admits the tx again (counted, so the CPU per tx stays an upper bound).
async function post(b) { try { return await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b })).text() } catch { resets++; return await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b })).text() } }
async function lane() { while (next < bodies.length) { const t = await post(bodies[next++]); if (t.includes('"error"')) errors++ } }
// ws:// : each lane keeps one WebSocket and sends its calls on it one at a time (the same JSON-RPC text, no HTTP request per call).
async function wsLane() {
  const WebSocket = require('ws')
  const ws = new WebSocket(url)
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail) })
  let answer
  ws.on('message', (d) => answer(d.toString()))
  while (next < bodies.length) { const b = bodies[next++]; const t = await new Promise((ok) => { answer = ok; ws.send(b) }); if (t.includes('"error"')) errors++ }
  ws.close()
}
// ws-pipelined: one WebSocket for all the calls, \`conc\` of them in flight at once (a wallet or exchange sending many).
async function wsPipelined() {
  const WebSocket = require('ws')
  const ws = new WebSocket(url.replace('#pipelined', ''))
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail) })
  await new Promise((done) => {
    let answered = 0
    const sendNext = () => { if (next < bodies.length) ws.send(bodies[next++]) }
    ws.on('message', (d) => { if (d.toString().includes('"error"')) errors++; if (++answered === bodies.length) done(); else sendNext() })
    for (let i = 0; i < Number(conc); i++) sendNext()
  })
  ws.close()
}
const t0 = Date.now()
const run = url.endsWith('#pipelined') ? wsPipelined() : Promise.all(Array.from({ length: Number(conc) }, url.startsWith('ws') ? wsLane : lane))
run.then(() => console.log(JSON.stringify({ errors, resets, ms: Date.now() - t0 })))
`

/** Server CPU µs per tx, and the client's calls per second (wall, from its first send to its last answer). */
async function runOnce(round: number, batch: number, url = server.url, concurrency = CONCURRENCY): Promise<{ cpuUs: number; callsPerSec: number }> {
  const file = join(dir, `bodies-${round}-${batch}.json`)
  writeFileSync(file, JSON.stringify(bodies(round, batch)))
  const before = admitted
  const cpu0 = process.cpuUsage()
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, url, file, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (d: Buffer) => (text += d.toString()))
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`client exited with ${code}`))))
  })
  const cpu = process.cpuUsage(cpu0)
  if (admitted - before < TXS || (JSON.parse(out) as { errors: number }).errors > 0) throw new Error(`round ${round} batch ${batch}: ${admitted - before} of ${TXS} admitted, ${out.trim()}`)
  return { cpuUs: (cpu.user + cpu.system) / TXS, callsPerSec: TXS / ((JSON.parse(out) as { ms: number }).ms / 1000) }
}

const single: number[] = []
const batched: number[] = []
const overWs: number[] = []
const withEstimate: number[] = []
const wsPipelined: number[] = []
const rates: Record<'http' | 'ws' | 'wsPipelined', number[]> = { http: [], ws: [], wsPipelined: [] }
await runOnce(0, 1) // warm-up
await runOnce(1, 1, server.wsUrl)
for (let r = 1; r <= ROUNDS; r++) {
  const h = await runOnce(5 * r, 1)
  single.push(h.cpuUs)
  rates.http.push(h.callsPerSec)
  batched.push((await runOnce(5 * r + 1, BATCH)).cpuUs)
  const w = await runOnce(5 * r + 2, 1, server.wsUrl)
  overWs.push(w.cpuUs)
  rates.ws.push(w.callsPerSec)
  const p = await runOnce(5 * r + 3, 1, `${server.wsUrl}#pipelined`, WS_INFLIGHT)
  wsPipelined.push(p.cpuUs)
  rates.wsPipelined.push(p.callsPerSec)
  withEstimate.push((await runOnce(1000 + r, 0)).cpuUs)
}
await server.close()
dirs.removeAll()
console.log(JSON.stringify({ txs: TXS, batch: BATCH, rounds: ROUNDS, cpuUsPerTxSingle: single.map((v) => round(v, 1)), cpuUsPerTxBatched: batched.map((v) => round(v, 1)), medianSingle: round(median(single), 1), medianBatched: round(median(batched), 1), cpuUsPerTxWs: overWs.map((v) => round(v, 1)), medianWs: round(median(overWs), 1), cpuUsPerTxWithEstimate: withEstimate.map((v) => round(v, 1)), medianWithEstimate: round(median(withEstimate), 1), cpuUsPerTxWsPipelined: wsPipelined.map((v) => round(v, 1)), medianWsPipelined: round(median(wsPipelined), 1), callsPerSecMedian: { http: Math.round(median(rates.http)), ws: Math.round(median(rates.ws)), wsPipelined: Math.round(median(rates.wsPipelined)) }, savedUsPerTx: round(median(single) - median(batched), 1), loadAvg1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) }))
process.exit(0)
