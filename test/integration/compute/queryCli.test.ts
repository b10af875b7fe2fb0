import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { toHex, utf8 } from '../../../src/crypto/index.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir } from '../../support/chainFixtures.ts'
import { type Kit, sampleAsset, sampleHost, startKit } from '../../unit/rpc/rpcTestKit.ts'
import { runCli } from '../cli/cliHarness.ts'

/**
 * `xsc query`, `xsc query --state` and `xsc exec --dry-run` over real HTTP, against the in-memory
 * backend (its dry run reverses the input; the real runtime behind xsc_query is tested in
 * test/unit/node/assetQueries.test.ts). Nothing may reach the mempool.
 */
const tmp = tempDir('xsc-cli-query-')
let kit: Kit
let keyFile: string
let assetHex: string
beforeAll(async () => {
  kit = await startKit()
  keyFile = `${tmp.dir}/alice.json`
  writeKeyFile(keyFile, kit.alice)
  const hosts = [sampleHost(), sampleHost(), sampleHost()]
  for (const h of hosts) kit.backend.addHost(h)
  const asset = sampleAsset(kit.alice.publicKey, hosts.map((h) => h.address))
  kit.backend.addAsset(asset)
  assetHex = toHex(asset.id)
  kit.backend.assetState.set(assetHex, ['count', 'a', 'b'].map((k, i) => ({ key: utf8(k), value: new Uint8Array([i, 0, 0, 0]) })))
})
afterAll(async () => {
  await kit.server.close()
  tmp.cleanup()
})

describe('xsc query and dry runs send nothing', () => {
  it('xsc query prints the answer with the height it read, and no tx is sent', async () => {
    const run = await runCli('query', assetHex, 'run', '--input-hex', '0x01020304', '--rpc', kit.server.url, '--json')
    expect(run.code, run.stdout).toBe(0)
    const r = run.json as { outcome: string; output: { hex: string }; height: number; finalized: boolean }
    expect(r.outcome).toBe('ok')
    expect(r.output.hex).toBe('0x04030201')
    expect(r.height).toBe(kit.backend.head.block.header.height)
    expect(kit.backend.mempool).toHaveLength(0)
  })

  it('xsc query --state pages through the keys with --cursor', async () => {
    const first = await runCli('query', assetHex, '--state', '--limit', '2', '--rpc', kit.server.url, '--json')
    expect(first.code, first.stdout).toBe(0)
    const p1 = first.json as { entries: { key: { utf8: string } }[]; next: string }
    expect(p1.entries.map((e) => e.key.utf8)).toEqual(['a', 'b'])
    const second = await runCli('query', assetHex, '--state', '--cursor', p1.next, '--rpc', kit.server.url, '--json')
    const p2 = second.json as { entries: { key: { utf8: string }; value: { u32: number } }[]; next?: string }
    expect(p2.entries.map((e) => [e.key.utf8, e.value.u32])).toEqual([['count', 0]])
    expect(p2.next).toBeUndefined()
  })

  it('xsc exec --dry-run prints outcome, output, fuel, cost and fee without sending', async () => {
    const run = await runCli('exec', assetHex, 'run', '--key', keyFile, '--input-hex', '0x0a0b', '--bid', '2', '--fuel', '5000', '--dry-run', '--rpc', kit.server.url, '--json')
    expect(run.code, run.stdout).toBe(0)
    const r = run.json as { dryRun: boolean; outcome: string; output: { hex: string }; fuelUsed: string; escrow: string; cost: string; fee: string }
    expect(r.dryRun).toBe(true)
    expect(r.output.hex).toBe('0x0b0a')
    expect(BigInt(r.fuelUsed)).toBe(120n)
    expect(BigInt(r.cost)).toBeGreaterThan(0n)
    expect(BigInt(r.cost)).toBeLessThan(BigInt(r.escrow))
    // No --fee: the node's suggestion for an execute of this size (the in-memory node's base fee may be 0).
    expect(BigInt(r.fee)).toBeGreaterThanOrEqual(0n)
    expect(kit.backend.mempool).toHaveLength(0)
  })

  it('xsc query on an unknown asset explains itself', async () => {
    const run = await runCli('query', '0x' + '11'.repeat(32), 'run', '--rpc', kit.server.url)
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/no asset/)
  })
})
