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

function startNode(name: string, args: string[]): Promise<{ rpc: string }> {
  const child = spawn(process.execPath, ['bin/xsc.js', 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: process.env.XSC_LOG_LEVEL ?? 'warn' } })
  children.push(child)
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`))
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; rpc?: string }
        if (msg.event === 'ready' && msg.rpc) resolve({ rpc: msg.rpc })
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

const basePort = Number(values['rpc-port'])
const nodes = await Promise.all(validators.map((v, i) => startNode(`validator-${i}`, ['--data', join(dataDir, `validator-${i}`), '--key', v.file, '--genesis', values.genesis, '--rpc', `127.0.0.1:${basePort + i}`])))
const rpc = nodes[0]!.rpc
console.log(`devnet up: chain ${genesis.chainId}, ${validators.length} validator(s)`)
console.log(`RPC: ${rpc}`)

// Demo round trip: a transfer between two well-known accounts, seen in a block.
const client = createClient({ transport: http(rpc) })
const alice = devnetKey('account', 0)
const bob = devnetKey('account', 1)
const id = await transfer(client, { account: alice, to: bob.publicKey, amount: 1_000n, fee: 1n })
console.log(`transfer ${toHex(id)}: 1000 from account 0 to account 1`)
for (let i = 0; i < 100; i++) {
  const found = await getTransaction(client, { id })
  if (found) {
    console.log(`included in block ${found.blockHeight} ${toHex(found.blockHash)}`)
    break
  }
  await new Promise((r) => setTimeout(r, 100))
}
console.log(`account 1 balance: ${await getBalance(client, { address: bob.publicKey })}`)
const status = await getChainStatus(client)
console.log(`head ${status.head.height}, finalized ${status.finalized.height}`)
await client.close()
if (values.exit) {
  stopAll()
  process.exit(0)
}
console.log('producing blocks; Ctrl-C to stop')
