import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type Client, createClient, getChainParams, getTransaction, http, uploadBlob } from '../../../src/client/index.ts'
import { hash, type KeyPair, toHex } from '../../../src/crypto/index.ts'
import { readGenesisFile } from '../../../src/node/genesisFile.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { codingParamsOf, computeManifest } from '../../../src/storage/encodeAsset.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'
import { type NodeProcess, startNodeProcess, waitFor } from '../../support/nodeProcess.ts'
import { type CliErrorJson, runCli } from './cliHarness.ts'

/**
 * The CLI against one real `xsc node` process (validator, HTTP JSON-RPC, LevelDB) made by
 * `xsc genesis init`. Hosts are registered on chain with `xsc host join` but no host process
 * runs executions here: deploys are placed (placement is a chain decision), executions reach
 * their deadline and settle as failed. The devnet test (devnet.e2e.test.ts) runs them for real.
 */
const tmp = tempDir('xsc-cli-')
let node: NodeProcess
let rpc: string
let client: Client
const alice = testKey('cli-alice')
const bob = testKey('cli-bob')
const hosts = Array.from({ length: 6 }, (_, i) => testKey(`cli-host-${i}`))
const keyFile = (k: KeyPair): string => join(tmp.dir, `${toHex(k.publicKey).slice(2, 10)}.json`)
const FIB = 'fixtures/wasm/fib.wasm'
const genesisPath = join(tmp.dir, 'genesis.json')

beforeAll(async () => {
  for (const k of [alice, bob, ...hosts]) writeKeyFile(keyFile(k), k)
  const genesis = genesisPath
  const funds = [alice, ...hosts].flatMap((k) => ['--fund', `${toHex(k.publicKey)}=1000000000000`])
  const init = await runCli('genesis', 'init', '--out', genesis, '--keys-dir', join(tmp.dir, 'keys'), '--chain-id', 'xsc-cli', '--slot-ms', '200', ...funds, '--json')
  expect(init.code).toBe(0)
  node = await startNodeProcess(['--data', join(tmp.dir, 'data'), '--genesis', genesis, '--key', join(tmp.dir, 'keys', 'validator-0.json'), '--rpc', '127.0.0.1:0'])
  rpc = node.rpc
  client = createClient({ transport: http(rpc) })
})

afterAll(async () => {
  await client?.close()
  await node?.stop()
  tmp.cleanup()
})

const ok = async (...argv: string[]): Promise<Record<string, unknown>> => {
  const r = await runCli(...argv, '--rpc', rpc, '--json')
  expect(r.code, r.stdout + r.stderr).toBe(0)
  return r.json as Record<string, unknown>
}
const fails = async (code: number, ...argv: string[]): Promise<CliErrorJson['error']> => {
  const r = await runCli(...argv, '--rpc', rpc, '--json')
  expect(r.code, r.stdout).toBe(code)
  const e = (r.json as CliErrorJson).error
  expect(e.advice, `advice for ${e.code}`).toMatch(/\w+/)
  return e
}
const included = (txId: string) => waitFor(() => getTransaction(client, { id: Buffer.from(txId.slice(2), 'hex') }), 20_000, `tx ${txId}`)

describe('xsc CLI against a running node', () => {
  it('status --json has the chain status, token, parameters and host counts', async () => {
    const s = await ok('status')
    expect(s).toMatchObject({ chainId: 'xsc-cli', peers: expect.any(Number), syncing: false, slotMs: 200, token: { symbol: 'XSC', decimals: 9 }, hosts: { total: 0, active: 0, storage: 0, compute: 0 } })
    expect((s.head as { height: number }).height).toBeGreaterThanOrEqual(0)
    expect(s.finalized).toMatchObject({ height: expect.any(Number), hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    expect(s.params).toMatchObject({ dataShards: 4, parityShards: 2, maxFuelLimit: expect.stringMatching(/^[0-9]+$/) })
    expect((s.consensus as { schemes: string[] }).schemes.length).toBeGreaterThan(0)
    // xsc_getChainParams serves the node's genesis as written by `xsc genesis init`.
    const g = readGenesisFile(genesisPath)
    const params = await getChainParams(client)
    expect(params).toEqual({ chainId: g.chainId, tokenSymbol: g.tokenSymbol, tokenDecimals: g.tokenDecimals, slotMs: g.slotMs, genesisTime: g.genesisTime, params: g.params, consensus: g.consensus })
    expect(s.params).toEqual(JSON.parse(JSON.stringify(g.params, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))))
    expect(s.genesisTime).toBe(String(g.genesisTime))
  })

  it('balance by --key and by address; text output names the token', async () => {
    const byKey = await ok('balance', '--key', keyFile(alice))
    expect(byKey).toEqual({ address: toHex(alice.publicKey), balance: '1000000000000', nonce: 0, tokens: '1000', symbol: 'XSC' })
    expect(await ok('balance', toHex(bob.publicKey))).toMatchObject({ balance: '0', nonce: 0, tokens: '0' })
    const text = await runCli('balance', toHex(alice.publicKey), '--rpc', rpc)
    expect(text.stdout).toContain('1000000000000 (1000 XSC)')
  })

  it('usage errors exit 2 with the usage and advice, in text and JSON', async () => {
    expect((await fails(2, 'balance')).message).toMatch(/missing address/)
    expect((await fails(2, 'transfer', '--key', keyFile(alice), '--to', toHex(bob.publicKey), '--amount=-5')).message).toMatch(/--amount cannot be negative/)
    expect((await fails(2, 'transfer', '--key', keyFile(alice), '--to', toHex(bob.publicKey), '--amount', '1e3')).message).toMatch(/whole number/)
    const fraction = await fails(2, 'exec', toHex(hash(new Uint8Array(1))), 'run', '--key', keyFile(alice), '--fuel', '1.5')
    expect(fraction.message).toMatch(/--fuel is in whole base units/)
    expect((await fails(2, 'deploy', '--key', keyFile(alice), '--deposit=-1', FIB)).message).toMatch(/--deposit cannot be negative/)
    expect((await fails(2, 'deploy', FIB, '--key', keyFile(alice), '--kind', 'component')).message).toMatch(/not a WASM component/)
    expect((await fails(2, 'exec', '0x1234', 'run', '--key', keyFile(alice))).message).toMatch(/32 bytes of 0x-hex/)
    expect((await fails(2, 'exec', toHex(alice.publicKey), 'run', '--key', keyFile(alice), '--replicas', '2', '--quorum', '3')).message).toMatch(/--quorum/)
    expect((await fails(2, 'host', 'join', '--key', keyFile(alice), '--zone', 'z')).message).toMatch(/missing --coord/)
    expect((await fails(2, 'host', 'join', '--key', keyFile(alice), '--coord', '1,2', '--zone', 'z', '--capacity', '1', '--asks', '1,1')).message).toMatch(/x,y,z/)
    expect((await fails(2, 'host', 'join', '--key', keyFile(alice), '--coord', '1,2,3', '--zone', 'z', '--capacity', '1', '--asks', '1,1', '--caps', 'gpu')).message).toMatch(/--caps/)
    expect((await fails(2, 'host', 'dance')).message).toMatch(/join, status or leave/)
    expect((await fails(2, 'block', 'latest')).message).toMatch(/neither a height nor/)
    expect((await fails(2, 'status', '--bogus')).message).toMatch(/Unknown option/)
    expect((await fails(2, 'nope')).code).toBe('USAGE')
    const badRpc = await runCli('status', '--rpc', 'localhost:8545', '--json')
    expect(badRpc.code).toBe(2)
    expect((badRpc.json as CliErrorJson).error.message).toMatch(/HTTP URL/)
    const text = await runCli('transfer', '--key', keyFile(alice), '--to', toHex(bob.publicKey), '--amount', '2.5', '--rpc', rpc)
    expect(text.code).toBe(2)
    expect(text.stderr).toMatch(/^error: --amount/)
  })

  it('failures exit 1 with a typed code and what to do', async () => {
    expect(await fails(1, 'deploy', join(tmp.dir, 'missing.wasm'), '--key', keyFile(alice))).toMatchObject({ code: 'FILE_NOT_FOUND' })
    expect(await fails(1, 'balance', '--key', join(tmp.dir, 'no-key.json'))).toMatchObject({ code: 'BAD_KEY_FILE', advice: expect.stringMatching(/xsc keys new/) })
    expect(await fails(1, 'asset', toHex(hash(new Uint8Array(3))))).toMatchObject({ code: 'NOT_FOUND', advice: expect.stringMatching(/deploy --wait/) })
    expect(await fails(1, 'block', '999999')).toMatchObject({ code: 'NOT_FOUND' })
    expect(await fails(1, 'host', 'status', toHex(bob.publicKey))).toMatchObject({ code: 'NOT_FOUND', advice: expect.stringMatching(/host join/) })
    expect(await fails(1, 'host', 'leave', '--key', keyFile(bob))).toMatchObject({ code: 'NOT_FOUND' })
    // Bob has nothing: the node refuses the transfer with INSUFFICIENT_FUNDS, and the CLI says what to do.
    expect(await fails(1, 'transfer', '--key', keyFile(bob), '--to', toHex(alice.publicKey), '--amount', '5')).toMatchObject({ code: 'INSUFFICIENT_FUNDS', advice: expect.stringMatching(/fund the account/) })
    // No node at that address.
    const r = await runCli('status', '--rpc', 'http://127.0.0.1:9', '--json')
    expect(r.code).toBe(1)
    expect((r.json as CliErrorJson).error).toMatchObject({ code: 'TRANSPORT_FAILED', advice: expect.stringMatching(/start one/) })
  })

  it('transfer, then block by height and by hash (--full) show it', async () => {
    const { txId } = (await ok('transfer', '--key', keyFile(alice), '--to', toHex(bob.publicKey), '--amount', '1000', '--fee', '700')) as { txId: string }
    const tx = await included(txId)
    const byHeight = await ok('block', String(tx.blockHeight))
    expect(byHeight).toMatchObject({ height: tx.blockHeight, hash: toHex(tx.blockHash), kind: 'ledger', entries: null })
    expect(byHeight.entryIds).toContain(txId)
    const full = await ok('block', toHex(tx.blockHash), '--full')
    const entries = full.entries as { type: string; tx: { body: { payload: { type: string; amount: string } } } }[]
    expect(entries[tx.index]).toMatchObject({ type: 'tx', tx: { body: { payload: { type: 'transfer', amount: '1000' } } } })
    expect(await ok('balance', toHex(bob.publicKey))).toMatchObject({ balance: '1000' })
    expect(await ok('balance', '--key', keyFile(alice))).toMatchObject({ balance: String(1_000_000_000_000n - 1700n), nonce: 1 })
    // --verify: the balance proven against a header's state root; before the transfer's block, bob's account is proven absent.
    expect(await ok('balance', toHex(bob.publicKey), '--verify', '--height', String(tx.blockHeight))).toMatchObject({ balance: '1000', verified: { height: tx.blockHeight, blockHash: toHex(tx.blockHash) } })
    expect(await ok('balance', toHex(bob.publicKey), '--verify', '--height', String(tx.blockHeight - 1))).toMatchObject({ balance: '0', nonce: 0 })
  })

  it('commands follow each other without waiting: the second tx takes the nonce after the pending one', async () => {
    // No --fee: the CLI takes the node's estimate and prints the fee it used.
    const a = (await ok('transfer', '--key', keyFile(alice), '--to', toHex(bob.publicKey), '--amount', '1')) as { txId: string; fee: string }
    const b = (await ok('transfer', '--key', keyFile(alice), '--to', toHex(bob.publicKey), '--amount', '2')) as { txId: string; fee: string }
    expect(BigInt(a.fee)).toBeGreaterThan(0n)
    const [ta, tb] = [await included(a.txId), await included(b.txId)]
    expect([ta.tx.body.nonce, tb.tx.body.nonce]).toEqual([1, 2])
    expect(await ok('balance', toHex(bob.publicKey))).toMatchObject({ balance: '1003' })
  })

  it('deploy with no hosts: refused before sending (NO_HOSTS); forced, the node drops the tx and --wait says DROPPED', async () => {
    const noHosts = await fails(1, 'deploy', FIB, '--key', keyFile(alice))
    expect(noHosts).toMatchObject({ code: 'NO_HOSTS', details: { eligible: 0, needed: 6 } })
    expect(noHosts.advice).toMatch(/host join/)
    // --skip-host-check: the manifest is computed, the bytes uploaded, the tx signed and accepted by the mempool,
    // then the block builder drops it (no eligible storage hosts), which --wait reports instead of timing out.
    const dropped = await fails(1, 'deploy', FIB, '--key', keyFile(alice), '--skip-host-check', '--wait', '--timeout', '30')
    expect(dropped.code).toBe('DROPPED')
    expect(dropped.advice).toMatch(/no eligible hosts/)
    const id = Buffer.from(String(dropped.details.id).slice(2), 'hex')
    expect(await getTransaction(client, { id })).toBeNull()
  })

  it('host join (six hosts), status and duplicate join', async () => {
    const joins = await Promise.all(hosts.map((h, i) => ok('host', 'join', '--key', keyFile(h), '--coord', `${i * 10},${i},0`, '--zone', `zone-${i % 3}`, '--capacity', String(1 << 30), '--asks', '2,1', '--caps', 'storage,compute', '--peer', `/ip4/127.0.0.1/tcp/${4000 + i}`, '--wait')))
    for (const [i, j] of joins.entries()) {
      expect(j).toMatchObject({ address: toHex(hosts[i]!.publicKey), txId: expect.stringMatching(/^0x/), block: { height: expect.any(Number) }, host: { zone: `zone-${i % 3}`, capabilities: 'storage,compute', askPerFuel: '2', askPerByteEpoch: '1' } })
    }
    const st = await ok('host', 'status', '--key', keyFile(hosts[1]!))
    expect(st).toMatchObject({ address: toHex(hosts[1]!.publicKey), status: 'active', coord: { x: 10, y: 1, z: 0 }, zone: 'zone-1', capacityBytes: String(1 << 30), usedBytes: '0', reputationBp: 5000, peer: '/ip4/127.0.0.1/tcp/4001', events: [] })
    expect(await fails(1, 'host', 'join', '--key', keyFile(hosts[1]!), '--coord', '1,1,1', '--zone', 'z', '--capacity', '1', '--asks', '1,1')).toMatchObject({ code: 'HOST_EXISTS' })
    expect(await ok('status')).toMatchObject({ hosts: { total: 6, active: 6, storage: 6, compute: 6 } })
  })

  let assetId = ''
  it('deploy --wait: manifest from the chain parameters, upload, tx, placement on six hosts; asset shows it', async () => {
    const bytes = new Uint8Array(readFileSync(FIB))
    const d = await ok('deploy', FIB, '--key', keyFile(alice), '--bid', '1', '--origin', '5,5,0', '--wait')
    const params = await getChainParams(client)
    const manifest = computeManifest(bytes, codingParamsOf(params.params))
    expect(d).toMatchObject({ kind: 'module', size: bytes.length, bidPerByteEpoch: '1', manifest: { dataHash: toHex(hash(bytes)), k: 4, m: 2, shardSize: String(manifest.shardSize) } })
    expect(d.deposit).toBe(String(manifest.shardSize * 6n * 10n))
    const placement = d.placement as { index: number; host: string; healthy: boolean }[]
    expect(new Set(placement.map((p) => p.host)).size).toBe(6)
    expect(placement.map((p) => p.host).sort()).toEqual(hosts.map((h) => toHex(h.publicKey)).sort())
    assetId = d.assetId as string
    const a = await ok('asset', assetId)
    // Two-phase placement: the joined hosts run no host role here, so no storage ack arrives and the asset stays placing.
    expect(a).toMatchObject({ id: assetId, owner: toHex(alice.publicKey), kind: 'module', status: 'placing', deposit: d.deposit, healthyShards: 6, recoverable: true, manifest: d.manifest })
    expect((a.shards as unknown[]).length).toBe(6)
    const text = await runCli('asset', assetId, '--rpc', rpc)
    expect(text.stdout).toContain('6/6 healthy')
    // The deposit left the deployer's balance.
    expect(BigInt((await ok('balance', '--key', keyFile(alice))).balance as string)).toBeLessThan(1_000_000_000_000n - 1008n - BigInt(d.deposit as string))
  })

  it('exec: input checks, then the execute tx settles; with no host running it, as failed with the escrow refunded', async () => {
    expect((await fails(2, 'exec', assetId, 'run', '5', '--key', keyFile(alice))).message).toMatch(/core module reads raw input/)
    expect(await fails(1, 'exec', assetId, 'run', '--key', keyFile(alice), '--input-hex', '0x05000000', '--bid', '1')).toMatchObject({ code: 'NO_HOSTS', details: { eligible: 0, needed: 3 } })
    expect(await fails(1, 'exec', assetId, 'run', '--key', keyFile(bob), '--input-hex', '0x05000000', '--bid', '2')).toMatchObject({ code: 'INSUFFICIENT_FUNDS', advice: expect.stringMatching(/lower --fuel/) })
    expect((await fails(2, 'exec', assetId, 'run', '--key', keyFile(alice), '--fuel', '99999999999999999')).message).toMatch(/maxFuelLimit/)
    const before = BigInt((await ok('balance', '--key', keyFile(alice))).balance as string)
    const failed = await fails(1, 'exec', assetId, 'run', '--key', keyFile(alice), '--input-hex', '0x05000000', '--bid', '2', '--fuel', '100000', '--deadline-slots', '3', '--fee', '900', '--timeout', '30')
    expect(failed.code).toBe('EXECUTION_FAILED')
    expect(failed.details).toMatchObject({ asset: assetId, fn: 'run', status: 'failed', fuelUsed: '0', cost: '0', fee: '900', payouts: [], output: { hex: '0x', utf8: null, u32: null } })
    expect(failed.details.refund).toBe(failed.details.escrow)
    expect(BigInt(failed.details.escrow as string)).toBeGreaterThan(0n)
    const assigned = failed.details.hosts as string[]
    expect(assigned).toHaveLength(3)
    for (const h of assigned) expect(hosts.map((k) => toHex(k.publicKey))).toContain(h)
    expect(BigInt((await ok('balance', '--key', keyFile(alice))).balance as string)).toBe(before - 900n)
    // Nobody answered and no audit shows the module retrievable: the no-shows are not held against the hosts.
    const unblamed = await ok('host', 'status', assigned[0]!)
    expect(unblamed.reputationBp).toBe(5000)
    // The completion block is where the CLI found it.
    const block = await ok('block', String((failed.details.block as { height: number }).height), '--full')
    expect(block.kind).toBe('completion')
    expect(block.entryIds).toContain(failed.details.executionId)
    // exec status --verify: the execution's record proven against the head's state root.
    const proven = await ok('exec', 'status', failed.details.executionId as string, '--verify')
    expect(proven).toMatchObject({ id: failed.details.executionId, status: 'failed', verified: { stateRoot: expect.stringMatching(/^0x[0-9a-f]{64}$/) } })
  })

  it('uploads stream with progress and the node hashes the same bytes; a blob deploys as data', async () => {
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7919) & 0xff)
    const seen: number[] = []
    const r = await uploadBlob(client, { bytes, account: alice, onProgress: (sent, total) => (expect(total).toBe(bytes.length), seen.push(sent)) })
    expect(r).toEqual({ dataHash: hash(bytes), size: bytes.length })
    expect(seen.length).toBeGreaterThan(5)
    expect(seen.at(-1)).toBe(bytes.length)
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true)
    const file = join(tmp.dir, 'data.bin')
    writeFileSync(file, bytes)
    const d = await runCli('deploy', file, '--key', keyFile(alice), '--wait', '--rpc', rpc)
    expect(d.code, d.stderr).toBe(0)
    expect(d.stdout).toMatch(/^asset 0x[0-9a-f]{64}\nkind blob, 3145745 bytes, 4\+2 shards/)
    expect(d.stdout).toMatch(/included in block \d+/)
  })

  it('host leave: a host holding shards drains first', async () => {
    const left = await ok('host', 'leave', '--key', keyFile(hosts[0]!), '--wait')
    expect(left).toMatchObject({ address: toHex(hosts[0]!.publicKey), txId: expect.stringMatching(/^0x/), block: { height: expect.any(Number) }, status: 'draining' })
    expect(await ok('host', 'status', toHex(hosts[0]!.publicKey))).toMatchObject({ status: 'draining' })
  })
})
