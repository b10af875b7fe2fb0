import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { txId } from '../../../blocks/ids.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'
import { type Kit, sampleAsset, sampleExecution, sampleHost, startKit } from '../../unit/rpc/rpcTestKit.ts'
import { runCli } from './cliHarness.ts'

/**
 * `xsc exec` on an execution that settles as agreed: the printing side of the acceptance round
 * trip (result as hex / text / u32, fuel, cost = escrow − refund, payouts, hosts), over real
 * HTTP against the in-memory backend standing in for a node whose hosts ran it. The real thing
 * runs in devnet.e2e.test.ts once the devnet starts hosts.
 */
const tmp = tempDir('xsc-cli-exec-')
let kit: Kit
let keyFile: string
beforeAll(async () => {
  kit = await startKit()
  keyFile = `${tmp.dir}/alice.json`
  writeKeyFile(keyFile, kit.alice)
})
afterAll(async () => {
  await kit.server.close()
  tmp.cleanup()
})

/** Answers the first execute tx that reaches the mempool: a block schedules it, a completion settles it. */
async function settleNextExecution(output: Uint8Array, fuelUsed: bigint, refund: bigint): Promise<void> {
  const tx = await waitFor(async () => kit.backend.mempool.find((t) => t.body.payload.type === 'execute'), 10_000, 'an execute tx')
  const p = tx.body.payload
  if (p.type !== 'execute') throw new Error('unreachable')
  kit.backend.produceBlock()
  const hosts = [...(await kit.backend.listHosts({ offset: 0, limit: 10 }))].slice(0, p.replicas).map((h) => h.address)
  const template = sampleExecution(tx.body.from, p.asset, hosts, true)
  const id = txId(tx)
  const escrow = 3_255_000n
  kit.backend.addExecution({
    id,
    record: { ...template.record, fuelLimit: p.fuelLimit, bidPerFuel: p.bidPerFuel, replicas: p.replicas, quorum: p.quorum, input: p.input, escrow },
    scheduled: { height: kit.backend.head.block.header.height, hash: kit.backend.head.hash },
    completion: { block: template.completion!.block, entry: { ...template.completion!.entry, executionId: id, output, fuelUsed, refund, payouts: hosts.map((to) => ({ to, amount: fuelUsed })), writeSet: [] } },
  })
}

describe('xsc exec prints an agreed result', () => {
  it('JSON: status, outcome, output views, fuel, cost = escrow − refund, payouts and hosts', async () => {
    const hosts = [sampleHost(), sampleHost(), sampleHost()]
    for (const h of hosts) kit.backend.addHost(h)
    const asset = sampleAsset(kit.alice.publicKey, hosts.map((h) => h.address))
    kit.backend.addAsset(asset)
    const fib10 = new Uint8Array([55, 0, 0, 0, 0, 0, 0, 0])
    const [run] = await Promise.all([
      runCli('exec', toHex(asset.id), 'run', '--key', keyFile, '--input-hex', '0x0a000000', '--bid', '2', '--fee', '1', '--rpc', kit.server.url, '--json'),
      settleNextExecution(fib10, 5231n, 3_239_307n),
    ])
    expect(run.code, run.stdout).toBe(0)
    const r = run.json as Record<string, unknown>
    expect(r).toMatchObject({
      asset: toHex(asset.id), fn: 'run', status: 'agreed', outcome: 'ok',
      output: { hex: '0x3700000000000000', utf8: null, u32: null },
      fuelUsed: '5231', fuelLimit: '1000000', escrow: '3255000', refund: '3239307', cost: '15693', fee: '1',
    })
    expect(r.hosts).toHaveLength(3)
    expect(r.payouts).toEqual((r.hosts as string[]).map((to) => ({ to, amount: '5231' })))
    expect(r.executionId).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('text: a 4-byte output shows as u32, printable output as text', async () => {
    const asset = sampleAsset(kit.alice.publicKey, [])
    const [run] = await Promise.all([
      runCli('exec', toHex(asset.id), 'run', '--key', keyFile, '--input', 'x', '--bid', '2', '--replicas', '1', '--quorum', '1', '--fee', '1', '--rpc', kit.server.url),
      settleNextExecution(new Uint8Array([0x68, 0x69, 0x21, 0x0a]), 10n, 0n),
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^execution 0x[0-9a-f]{64}: ok \(block \d+\)\noutput {4}0x6869210a {2}"hi!\n" {2}u32 169961832\nfuel {6}10 of 1000000\ncost {6}3255000 \(escrow 3255000 − refund 0\) \+ fee 1\n/)
  })
})
