import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { main } from '../../../src/cli/main.ts'
import { createClient, getBalance, getBlock, getChainStatus, getTransaction, http, RpcClientError, transfer } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { readKeyFile } from '../../../src/node/keyFile.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'
import { type NodeProcess, startNodeProcess, waitFor } from '../../support/nodeProcess.ts'

const tmp = tempDir('xsc-e2e-')
let node: NodeProcess | undefined
afterAll(async () => {
  await node?.stop()
  tmp.cleanup()
})

async function cli(...argv: string[]): Promise<unknown> {
  const lines: string[] = []
  const code = await main([...argv, '--json'], (s) => lines.push(s))
  expect(code, lines.join('\n')).toBe(0)
  return JSON.parse(lines.join('\n'))
}

describe('xsc node end to end', () => {
  it('starts from `xsc genesis init`, includes transfers sent over HTTP JSON-RPC, and keeps chain and balances across a restart', async () => {
    const alice = testKey('e2e-alice')
    const bob = testKey('e2e-bob')
    const genesisPath = join(tmp.dir, 'genesis.json')
    await cli('genesis', 'init', '--out', genesisPath, '--keys-dir', join(tmp.dir, 'keys'), '--chain-id', 'xsc-e2e', '--slot-ms', '200', '--fund', `${toHex(alice.publicKey)}=1000000`)
    const args = ['--data', join(tmp.dir, 'data'), '--genesis', genesisPath, '--key', join(tmp.dir, 'keys', 'validator-0.json'), '--rpc', '127.0.0.1:0']
    node = await startNodeProcess(args)
    let client = createClient({ transport: http(node.rpc) })

    const ids: Uint8Array[] = []
    // The client picks each fee (xsc_feeEstimate); the first transfer creates bob at the existential deposit (1000).
    let fees = 0n
    for (let n = 0; n < 5; n++) ids.push(await transfer(client, { account: alice, to: bob.publicKey, amount: 1000n, nonce: n, onSigned: (tx) => (fees += tx.body.fee) }))
    expect(fees).toBeGreaterThan(0n)
    // A replayed nonce is refused with a typed error.
    await expect(transfer(client, { account: alice, to: bob.publicKey, amount: 1n, nonce: 0 })).rejects.toBeInstanceOf(RpcClientError)
    const last = await waitFor(() => getTransaction(client, { id: ids[4]! }), 20_000, 'the last transfer to be included')
    expect(await getBalance(client, { address: bob.publicKey })).toBe(5000n)
    expect(await getBalance(client, { address: alice.publicKey })).toBe(1_000_000n - 5000n - fees)
    const block = await getBlock(client, { height: last.blockHeight })
    expect(toHex(block!.hash)).toBe(toHex(last.blockHash))
    // Prometheus figures of the node itself, next to the RPC's.
    const metrics = await (await fetch(`${node.rpc.replace(/\/$/, '')}/metrics`)).text()
    expect(Number(/^xsc_block_import_seconds_count (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0)
    expect(metrics).toMatch(/^xsc_mempool_size \d+/m)
    expect(metrics).toMatch(/^xsc_rpc_requests_total\{method="xsc_sendTransaction",code="0"\} \d+/m)
    const before = await getChainStatus(client)
    expect(before.chainId).toBe('xsc-e2e')
    await client.close()
    await node.stop()

    node = await startNodeProcess(args)
    client = createClient({ transport: http(node.rpc) })
    const after = await getChainStatus(client)
    expect(after.head.height).toBeGreaterThanOrEqual(before.head.height)
    const again = await getBlock(client, { height: last.blockHeight })
    expect(toHex(again!.hash)).toBe(toHex(last.blockHash))
    expect(await getBalance(client, { address: bob.publicKey })).toBe(5000n)
    // The restarted validator keeps producing on top of the old chain.
    const id = await transfer(client, { account: alice, to: bob.publicKey, amount: 1n })
    await waitFor(() => getTransaction(client, { id }), 20_000, 'a transfer after restart')
    expect(await getBalance(client, { address: bob.publicKey })).toBe(5001n)
    // The validator key file round-trips through the CLI format.
    expect(readKeyFile(join(tmp.dir, 'keys', 'validator-0.json')).publicKey).toHaveLength(32)
    await client.close()
  }, 90_000)
})
