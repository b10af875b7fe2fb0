import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { CAPABILITY, COMPLETION_STATUS } from '../../blocks/schema.ts'
import { type Client, createClient, deploy, execute, getAsset, getChainParams, getHosts, http, waitForExecution } from '../../src/client/index.ts'
import { createLogger } from '../../src/node/logger.ts'
import { receiptPushProtocol, ReceiptPushServer } from '../../src/node/network/receiptPush.ts'
import { REGOSSIP_AFTER_BLOCKS } from '../../src/node/network/unsettledReceipts.ts'
import { XscNode } from '../../src/node/node.ts'
import { codingParamsOf, computeManifest } from '../../src/storage/encodeAsset.ts'
import { tempDir, testGenesis, testKey } from '../support/chainFixtures.ts'
import { waitFor } from '../support/nodeProcess.ts'

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
const fibOf = (out: Uint8Array): bigint => new DataView(out.buffer, out.byteOffset, 8).getBigUint64(0, true)

let nodes: XscNode[] = []
let client: Client | undefined
let tmp: ReturnType<typeof tempDir> | undefined
afterEach(async () => {
  await client?.close()
  await Promise.all(nodes.map((n) => n.stop()))
  nodes = []
  tmp?.cleanup()
  tmp = undefined
})

// A validator that takes its hosts' receipt pushes (its hello is genuine, so every host counts it
// as reached and sends nothing by gossip) and silently drops every batch: a censoring or broken
// push path. Real nodes in this process, real libp2p, real WASM. The only validator drops, so no
// other proposer can settle the execution: it settles only through the host's fallback, the
// gossip of a receipt still unsettled REGOSSIP_AFTER_BLOCKS after it was pushed (unsettledReceipts.ts),
// which the validator's gossip path judges as any other. Without that fallback the execution
// would run into its deadline and expire (checked: with the fallback pushed out to 4,000 blocks
// this test fails on the completion's status).
describe('receipt push: a validator that drops pushed receipts', () => {
  it('cannot stall a settlement: the hosts gossip their unsettled receipts and the execution is agreed', async () => {
    tmp = tempDir('xsc-push-drop-')
    const validatorKey = testKey('push-drop-validator')
    const hostKeys = [0, 1, 2, 3, 4, 5].map((i) => testKey(`push-drop-host-${i}`))
    const payer = testKey('push-drop-client')
    const genesis = testGenesis({ validators: [validatorKey], funded: [payer, validatorKey, ...hostKeys].map((key) => ({ key, amount: 10n ** 15n })), slotMs: 500, genesisTime: BigInt(Date.now() + 1500) })
    const validator = await XscNode.start({ dataDir: join(tmp.dir, 'validator'), genesis, validatorKey, rpc: { port: 0 }, logLevel: 'warn', p2p: {} })
    nodes.push(validator)

    // Swap the validator's push handler for one that says hello with its real key and drops every batch.
    const net = validator.net!
    await net.unhandle(receiptPushProtocol(genesis.chainId))
    const dropper = new ReceiptPushServer({ net, log: createLogger({ level: 'silent' }), chainId: genesis.chainId, validatorKey, accept: () => 'accept' })
    await dropper.start()

    const bootstrap = net.multiaddrs().map(String)
    for (const [i, key] of hostKeys.entries()) {
      nodes.push(await XscNode.start({
        dataDir: join(tmp.dir, `host-${i}`),
        genesis,
        rpc: { port: 0 },
        logLevel: 'warn',
        p2p: { bootstrap },
        host: { key, coord: { x: 100 + 30 * i, y: 100 + 20 * (i % 3), z: 100 }, zone: `zone-${i % 3}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n },
      }))
    }
    client = createClient({ transport: http(validator.rpc.url) })
    const c = client
    await waitFor(async () => (await getHosts(c, { limit: 10 })).length >= 6, 60_000, 'six hosts to join')

    const code = new Uint8Array(readFileSync('fixtures/wasm/fib.wasm'))
    const manifest = computeManifest(code, codingParamsOf((await getChainParams(c)).params))
    const asset = await deploy(c, { account: payer, bytes: code, manifest, kind: 'module', deposit: 10_000_000n, bidPerByteEpoch: 10n })
    await waitFor(() => getAsset(c, { id: asset }), 30_000, 'the deployment block')

    const id = await execute(c, { account: payer, asset, fn: 'run', input: u32(20), fuelLimit: 10_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, deadlineSlots: 40 })
    const done = await waitForExecution(c, { id, timeoutMs: 60_000 })

    expect(done.completion!.entry.status).toBe(COMPLETION_STATUS.agreed)
    expect(fibOf(done.completion!.entry.output)).toBe(6765n)
    // The hosts did push (to the dropper), and the settlement came by the late gossip, not the push.
    expect(dropper.received).toBeGreaterThan(0)
    expect(done.completion!.block.height - done.scheduled.height).toBeGreaterThanOrEqual(REGOSSIP_AFTER_BLOCKS)
  }, 180_000)
})
