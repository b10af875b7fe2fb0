// `npm run devnet`: a local network on 127.0.0.1 from the repo's genesis.json. Each node is its
// own process with its own data dir; Ctrl-C stops every process this script started.
// Options: --data DIR (default .devnet, wiped first), --rpc-port 8545, --hosts 6, --exit (stop
// after the demo), --genesis FILE.
import '../src/polyfill.ts'

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'

import { COMPLETION_STATUS } from '../blocks/schema.ts'
import { type Client, createClient, deploy, execute, getAsset, getBalance, getChainParams, getChainStatus, getHosts, getTransaction, http, transfer, waitForExecution } from '../src/client/index.ts'
import { equalBytes, toHex } from '../src/crypto/index.ts'
import { readGenesisFile } from '../src/node/genesisFile.ts'
import { writeKeyFile } from '../src/node/keyFile.ts'
import { codingParamsOf, computeManifest } from '../src/storage/encodeAsset.ts'
import { devnetKey } from './devnetKeys.ts'

const USAGE = 'usage: npm run devnet -- [--data DIR] [--rpc-port 8545] [--hosts 6] [--exit] [--genesis FILE]'
function usageError(message: string): never {
  console.error(`devnet: ${message}\n${USAGE}`)
  process.exit(2)
}
function parseOptions() {
  try {
    return parseArgs({ options: { data: { type: 'string', default: '.devnet' }, 'rpc-port': { type: 'string', default: '8545' }, hosts: { type: 'string', default: '6' }, exit: { type: 'boolean', default: false }, genesis: { type: 'string', default: 'genesis.json' }, help: { type: 'boolean', default: false } } }).values
  } catch (err) {
    return usageError((err as Error).message)
  }
}
const values = parseOptions()
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
// Validators take rpc-port + 0..3, hosts + 100.., their shard servers + 200..
if (!/^\d+$/.test(values['rpc-port']) || Number(values['rpc-port']) < 1 || Number(values['rpc-port']) > 65_535 - 300) usageError(`--rpc-port must be a port number ≤ 65235, got ${values['rpc-port']}`)
if (!/^\d+$/.test(values.hosts) || Number(values.hosts) > 100) usageError(`--hosts must be a whole number ≤ 100, got ${values.hosts}`)
const dataDir = values.data
const genesis = readGenesisFile(values.genesis)
rmSync(dataDir, { recursive: true, force: true })
mkdirSync(join(dataDir, 'keys'), { recursive: true })
// The funded devnet accounts as key files, so the CLI can use them: xsc … --key DIR/keys/account-0.json
for (let i = 0; i < 4; i++) writeKeyFile(join(dataDir, 'keys', `account-${i}.json`), devnetKey('account', i))

const children: ChildProcess[] = []
function stopAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}
process.on('SIGINT', () => {
  stopAll()
  process.exit(130)
})
process.on('exit', stopAll)

// Node/V8 flags for every node process (XSC_NODE_FLAGS, space-separated), e.g. heap sizes that NODE_OPTIONS refuses.
const NODE_FLAGS = (process.env.XSC_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '')
function startNode(name: string, args: string[]): Promise<{ rpc: string; p2p: string[] }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, 'bin/xsc.js', 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: process.env.XSC_LOG_LEVEL ?? 'warn' } })
  children.push(child)
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`))
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; rpc?: string; p2p?: string[] }
        if (msg.event === 'ready' && msg.rpc) resolve({ rpc: msg.rpc, p2p: msg.p2p ?? [] })
      } catch {
        process.stdout.write(`[${name}] ${line}\n`)
      }
    })
  })
}

const validators = genesis.validators.map((v, i) => {
  const key = devnetKey('validator', i)
  if (!equalBytes(key.publicKey, v.address)) throw new Error(`genesis validator ${i} is not devnet key ${i}: regenerate with tsx scripts/make-devnet-genesis.ts`)
  const file = join(dataDir, 'keys', `validator-${i}.json`)
  writeKeyFile(file, key)
  return { key, file }
})

// Validators: each its own process and data dir. The first starts alone; the others bootstrap
// from its multiaddr (from its ready line) and find each other by peer exchange.
const basePort = Number(values['rpc-port'])
const validatorArgs = (i: number, bootstrap: string[]): string[] => ['--data', join(dataDir, `validator-${i}`), '--key', validators[i]!.file, '--genesis', values.genesis, '--rpc', `127.0.0.1:${basePort + i}`, ...bootstrap.flatMap((b) => ['--bootstrap', b])]
const first = await startNode('validator-0', validatorArgs(0, []))
const nodes = [first, ...(await Promise.all(validators.slice(1).map((_, i) => startNode(`validator-${i + 1}`, validatorArgs(i + 1, first.p2p.slice(0, 1))))))]
const rpc = nodes[0]!.rpc
console.log(`devnet up: chain ${genesis.chainId}, ${validators.length} validator(s)`)
nodes.forEach((n, i) => console.log(`validator-${i}: RPC ${n.rpc}  p2p ${n.p2p[0] ?? '-'}`))
console.log(`Explorer: ${rpc.replace(/\/?$/, '/')}`)

// Hosts: separate processes that join voluntarily (host.join), store shards and run executions.
// Spread over the grid and over three zones; they bootstrap from the validators.
const hostCount = Number(values.hosts)
const hostNodes = await Promise.all(Array.from({ length: hostCount }, (_, i) => {
  const file = join(dataDir, 'keys', `host-${i}.json`)
  writeKeyFile(file, devnetKey('host', i))
  const coord = `${100 + 40 * i},${100 + 25 * (i % 3)},${100 + 10 * (i % 2)}`
  return startNode(`host-${i}`, ['--data', join(dataDir, `host-${i}`), '--genesis', values.genesis, '--rpc', `127.0.0.1:${basePort + 100 + i}`, '--host', '--host-key', file, '--coord', coord, '--zone', `zone-${i % 3}`, '--asks', `${1 + (i % 2)},1`, '--capacity', String(1n << 30n), '--caps', 'storage,compute,private', '--shard-http', `127.0.0.1:${basePort + 200 + i}`, ...nodes.flatMap((n) => ['--bootstrap', n.p2p[0]!])])
}))
hostNodes.forEach((n, i) => console.log(`host-${i}: RPC ${n.rpc}`))

// Demo round trip: a transfer between two well-known accounts, seen in a block. Sent to the last
// validator and read back from the first, so it crosses the network.
const client = createClient({ transport: http(nodes[nodes.length - 1]!.rpc) })
const reader = createClient({ transport: http(rpc) })
const alice = devnetKey('account', 3)
const bob = devnetKey('account', 1)
const id = await transfer(client, { account: alice, to: bob.publicKey, amount: 1_000n })
console.log(`transfer ${toHex(id)}: 1000 from account 3 to account 1`)
let included: Awaited<ReturnType<typeof getTransaction>> = null
for (let i = 0; i < 200 && !included; i++) {
  included = await getTransaction(reader, { id })
  if (!included) await new Promise((r) => setTimeout(r, 100))
}
if (!included) throw new Error('the demo transfer was not included within 20 s')
console.log(`included in block ${included.blockHeight} ${toHex(included.blockHash)} (seen on validator-0)`)
console.log(`account 1 balance: ${await getBalance(reader, { address: bob.publicKey })}`)
let status = await getChainStatus(reader)
for (let i = 0; i < 100 && status.finalized.height < included.blockHeight; i++) {
  await new Promise((r) => setTimeout(r, 100))
  status = await getChainStatus(reader)
}
console.log(`head ${status.head.height}, finalized ${status.finalized.height}, peers ${status.peers}`)
if (hostCount >= 6) {
  try {
    await computeRoundTrip(reader)
  } catch (err) {
    // The network stays up for the user; with --exit the run fails.
    console.error(`compute round trip failed: ${(err as Error).message}`)
    if (values.exit) process.exitCode = 1
  }
}
await client.close()
await reader.close()
if (values.exit) {
  stopAll()
  process.exit(process.exitCode ?? 0)
}
console.log(`producing blocks; explorer at ${rpc.replace(/\/?$/, '/')}; Ctrl-C to stop`)

/**
 * deploy → execute → complete: fixtures/wasm/fib.wasm is erasure-coded onto six hosts, run by three
 * of them (quorum 2), and settled in a completion block with its payouts.
 */
async function computeRoundTrip(c: Client): Promise<void> {
  const deployer = devnetKey('account', 2)
  const t0 = Date.now()
  for (let i = 0; i < 300; i++) {
    if ((await getHosts(c, {})).length >= hostCount) break
    await new Promise((r) => setTimeout(r, 100))
  }
  console.log(`${(await getHosts(c, {})).length} hosts joined`)
  const code = new Uint8Array(readFileSync('fixtures/wasm/fib.wasm'))
  const manifest = computeManifest(code, codingParamsOf((await getChainParams(c)).params))
  const asset = await deploy(c, { account: deployer, bytes: code, manifest, kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n, origin: { x: 150, y: 100, z: 100 } })
  let info = await getAsset(c, { id: asset })
  for (let i = 0; i < 200 && !info; i++) {
    await new Promise((r) => setTimeout(r, 100))
    info = await getAsset(c, { id: asset })
  }
  if (!info) throw new Error('the deployment was not included within 20 s')
  console.log(`deployed fib.wasm as asset ${toHex(asset)}: ${code.length} bytes, ${info.record.manifest.k}+${info.record.manifest.m} shards on ${info.record.placement.length} hosts`)
  const input = new Uint8Array(4)
  new DataView(input.buffer).setUint32(0, 20, true)
  const t1 = Date.now()
  const exec = await execute(c, { account: deployer, asset, fn: 'run', input, fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 40, origin: { x: 150, y: 100, z: 100 } })
  const done = await waitForExecution(c, { id: exec, timeoutMs: 60_000 })
  const entry = done.completion.entry
  const out = entry.output.length === 8 ? new DataView(entry.output.buffer, entry.output.byteOffset, 8).getBigUint64(0, true).toString() : toHex(entry.output)
  console.log(`executed fib(20) = ${out} (status ${entry.status === COMPLETION_STATUS.agreed ? 'agreed' : 'failed'}, fuel ${entry.fuelUsed}, ${entry.receipts.length} receipts) in completion block ${done.completion.block.height} ${toHex(done.completion.block.hash)}`)
  console.log(`execution took ${Date.now() - t1} ms from submit to settled (${Date.now() - t0} ms including deploy)`)
  for (const p of entry.payouts) console.log(`  payout ${p.amount} to ${toHex(p.to)}`)
  console.log(`  refund ${entry.refund} to the client, burn ${entry.burn}`)
}
