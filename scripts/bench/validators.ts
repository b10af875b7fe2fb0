/**
 * Validators over libp2p: 4 `xsc node` processes on 127.0.0.1 (500 ms slots), measured from the
 * outside through JSON-RPC.
 *
 *   npx tsx scripts/bench/validators.ts [-- --validators 4 --slot-ms 500 --transfers 2000 --samples 10]
 *
 * - inclusionMs: a transfer sent to the last validator until validator 0 returns it (median);
 * - transfersPerSec: N signed transfers (8 senders) sent to the last validator until all are
 *   visible on validator 0;
 * - finalityLagSlots: head slot − finalized slot on validator 0, sampled every 100 ms (median);
 * - forks: blocks reverted on validator 0 over the run (heights whose hash changed).
 * Last line: one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import type { SignedTx } from '../../blocks/schema.ts'
import { computeValidatorBeaconCommitment } from '../../consensus/beacon.ts'
import { type Client, createClient, getBlock, getChainStatus, getTransaction, http, sendTransaction } from '../../src/client/index.ts'
import { buildTransfer, signTx, txId } from '../../src/client/tx.ts'
import type { KeyPair } from '../../src/crypto/index.ts'
import { hash, keyPairFromSecret, toHex, utf8 } from '../../src/crypto/index.ts'
import { writeGenesisFile } from '../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../src/node/keyFile.ts'
import { FREE_FEE_PARAMS } from '../../src/state/fees.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../src/state/genesisJson.ts'
import { spawnTracked, waitForLine } from './support/processes.ts'
import { median } from './support/stats.ts'

const { values } = parseArgs({ options: { validators: { type: 'string', default: '4' }, 'slot-ms': { type: 'string', default: '500' }, transfers: { type: 'string', default: '2000' }, samples: { type: 'string', default: '10' } } })
const V = Number(values.validators)
const slotMs = Number(values['slot-ms'])
const N = Number(values.transfers)
const SAMPLES = Number(values.samples)
const key = (name: string): KeyPair => keyPairFromSecret(hash(utf8(`xsc-bench-validators/${name}`)))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const dir = mkdtempSync(join(tmpdir(), 'xsc-bench-validators-'))
const validators = Array.from({ length: V }, (_, i) => key(`validator-${i}`))
const senders = Array.from({ length: 8 }, (_, i) => key(`sender-${i}`))
const probe = key('probe')
const sink = key('sink')
writeGenesisFile(join(dir, 'genesis.json'), {
  chainId: 'xsc-bench',
  genesisTime: BigInt(Date.now()),
  slotMs,
  tokenSymbol: 'XSC',
  tokenDecimals: 9,
  allocations: [...senders, probe].map((k) => ({ to: k.publicKey, amount: 1_000_000_000_000n })),
  validators: validators.map((v) => ({ address: v.publicKey, stake: 1_000_000n, peerId: '', beaconCommitment: computeValidatorBeaconCommitment(v.secretKey, 0, DEFAULT_PARAMS.beaconChainLength) })),
  consensus: DEFAULT_CONSENSUS,
  // Fees off and no block byte cap: this bench measures import, not pricing (bench:spam does).
  params: { ...DEFAULT_PARAMS, ...FREE_FEE_PARAMS, targetBlockTxBytes: 1 << 24 },
})
validators.forEach((v, i) => writeKeyFile(join(dir, `v${i}.json`), v))

// The nodes are killed at exit (spawnTracked) before this removes their data.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

function startNode(i: number, bootstrap: string[]): Promise<{ rpc: string; p2p: string[] }> {
  const args = ['bin/xsc.js', 'node', '--data', join(dir, `d${i}`), '--genesis', join(dir, 'genesis.json'), '--key', join(dir, `v${i}.json`), '--rpc', '127.0.0.1:0', ...bootstrap.flatMap((b) => ['--bootstrap', b])]
  const child = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, XSC_LOG_LEVEL: 'warn' } })
  return waitForLine(child, (line) => {
    try {
      const msg = JSON.parse(line) as { event?: string; rpc: string; p2p?: string[] }
      return msg.event === 'ready' ? { rpc: msg.rpc, p2p: msg.p2p ?? [] } : undefined
    } catch {
      return undefined // not JSON
    }
  }, { onExit: (code) => new Error(`validator ${i} exited with ${code}`) })
}

const first = await startNode(0, [])
const rest = await Promise.all(validators.slice(1).map((_, i) => startNode(i + 1, first.p2p.slice(0, 1))))
const clients: Client[] = [first, ...rest].map((n) => createClient({ transport: http(n.rpc) }))
const reader = clients[0]!
const writer = clients[clients.length - 1]!
// Warm up: every node connected and finality moving.
for (let i = 0; i < 300; i++) {
  const s = await Promise.all(clients.map((c) => getChainStatus(c)))
  if (s.every((x) => x.peers === V - 1 && x.finalized.height >= 3)) break
  await sleep(100)
}

// Watch validator 0 for reorgs: remember each height's hash, count changes.
const seen = new Map<number, string>()
let reverted = 0
let watching = true
const lags: number[] = []
const watcher = (async () => {
  while (watching) {
    const s = await getChainStatus(reader)
    const [head, fin] = await Promise.all([getBlock(reader, { height: s.head.height }), getBlock(reader, { height: s.finalized.height })])
    if (head && fin) lags.push(head.header.slot - fin.header.slot)
    for (let h = Math.max(1, s.head.height - 3); h <= s.head.height; h++) {
      const b = await getBlock(reader, { height: h })
      if (!b) continue
      const prev = seen.get(h)
      if (prev !== undefined && prev !== toHex(b.hash)) reverted++
      seen.set(h, toHex(b.hash))
    }
    await sleep(100)
  }
})()

const status = await getChainStatus(reader)
const chainId = status.chainId
// Inclusion latency across the network, one at a time.
const inclusion: number[] = []
for (let n = 0; n < SAMPLES; n++) {
  const tx = signTx(buildTransfer({ chainId, from: probe.publicKey, nonce: n, fee: 1n, to: sink.publicKey, amount: 1n }), probe.secretKey)
  const t0 = performance.now()
  const id = await sendTransaction(writer, { tx })
  while (!(await getTransaction(reader, { id }))) await sleep(10)
  inclusion.push(performance.now() - t0)
}

// Throughput: N transfers from 8 senders, interleaved, sent to the last validator.
const per = Math.ceil(N / senders.length)
const txs: SignedTx[] = []
for (let n = 0; n < per; n++) for (const s of senders) txs.push(signTx(buildTransfer({ chainId, from: s.publicKey, nonce: n, fee: 1n, to: sink.publicKey, amount: 1n }), s.secretKey))
const t0 = performance.now()
// One sequential stream per sender (a sender's nonces must arrive in order), 8 streams at once.
await Promise.all(senders.map(async (_, j) => {
  for (let n = 0; n < per; n++) await sendTransaction(writer, { tx: txs[n * senders.length + j]! })
}))
const sentMs = performance.now() - t0
// Every sender's last tx included on validator 0 means all of them are.
const lastIds = senders.map((_, j) => txs[txs.length - senders.length + j]!)
for (const tx of lastIds) {
  while (!(await getTransaction(reader, { id: txId(tx) }))) await sleep(20)
}
const allMs = performance.now() - t0
watching = false
await watcher

const final = await Promise.all(clients.map((c) => getChainStatus(c)))
const result = {
  validators: V,
  slotMs,
  inclusionMedianMs: Math.round(median(inclusion)),
  inclusionMaxMs: Math.round(Math.max(...inclusion)),
  transfers: txs.length,
  submitPerSec: Math.round(txs.length / (sentMs / 1000)),
  transfersPerSec: Math.round(txs.length / (allMs / 1000)),
  finalityLagSlots: median(lags),
  finalityLagSamples: lags.length,
  reorgedHeights: reverted,
  heads: final.map((s) => s.head.height),
  finalized: final.map((s) => s.finalized.height),
}
for (const c of clients) await c.close()
console.log(JSON.stringify(result))
process.exit(0)
