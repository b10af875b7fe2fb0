/**
 * RPC throughput: requests/s and p99 latency of xsc_getBalance and xsc_getBlockByHeight over
 * keep-alive HTTP on loopback, against a plain node:http server returning a constant in the same
 * run (the ceiling). The load generator runs in a worker thread so the server keeps its core.
 *
 *   npm run bench:rpc [-- --seconds 2 --concurrency 32 --backend ./path/to/module.ts]
 *
 * `--backend` names a module exporting `createBenchBackend(): Promise<BenchBackend>`; the default
 * is the node's real backend (scripts/bench/rpcNodeBackend.ts: a classic-level chain store with
 * 200 blocks of signed transfers); `--backend memory` uses the in-memory test stand-in.
 * Last line: one JSON object with getBalanceRps, getBlockRps, ceilingRps, ratio, p99Ms.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'

import { buildTransfer, signTx } from '../../src/client/tx.ts'
import { generateKeyPair, toHex } from '../../src/crypto/index.ts'
import type { RpcBackend } from '../../src/rpc/backend.ts'
import { startRpcServer } from '../../src/rpc/server.ts'
import { median, round } from './support/stats.ts'

export interface BenchBackend {
  backend: RpcBackend
  /** Addresses to query balances of. */
  addresses: Uint8Array[]
  /** Heights 0..maxHeight exist. */
  maxHeight: number
  close?(): Promise<void>
}

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    concurrency: { type: 'string', default: '32' },
    backend: { type: 'string' },
  },
})
const seconds = Number(args.seconds)
const warmup = Number(args.warmup)
const concurrency = Number(args.concurrency)
const rounds = Number(args.rounds)

async function createDefaultBackend(): Promise<BenchBackend> {
  const { MemoryBackend } = await import('../../test/unit/rpc/memoryBackend.ts')
  const senders = Array.from({ length: 10 }, () => generateKeyPair())
  const receivers = Array.from({ length: 990 }, () => generateKeyPair().publicKey)
  const backend = new MemoryBackend({ allocations: senders.map((s) => ({ address: s.publicKey, balance: 10n ** 24n })) })
  let r = 0
  for (let height = 1; height <= 100; height++) {
    for (const [i, s] of senders.entries()) {
      const body = buildTransfer({ chainId: backend.chainId, from: s.publicKey, nonce: height - 1, fee: 1n, to: receivers[r++ % receivers.length]!, amount: BigInt(1000 + i) })
      await backend.submitTx(signTx(body, s.secretKey))
    }
    backend.produceBlock()
  }
  return { backend, addresses: [...senders.map((s) => s.publicKey), ...receivers], maxHeight: backend.head.block.header.height }
}

/** The load generator, plain JS so the worker needs no TypeScript loader. */
const LOADGEN = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const { port, bodies, concurrency, warmupMs, durationMs } = workerData
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
let phase = 'warmup'
const lat = []
let errors = 0
function one(body) {
  return new Promise((done) => {
    const t0 = performance.now()
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const ok = res.statusCode === 200
      res.on('data', () => {})
      res.on('end', () => {
        if (phase === 'run') { lat.push(performance.now() - t0); if (!ok) errors++ }
        done()
      })
    })
    req.on('error', () => { if (phase === 'run') errors++; done() })
    req.end(body)
  })
}
async function loop(k) {
  let i = k
  while (phase !== 'done') { await one(bodies[i % bodies.length]); i += concurrency }
}
const loops = Array.from({ length: concurrency }, (_, k) => loop(k))
let started = 0
setTimeout(() => { phase = 'run'; started = performance.now() }, warmupMs)
setTimeout(async () => {
  const elapsed = (performance.now() - started) / 1000
  phase = 'done'
  await Promise.all(loops)
  agent.destroy()
  lat.sort((a, b) => a - b)
  const q = (p) => lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]
  parentPort.postMessage({ requests: lat.length, rps: lat.length / elapsed, p50Ms: q(0.5), p99Ms: q(0.99), errors })
}, warmupMs + durationMs)
`

interface LoadResult { requests: number; rps: number; p50Ms: number; p99Ms: number; errors: number }

function runLoad(port: number, bodies: string[]): Promise<LoadResult> {
  return new Promise((resolveLoad, reject) => {
    const w = new Worker(LOADGEN, { eval: true, workerData: { port, bodies, concurrency, warmupMs: warmup * 1000, durationMs: seconds * 1000 } })
    w.once('message', (m: LoadResult) => {
      void w.terminate()
      resolveLoad(m)
    })
    w.once('error', reject)
  })
}

async function checkAnswer(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', body })
  const json = (await res.json()) as { result?: unknown; error?: unknown }
  if (json.error !== undefined || json.result === undefined || json.result === null) throw new Error(`bench request failed: ${body} → ${JSON.stringify(json)}`)
}

/** Per-field median over rounds. */
function medianResult(results: LoadResult[]): LoadResult {
  const m = (f: (r: LoadResult) => number): number => median(results.map(f))
  return { requests: m((r) => r.requests), rps: m((r) => r.rps), p50Ms: m((r) => r.p50Ms), p99Ms: m((r) => r.p99Ms), errors: results.reduce((s, r) => s + r.errors, 0) }
}


async function main(): Promise<void> {
  const bench = args.backend === 'memory'
    ? await createDefaultBackend()
    : await ((await import(pathToFileURL(resolve(args.backend ?? 'scripts/bench/rpcNodeBackend.ts')).href)) as { createBenchBackend(): Promise<BenchBackend> }).createBenchBackend()

  // Ceiling: the same transport with no JSON-RPC work at all.
  const constant = '{"jsonrpc":"2.0","id":1,"result":"1000000000000000000000000"}'
  const plain: Server = createServer((req, res) => {
    req.on('data', () => undefined)
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': constant.length })
      res.end(constant)
    })
  })
  plain.keepAliveTimeout = 5000
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()))
  const plainPort = (plain.address() as AddressInfo).port

  const rpc = await startRpcServer({ ratePerSecond: 1e9, rateBurst: 1e9 }, { backend: bench.backend })

  const balanceBodies = bench.addresses.map((a, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'xsc_getBalance', params: [toHex(a)] }))
  const blockBodies = Array.from({ length: bench.maxHeight + 1 }, (_, h) => JSON.stringify({ jsonrpc: '2.0', id: h, method: 'xsc_getBlockByHeight', params: [h] }))
  await checkAnswer(rpc.url, balanceBodies[0]!)
  await checkAnswer(rpc.url, blockBodies[blockBodies.length - 1]!)

  // Phases interleave over several rounds and the medians are reported: the machine is shared,
  // so a burst of someone else's work should not land on one phase only.
  const ceilingBody = [JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'xsc_getBalance', params: [toHex(bench.addresses[0]!)] })]
  const runs: { ceiling: LoadResult[]; balance: LoadResult[]; block: LoadResult[] } = { ceiling: [], balance: [], block: [] }
  for (let r = 0; r < rounds; r++) {
    const ceilingRun = await runLoad(plainPort, ceilingBody)
    console.log(JSON.stringify({ round: r, phase: 'ceiling', ...ceilingRun }))
    const balanceRun = await runLoad(rpc.port, balanceBodies)
    console.log(JSON.stringify({ round: r, phase: 'xsc_getBalance', ...balanceRun }))
    const blockRun = await runLoad(rpc.port, blockBodies)
    console.log(JSON.stringify({ round: r, phase: 'xsc_getBlockByHeight', ...blockRun }))
    runs.ceiling.push(ceilingRun)
    runs.balance.push(balanceRun)
    runs.block.push(blockRun)
  }
  const ceiling = medianResult(runs.ceiling)
  const balance = medianResult(runs.balance)
  const block = medianResult(runs.block)

  await rpc.close()
  await new Promise<void>((r) => plain.close(() => r()))
  await bench.close?.()

  console.log(JSON.stringify({
    getBalanceRps: round(balance.rps),
    getBlockRps: round(block.rps),
    ceilingRps: round(ceiling.rps),
    ratio: round(balance.rps / ceiling.rps, 3),
    blockRatio: round(block.rps / ceiling.rps, 3),
    p99Ms: round(balance.p99Ms, 3),
    getBlockP99Ms: round(block.p99Ms, 3),
    ceilingP99Ms: round(ceiling.p99Ms, 3),
    errors: balance.errors + block.errors + ceiling.errors,
    concurrency,
    seconds,
    rounds,
  }))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
