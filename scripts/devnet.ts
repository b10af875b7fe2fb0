// `npm run devnet`: a local network on 127.0.0.1 from the repo's genesis.json. Each node is its
// own process with its own data dir; Ctrl-C stops every process this script started.
// Options: --data DIR (default .devnet, wiped first), --rpc-port 8545, --exit (stop after the demo).
import '../src/polyfill.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { createClient, getBalance, getChainStatus, getTransaction, http, transfer } from '../src/client/index.ts'
import { equalBytes, toHex } from '../src/crypto/index.ts'
import { readGenesisFile } from '../src/node/genesisFile.ts'
import { writeKeyFile } from '../src/node/keyFile.ts'
import { devnetKey } from './devnetKeys.ts'

const { values } = parseArgs({ options: { data: { type: 'string', default: '.devnet' }, 'rpc-port': { type: 'string', default: '8545' }, exit: { type: 'boolean', default: false }, genesis: { type: 'string', default: 'genesis.json' } } })
const dataDir = values.data
const genesis = readGenesisFile(values.genesis)
rmSync(dataDir, { recursive: true, force: true })
mkdirSync(join(dataDir, 'keys'), { recursive: true })

const children: ChildProcess[] = []
function stopAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}
process.on('SIGINT', () => {
  stopAll()
  process.exit(130)
})
process.on('exit', stopAll)

function startNode(name: string, args: string[]): Promise<{ rpc: string; p2p: string[] }> {
  const child = spawn(process.execPath, ['bin/xsc.js', 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: process.env.XSC_LOG_LEVEL ?? 'warn' } })
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

// Demo round trip: a transfer between two well-known accounts, seen in a block. Sent to the last
// validator and read back from the first, so it crosses the network.
const client = createClient({ transport: http(nodes[nodes.length - 1]!.rpc) })
const reader = createClient({ transport: http(rpc) })
const alice = devnetKey('account', 0)
const bob = devnetKey('account', 1)
const id = await transfer(client, { account: alice, to: bob.publicKey, amount: 1_000n, fee: 1n })
console.log(`transfer ${toHex(id)}: 1000 from account 0 to account 1`)
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
await client.close()
await reader.close()
if (values.exit) {
  stopAll()
  process.exit(0)
}
console.log('producing blocks; Ctrl-C to stop')
