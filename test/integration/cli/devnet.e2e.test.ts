import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { afterAll, describe, expect, it } from 'vitest'

import { devnetKey } from '../../../scripts/devnetKeys.ts'
import { createClient, getHosts, http, watchEvents, webSocket } from '../../../src/client/index.ts'
import { fromHex } from '../../../src/crypto/index.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { runCli } from './cliHarness.ts'

/**
 * The acceptance round trip: on the devnet (`npm run devnet`: validators plus host processes
 * that store shards and run executions), deploy a fixture, exec it and read the result, all
 * through the CLI with --json.
 */

const tmp = tempDir('xsc-cli-devnet-')
let devnet: ChildProcess | undefined
let deployed: { rpc: string; key: string; assetId: string; executionId: string } | undefined
/** The host processes' RPC URLs (their /metrics show the shards they hold). */
const hostRpcs: string[] = []
afterAll(async () => {
  if (devnet && devnet.exitCode === null) {
    const exited = new Promise((r) => devnet!.once('exit', r))
    devnet.kill('SIGINT')
    await exited
  }
  tmp.cleanup()
})

/** Starts scripts/devnet.ts (which stops its nodes on SIGINT) and resolves with the first RPC URL it prints. */
function startDevnet(port: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/devnet.ts', '--data', join(tmp.dir, 'devnet'), '--rpc-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XSC_LOG_LEVEL: 'warn' } })
  devnet = child
  let output = ''
  child.stderr!.on('data', (d) => (output += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet did not come up: ${output}`)), 90_000)
    child.once('exit', (code) => reject(new Error(`devnet exited with ${code}: ${output}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += line + '\n'
      const host = /^host-\d+: RPC (http:\/\/\S+)/.exec(line)
      if (host) hostRpcs.push(host[1]!)
      const m = /RPC:? (http:\/\/\S+)/.exec(line)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
  })
}

describe('xsc deploy + exec round trip on the devnet', () => {
  it('deploys fib.wasm, runs fib(10) on hosts and prints 55 with fuel and cost, all as parseable --json', async () => {
    const rpc = await startDevnet(21000 + Math.floor(Math.random() * 400) * 10)
    const key = join(tmp.dir, 'account-0.json')
    writeKeyFile(key, devnetKey('account', 0))
    const json = async (...argv: string[]): Promise<Record<string, unknown>> => {
      const r = await runCli(...argv, '--rpc', rpc, '--json')
      expect(r.code, r.stdout).toBe(0)
      return r.json as Record<string, unknown>
    }
    const status = await waitFor(async () => {
      const s = (await json('status')) as { hosts: { storage: number; compute: number } }
      return s.hosts.storage >= 6 && s.hosts.compute >= 1 ? s : undefined
    }, 90_000, 'devnet hosts to join')
    // Bid what the devnet's hosts ask, whatever their configuration.
    const client = createClient({ transport: http(rpc) })
    const hosts = await getHosts(client, { limit: 1000 })
    await client.close()
    const maxAsk = (pick: (h: (typeof hosts)[number]) => bigint): string => String(hosts.reduce((m, h) => (pick(h) > m ? pick(h) : m), 1n))
    // Storage is priced up to 2× the ask on a full network (computeStoragePrice).
    const storageBid = String(2n * BigInt(maxAsk((h) => h.record.params.askPerByteEpoch)))
    const fuelBid = maxAsk((h) => h.record.params.askPerFuel)
    const d = await json('deploy', 'fixtures/wasm/fib.wasm', '--key', key, '--wait', '--bid', storageBid)
    expect(d).toMatchObject({ kind: 'module', assetId: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    expect((d.placement as unknown[]).length).toBe(6)
    const replicas = Math.min(3, status.hosts.compute)
    const e = await json('exec', d.assetId as string, 'run', '--key', key, '--input-hex', '0x0a000000', '--bid', fuelBid, '--fuel', '10000000', '--replicas', String(replicas), '--quorum', String(Math.min(2, replicas)), '--timeout', '90')
    expect(e).toMatchObject({ status: 'agreed', outcome: 'ok', output: { hex: '0x3700000000000000' }, hosts: expect.any(Array) })
    expect(BigInt(e.fuelUsed as string)).toBeGreaterThan(0n)
    expect(BigInt(e.cost as string)).toBe(BigInt(e.escrow as string) - BigInt(e.refund as string))
    expect((e.payouts as unknown[]).length).toBeGreaterThan(0)
    expect(await json('asset', d.assetId as string)).toMatchObject({ id: d.assetId, healthyShards: 6 })
    deployed = { rpc, key, assetId: d.assetId as string, executionId: e.executionId as string }
  }, 240_000)

  it('the whole lifecycle: ls, exec history and status, tx, extend (asset event), rm (refund, shards dropped on the hosts)', async () => {
    if (deployed === undefined) throw new Error('needs the deploy of the test above')
    const { rpc, key, assetId, executionId } = deployed
    const json = async (...argv: string[]): Promise<Record<string, unknown>> => {
      const r = await runCli(...argv, '--rpc', rpc, '--json')
      expect(r.code, r.stdout).toBe(0)
      return r.json as Record<string, unknown>
    }
    // An execution needs only the deployment, not its activation: the hosts' storage acks (which
    // make the asset active) may land a block or two after the execution completed.
    const ls = await waitFor(async () => {
      const listed = (await json('asset', 'ls', '--key', key)) as { assets: { id: string; status: string }[] }
      return listed.assets.find((a) => a.id === assetId)?.status === 'active' ? listed : undefined
    }, 30_000, 'the asset to be active')
    expect(ls.assets.find((a) => a.id === assetId)).toMatchObject({ status: 'active' })
    const history = (await json('exec', 'ls', '--asset', assetId)) as { executions: { id: string; status: string }[] }
    expect(history.executions.find((x) => x.id === executionId)).toMatchObject({ status: 'agreed' })
    expect((await json('exec', 'ls', '--key', key)) as { executions: { id: string }[] }).toMatchObject({ executions: expect.arrayContaining([expect.objectContaining({ id: executionId })]) })
    expect(await json('exec', 'status', executionId)).toMatchObject({ id: executionId, status: 'agreed', outcome: 'ok', output: { hex: '0x3700000000000000' } })
    expect(await json('tx', executionId)).toMatchObject({ status: 'included', type: 'execute' })

    const ws = createClient({ transport: webSocket(rpc.replace(/^http/, 'ws')) })
    const events: string[] = []
    const sub = watchEvents(ws, { filter: { topic: 'asset', asset: fromHex(assetId, 32) }, onEvent: (ev) => ev.topic === 'asset' && events.push(ev.kind) })
    const before = (await json('asset', assetId)) as { deposit: string }
    const ext = await json('asset', 'extend', assetId, '--amount', '5000', '--key', key, '--wait')
    expect(BigInt(ext.deposit as string)).toBeGreaterThan(BigInt(before.deposit) - 5000n)
    await waitFor(async () => events.includes('extended') || undefined, 20_000, 'the extended event')

    const shardsOnHosts = async (): Promise<number> => {
      let total = 0
      for (const url of hostRpcs) {
        const text = await (await fetch(`${url}/metrics`)).text()
        total += Number(/^xsc_host_shards (\d+)/m.exec(text)?.[1] ?? 0)
      }
      return total
    }
    const shardsBefore = await shardsOnHosts()
    expect(shardsBefore).toBeGreaterThanOrEqual(6)
    const rm = await json('asset', 'rm', assetId, '--key', key, '--wait')
    expect(rm).toMatchObject({ asset: assetId, block: expect.any(Object) })
    await waitFor(async () => events.includes('deleted') || undefined, 20_000, 'the deleted event')
    await sub.unsubscribe()
    await ws.close()
    const gone = await runCli('asset', assetId, '--rpc', rpc, '--json')
    expect(gone.code).toBe(1)
    expect(((await json('asset', 'ls', '--key', key, '--all')) as { assets: { id: string; status: string }[] }).assets.find((a) => a.id === assetId)).toMatchObject({ status: 'deleted' })
    // The six hosts drop their shards (the metric is cached for up to 10 s).
    // 60 s: a host starved of CPU by the rest of the suite imports the deletion's block late (CI, 2 cores).
    await waitFor(async () => ((await shardsOnHosts()) <= shardsBefore - 6 ? true : undefined), 60_000, 'hosts to drop the deleted asset\'s shards')
    const refused = await runCli('exec', assetId, 'run', '--key', key, '--input-hex', '0x0a000000', '--rpc', rpc, '--json')
    expect(refused.code).toBe(1)
  }, 120_000)
})
