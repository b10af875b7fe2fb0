import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import type { GenesisConfig } from '../../blocks/schema.ts'
import { type Client, createClient, deploy, execute, getAsset, getChainParams, getHosts, http, waitForExecution } from '../../src/client/index.ts'
import type { KeyPair } from '../../src/crypto/index.ts'
import { writeGenesisFile } from '../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../src/node/keyFile.ts'
import { codingParamsOf, computeManifest } from '../../src/storage/encodeAsset.ts'
import { tempDir, testGenesis, testKey } from './chainFixtures.ts'
import { type NodeProcess, startNodeProcess, waitFor } from './nodeProcess.ts'

/**
 * A whole network as separate `xsc node` processes on 127.0.0.1: validators and hosts (each with
 * its own data dir and key), from a fresh genesis that starts a moment in the future. Every
 * process can be killed and restarted on its own.
 */
export interface ComputeNetwork {
  dir: string
  genesis: GenesisConfig
  genesisPath: string
  validatorKeys: KeyPair[]
  hostKeys: KeyPair[]
  client: KeyPair
  validators: (NodeProcess | undefined)[]
  hosts: (NodeProcess | undefined)[]
  rpc(i?: number): Client
  bootstrap(): string[]
  startHost(i: number): Promise<NodeProcess>
  killHost(i: number): Promise<void>
  waitForHosts(n: number): Promise<void>
  deployFixture(file: string, opts?: { from?: KeyPair }): Promise<Uint8Array>
  executeAndWait(asset: Uint8Array, input: Uint8Array, opts?: { replicas?: number; quorum?: number; from?: KeyPair; deadlineSlots?: number }): Promise<Awaited<ReturnType<typeof waitForExecution>>>
  close(): Promise<void>
}

export async function startComputeNetwork(opts: { name: string; validators: number; hosts: number; auditEpochSlots?: number; slotMs?: number; params?: Partial<GenesisConfig['params']>; hostSite?: (i: number) => { coord: string; zone: string }; hostCaps?: string; /** Extra `xsc node` flags for every host (e.g. --capacity). */ hostArgs?: string[] }): Promise<ComputeNetwork> {
  const tmp = tempDir(`xsc-${opts.name}-`)
  const validatorKeys = Array.from({ length: opts.validators }, (_, i) => testKey(`${opts.name}-validator-${i}`))
  const hostKeys = Array.from({ length: opts.hosts + 2 }, (_, i) => testKey(`${opts.name}-host-${i}`))
  const client = testKey(`${opts.name}-client`)
  const base = testGenesis({ validators: validatorKeys, funded: [client, ...hostKeys, ...validatorKeys].map((key) => ({ key, amount: 10n ** 15n })), slotMs: opts.slotMs ?? 500, genesisTime: BigInt(Date.now() + 1500) })
  const genesis: GenesisConfig = { ...base, params: { ...base.params, auditEpochSlots: opts.auditEpochSlots ?? 1000, ...opts.params } }
  const genesisPath = join(tmp.dir, 'genesis.json')
  writeGenesisFile(genesisPath, genesis)
  validatorKeys.forEach((k, i) => writeKeyFile(join(tmp.dir, `validator-${i}.json`), k))
  hostKeys.forEach((k, i) => writeKeyFile(join(tmp.dir, `host-${i}.json`), k))
  const validators: (NodeProcess | undefined)[] = []
  const hosts: (NodeProcess | undefined)[] = []
  const clients = new Map<string, Client>()
  const common = ['--genesis', genesisPath, '--rpc', '127.0.0.1:0']
  const first = await startNodeProcess(['--data', join(tmp.dir, 'validator-0'), '--key', join(tmp.dir, 'validator-0.json'), ...common])
  validators.push(first)
  validators.push(...(await Promise.all(validatorKeys.slice(1).map((_, j) => startNodeProcess(['--data', join(tmp.dir, `validator-${j + 1}`), '--key', join(tmp.dir, `validator-${j + 1}.json`), ...common, '--bootstrap', first.p2p[0]!])))))
  const net: ComputeNetwork = {
    dir: tmp.dir,
    genesis,
    genesisPath,
    validatorKeys,
    hostKeys,
    client,
    validators,
    hosts,
    rpc(i = 0) {
      const node = validators[i]!
      let c = clients.get(node.rpc)
      if (!c) clients.set(node.rpc, (c = createClient({ transport: http(node.rpc) })))
      return c
    },
    bootstrap() {
      return validators.filter((v): v is NodeProcess => v !== undefined).map((v) => v.p2p[0]!)
    },
    async startHost(i) {
      const site = opts.hostSite?.(i) ?? { coord: `${100 + 30 * i},${100 + 20 * (i % 3)},100`, zone: `zone-${i % 3}` }
      const node = await startNodeProcess(['--data', join(tmp.dir, `host-${i}`), ...common, '--host', '--host-key', join(tmp.dir, `host-${i}.json`), '--coord', site.coord, '--zone', site.zone, '--asks', '1,1', ...(opts.hostCaps ? ['--caps', opts.hostCaps] : []), ...(opts.hostArgs ?? []), ...net.bootstrap().flatMap((b) => ['--bootstrap', b])])
      hosts[i] = node
      return node
    },
    async killHost(i) {
      await hosts[i]?.kill()
      hosts[i] = undefined
    },
    async waitForHosts(n) {
      await waitFor(async () => (await getHosts(net.rpc(), { limit: 1000 })).length >= n, 120_000, `${n} hosts to join`)
    },
    async deployFixture(file, o = {}) {
      const code = new Uint8Array(readFileSync(file))
      const manifest = computeManifest(code, codingParamsOf((await getChainParams(net.rpc())).params))
      const asset = await deploy(net.rpc(), { account: o.from ?? client, bytes: code, manifest, kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n })
      await waitFor(() => getAsset(net.rpc(), { id: asset }), 30_000, 'the deployment block')
      return asset
    },
    async executeAndWait(asset, input, o = {}) {
      const id = await execute(net.rpc(), { account: o.from ?? client, asset, fn: 'run', input, fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: o.replicas ?? 3, quorum: o.quorum ?? 2, deadlineSlots: o.deadlineSlots ?? 40 })
      return waitForExecution(net.rpc(), { id, timeoutMs: 60_000 })
    },
    async close() {
      for (const c of clients.values()) await c.close()
      await Promise.all([...validators, ...hosts].map((n) => n?.stop()))
      tmp.cleanup()
    },
  }
  // A host that fails to start must not leave the others running.
  await Promise.all(Array.from({ length: opts.hosts }, (_, i) => net.startHost(i))).catch(async (err: unknown) => {
    await net.close()
    throw err
  })
  return net
}
