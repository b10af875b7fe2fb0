// `npx tsx scripts/compose-init.ts [--out compose-net] [--passphrase-file FILE]`: sets up the
// 4-validator + 6-host network of compose.yaml: one directory per node made by `xsc init` (keys
// encrypted with the passphrase, a node.toml with its announce address on the compose network),
// a genesis.json naming the validators and funding the hosts and a demo client key.
// The passphrase comes from --passphrase-file or $XSC_PASSPHRASE; compose.yaml hands the same
// file to every container as the secret xsc_passphrase.
import '../src/polyfill.ts'

import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import type { GenesisConfig } from '../blocks/schema.ts'
import { main } from '../src/cli/main.ts'
import { readPassphraseFile } from '../src/cli/passphrase.ts'
import { fromHex, generateKeyPair, toHex } from '../src/crypto/index.ts'
import { writeGenesisFile } from '../src/node/genesisFile.ts'
import { writeKeyFile } from '../src/node/keyFile.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../src/state/genesisJson.ts'

const { values } = parseArgs({ options: { out: { type: 'string', default: 'compose-net' }, 'passphrase-file': { type: 'string' } } })
// Handed to init through the environment, so the configs do not name this machine's file: the
// containers get theirs as a secret (--passphrase-file in compose.yaml).
if (values['passphrase-file'] !== undefined) process.env.XSC_PASSPHRASE = readPassphraseFile(values['passphrase-file'])
if (!process.env.XSC_PASSPHRASE) throw new Error('give --passphrase-file FILE or set XSC_PASSPHRASE')
const out = resolve(values.out)
if (existsSync(join(out, 'genesis.json'))) throw new Error(`${out} is already set up; remove it first`)
mkdirSync(out, { recursive: true })
/** Must match the subnet and addresses in compose.yaml. */
const ipOf = (role: 'validator' | 'host', i: number) => `172.31.77.${role === 'validator' ? 10 + i : 20 + i}`

async function init(args: string[]): Promise<{ validator?: string; host?: string; p2p: string[] }> {
  let text = ''
  const code = await main(['init', ...args, '--json'], (s) => (text += s), (s) => process.stderr.write(s + '\n'))
  if (code !== 0) throw new Error(`xsc init ${args.join(' ')} failed: ${text}`)
  return JSON.parse(text) as { validator?: string; host?: string; p2p: string[] }
}
const net = (ip: string) => ['--listen', '/ip4/0.0.0.0/tcp/4001', '--announce', `/ip4/${ip}/tcp/4001`, '--rpc', '0.0.0.0:8545']

const v0 = await init(['--validator', join(out, 'validator-0'), ...net(ipOf('validator', 0))])
const validators = [v0]
for (let i = 1; i < 4; i++) validators.push(await init(['--validator', join(out, `validator-${i}`), ...net(ipOf('validator', i)), '--bootstrap', v0.p2p[0]!]))
const boot = validators.flatMap((v) => ['--bootstrap', v.p2p[0]!])
const hosts = []
for (let i = 0; i < 6; i++) hosts.push(await init(['--host', join(out, `host-${i}`), ...net(ipOf('host', i)), ...boot, '--coord', `${100 + 40 * i},${100 + 25 * (i % 3)},100`, '--zone', `zone-${i % 3}`, '--asks', '1,1']))

const client = generateKeyPair()
writeKeyFile(join(out, 'client.json'), client)
const genesis: GenesisConfig = {
  chainId: 'xsc-compose',
  genesisTime: BigInt(Date.now()),
  slotMs: 1000,
  tokenSymbol: 'XSC',
  tokenDecimals: 9,
  allocations: [client.publicKey, ...hosts.map((h) => fromHex(h.host!, 32)), ...validators.map((v) => fromHex(v.validator!, 32))].map((to) => ({ to, amount: 10n ** 15n })),
  // Keys stay in the (possibly encrypted) key files: no beacon chain at genesis; each validator commits by tx.
  validators: validators.map((v) => ({ address: fromHex(v.validator!, 32), stake: 1_000_000n, peerId: '', beaconCommitment: new Uint8Array(32) })),
  consensus: DEFAULT_CONSENSUS,
  params: DEFAULT_PARAMS,
}
writeGenesisFile(join(out, 'genesis.json'), genesis)
for (const dir of [...validators.map((_, i) => `validator-${i}`), ...hosts.map((_, i) => `host-${i}`)]) copyFileSync(join(out, 'genesis.json'), join(out, dir, 'genesis.json'))
console.log(`network set up in ${out}: 4 validators, 6 hosts, client key ${out}/client.json (${toHex(client.publicKey)})`)
console.log('next: docker compose up -d   (compose.yaml reads this directory and the passphrase file)')
