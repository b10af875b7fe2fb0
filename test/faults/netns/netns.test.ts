import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { GenesisConfig } from '../../../blocks/schema.ts'
import { main } from '../../../src/cli/main.ts'
import { fromHex } from '../../../src/crypto/index.ts'
import { writeGenesisFile } from '../../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { createTopology, type Machine, netnsUnavailableReason, sweepStaleNamespaces, type Topology } from './netnsTopology.ts'

/**
 * Many machines: 4 validators and 6 hosts, each in its own Linux network namespace with its own
 * 10.77.0.x address (loopback down), each set up by `xsc init` and run by `xsc node --config` with
 * an encrypted key and announce addresses; a client in a namespace of its own runs
 * deploy → execute → complete through those addresses. Needs root and iproute2; skips otherwise.
 */
// Four validators (finality needs three of them) and six hosts for the default 4+2 coding: the
// layout of compose.yaml.
const VALIDATORS = 4
const HOSTS = 6
const SLOT_MS = 1500
const unavailable = netnsUnavailableReason()
if (unavailable) console.warn(`netns test SKIPPED: ${unavailable}`)

const repo = resolve(import.meta.dirname, '../../..')
const tmp = tempDir('xsc-netns-')
const passFile = join(tmp.dir, 'passphrase')
let topo: Topology | undefined
const children: ChildProcess[] = []

function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  topo?.destroy()
  topo = undefined
}

async function cli(...argv: string[]): Promise<Record<string, unknown>> {
  let out = ''
  let err = ''
  const code = await main([...argv, '--json'], (s) => (out += s), (s) => (err += s))
  if (code !== 0) throw new Error(`xsc ${argv.join(' ')} failed: ${out} ${err}`)
  return JSON.parse(out) as Record<string, unknown>
}

/** Runs `args` inside a machine's namespace (ip netns exec execs the command: the pid is the node's). */
function inNamespace(m: Machine, args: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', m.ns, process.execPath, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: 'warn' } })
  children.push(child)
  return child
}

/** Node logs (warnings and errors) are kept here after the run, for a failure's post-mortem. */
const logDir = join(tmpdir(), `xsc-netns-logs-${process.pid}`)

function startNode(m: Machine, config: string): Promise<{ rpc: string; p2p: string[] }> {
  const child = inNamespace(m, ['bin/xsc.js', 'node', '--config', config])
  let stderr = ''
  mkdirSync(logDir, { recursive: true })
  const logFile = createWriteStream(join(logDir, `${m.name}.log`))
  child.stderr!.on('data', (d: Buffer) => {
    logFile.write(d)
    stderr = (stderr + d.toString()).slice(-4000)
  })
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${m.name} did not start: ${stderr}`)), 300_000)
    child.once('exit', (code) => rej(new Error(`${m.name} exited with ${code}: ${stderr}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; rpc: string; p2p: string[] }
        if (msg.event === 'ready') {
          clearTimeout(timer)
          res(msg)
        }
      } catch {
        // not JSON
      }
    })
  })
}

describe.skipIf(unavailable !== undefined)('many machines: validators and hosts in separate network namespaces', () => {
  let validators: Machine[]
  let hosts: Machine[]
  let client: Machine
  const ready: { rpc: string; p2p: string[] }[] = []
  let hostAddresses: string[] = []

  beforeAll(async () => {
    process.once('exit', cleanup)
    sweepStaleNamespaces()
    topo = createTopology([...Array.from({ length: VALIDATORS }, (_, i) => `validator-${i}`), ...Array.from({ length: HOSTS }, (_, i) => `host-${i}`), 'client'])
    validators = topo.machines.slice(0, VALIDATORS)
    hosts = topo.machines.slice(VALIDATORS, VALIDATORS + HOSTS)
    client = topo.machines[VALIDATORS + HOSTS]!
    writeFileSync(passFile, 'netns test passphrase\n', { mode: 0o600 })

    // Each machine is set up as an operator would: xsc init, keys encrypted with the passphrase.
    const p2p = (m: Machine) => ['--listen', '/ip4/0.0.0.0/tcp/4001', '--announce', `/ip4/${m.ip}/tcp/4001`, '--rpc', `${m.ip}:8545`, '--passphrase-file', passFile]
    const v0 = await cli('init', '--validator', join(tmp.dir, 'validator-0'), ...p2p(validators[0]!))
    const boot = (v0.p2p as string[])[0]!
    const vs = [v0, ...(await Promise.all(validators.slice(1).map((m) => cli('init', '--validator', join(tmp.dir, m.name), ...p2p(m), '--bootstrap', boot))))]
    const allBoot = vs.map((v) => (v.p2p as string[])[0]!)
    // Hosts serve shard windows over HTTP to the other machines (the default, 127.0.0.1, does not
    // exist here: loopback is down in every machine namespace), as an operator of a real host would.
    const hs = await Promise.all(hosts.map((m, i) => cli('init', '--host', join(tmp.dir, m.name), ...p2p(m), ...allBoot.flatMap((b) => ['--bootstrap', b]), '--coord', `${100 + 30 * i},${100 + 20 * (i % 3)},100`, '--zone', `zone-${i % 3}`, '--asks', '1,1', '--shard-http', '0.0.0.0:4002')))

    hostAddresses = hs.map((h) => String(h.host))
    const clientKey = testKey('netns-client')
    writeKeyFile(join(tmp.dir, 'client.json'), clientKey)
    const asKey = (hex: unknown) => ({ publicKey: fromHex(String(hex), 32), secretKey: new Uint8Array(32) })
    const base = testGenesis({
      validators: vs.map((v) => asKey(v.validator)),
      funded: [clientKey, ...hs.map((h) => asKey(h.host)), ...vs.map((v) => asKey(v.validator))].map((key) => ({ key, amount: 10n ** 15n })),
      slotMs: SLOT_MS,
      genesisTime: BigInt(Date.now() + 3000),
    })
    // The operators' keys stay in their keystores, so genesis cannot hold beacon commitments derived
    // from them (testGenesis derives them from the secret keys it is given): registered without one,
    // each validator commits its chain with a validator.beacon tx in its first block.
    const genesis: GenesisConfig = { ...base, validators: base.validators.map((v) => ({ ...v, beaconCommitment: new Uint8Array(32) })), params: { ...base.params, auditEpochSlots: 1000 } }
    writeGenesisFile(join(tmp.dir, 'genesis.json'), genesis)
    for (const m of [...validators, ...hosts]) copyFileSync(join(tmp.dir, 'genesis.json'), join(tmp.dir, m.name, 'genesis.json'))

    ready.push(await startNode(validators[0]!, join(tmp.dir, 'validator-0', 'node.toml')))
    ready.push(...(await Promise.all(validators.slice(1).map((m) => startNode(m, join(tmp.dir, m.name, 'node.toml'))))))
    ready.push(...(await Promise.all(hosts.map((m) => startNode(m, join(tmp.dir, m.name, 'node.toml'))))))
  }, 900_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
    cleanup()
    tmp.cleanup()
  }, 60_000)

  it('every node announces its own 10.77.0.x address, never 127.0.0.1', () => {
    const machines = [...validators, ...hosts]
    ready.forEach((r, i) => {
      expect(r.rpc).toBe(`http://${machines[i]!.ip}:8545`)
      expect(r.p2p.length).toBeGreaterThan(0)
      for (const a of r.p2p) expect(a).toMatch(new RegExp(`^/ip4/${machines[i]!.ip.replace(/\./g, '\\.')}/tcp/4001/p2p/`))
    })
  })

  it('deploy → execute → complete across the namespaces; every validator finalizes the same completion; probes and host metrics answer over the network', async () => {
    const plan = join(tmp.dir, 'plan.json')
    writeFileSync(plan, JSON.stringify({ validators: validators.map((m) => `http://${m.ip}:8545`), hosts: hosts.map((m) => `http://${m.ip}:8545`), clientKey: join(tmp.dir, 'client.json'), fixture: join(repo, 'fixtures/wasm/fib.wasm') }))
    const driver = inNamespace(client, ['--import', 'tsx', 'test/faults/netns/driveRoundTrip.ts', plan])
    let stdout = ''
    let stderr = ''
    driver.stdout!.on('data', (d: Buffer) => (stdout += d))
    driver.stderr!.on('data', (d: Buffer) => {
      stderr += d
      process.stderr.write(d)
    })
    const code = await new Promise<number | null>((r) => driver.once('exit', r))
    expect(code, stderr.slice(-3000)).toBe(0)
    const facts = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      hostPeerIds: string[]; placement: number; status: number; output: string; receipts: number; payouts: { to: string; amount: string }[]
      completionHashes: (string | null)[]; probes: { url: string; health: number; ready: number; readyBody: unknown; storedBytes: number; shards: number; earned: number; finalized: number }[]
    }
    // The chain records each host at its announce address (what other machines dial).
    expect(facts.hostPeerIds.sort()).toEqual(hosts.map((m) => expect.stringMatching(new RegExp(`^/ip4/10\\.77\\.0\\.\\d+/tcp/4001/p2p/`))))
    expect(new Set(facts.hostPeerIds.map((a) => a.split('/')[2])).size).toBe(HOSTS)
    expect(facts.hostPeerIds.some((a) => a.includes('127.0.0.1'))).toBe(false)
    expect(facts.placement).toBe(HOSTS)
    expect(facts).toMatchObject({ status: 0, output: '6765' })
    expect(facts.receipts).toBeGreaterThanOrEqual(2)
    expect(facts.payouts.length).toBeGreaterThan(0)
    expect(new Set(facts.completionHashes).size).toBe(1)
    expect(facts.completionHashes[0]).not.toBeNull()
    // Probes: everyone is live; validators are ready (peers, finality); hosts report what they store and earn.
    for (const p of facts.probes) expect(p.health, p.url).toBe(200)
    for (const p of facts.probes.slice(0, VALIDATORS)) expect(p.ready, JSON.stringify(p.readyBody)).toBe(200)
    const hostProbes = facts.probes.slice(VALIDATORS)
    expect(hostProbes.reduce((s, p) => s + p.shards, 0)).toBe(HOSTS)
    for (const p of hostProbes) expect(p.storedBytes, p.url).toBeGreaterThan(0)
    hostAddresses.forEach((address, i) => {
      const paid = facts.payouts.filter((p) => p.to === address).reduce((s, p) => s + Number(p.amount), 0)
      expect(hostProbes[i]!.earned, `earnings metric of ${hosts[i]!.name}`).toBe(paid)
    })
    expect(hostProbes.filter((p) => p.earned > 0).length).toBeGreaterThanOrEqual(2)
  }, 1_200_000)
})
