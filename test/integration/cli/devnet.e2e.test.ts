import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { afterAll, describe, expect, it } from 'vitest'

import { devnetKey } from '../../../scripts/devnetKeys.ts'
import { createClient, getHosts, http } from '../../../src/client/index.ts'
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
  }, 240_000)
})
