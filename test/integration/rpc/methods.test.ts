import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import type { ErrorWithCode } from '../../../blocks/errors.ts'
import { txId } from '../../../blocks/ids.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import {
  buildTransfer, type Client, createClient, deploy, encodeSignedTx, estimateFuel, execute, getAsset, getBalance,
  getBlock, getChainStatus, getExecution, getHost, getHosts, getNonce, getTransaction, http, RpcClientError,
  sendTransaction, signBlobUpload, signTx, transfer, uploadBlob, waitForExecution, waitForTransaction, webSocket,
} from '../../../src/client/index.ts'
import { equalBytes, fromHex, generateKeyPair, hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { RPC_CODES, type RpcCodeName } from '../../../src/rpc/errors.ts'
import { listMethods } from '../../../src/rpc/methods.ts'
import { type Kit, rpcPost, sampleAsset, sampleExecution, sampleHost, sampleManifest, startKit } from '../../unit/rpc/rpcTestKit.ts'

let kit: Kit
let client: Client

beforeAll(async () => {
  kit = await startKit()
  client = createClient({ transport: http(kit.server.url) })
})
afterAll(async () => {
  await client.close()
  await kit.server.close()
})

/** An error the node answered (with rpcCode and data). */
type Answered = ErrorWithCode<RpcClientError, Exclude<RpcCodeName, 'TIMEOUT'>>

async function rejection(p: Promise<unknown>): Promise<Answered> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(RpcClientError)
  return err as Answered
}

describe('every method over real HTTP against the in-memory backend', () => {
  it('sendTransaction admits a signed transfer that then appears in a block with its balance moved', async () => {
    const to = generateKeyPair().publicKey
    const id = await transfer(client, { account: kit.alice, to, amount: 12_345n, fee: 7n })
    expect(equalBytes(id, txId(kit.backend.mempool[0]!))).toBe(true)
    const block = kit.backend.produceBlock()
    expect(await getBalance(client, { address: to })).toBe(12_345n)
    expect(await getNonce(client, { address: kit.alice.publicKey })).toBe(1)
    const found = await getTransaction(client, { id })
    expect(found?.blockHeight).toBe(block.block.header.height)
    expect(equalBytes(found!.blockHash, block.hash)).toBe(true)
    expect(found?.index).toBe(0)
    expect(found?.tx.body.payload).toEqual({ type: 'transfer', to, amount: 12_345n })
  })

  it('balances above 2^64 travel as exact decimal strings', async () => {
    const raw = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 1, method: 'xsc_getBalance', params: [toHex(kit.alice.publicKey)] })
    const result = (raw.json as { result: string }).result
    expect(typeof result).toBe('string')
    expect(BigInt(result)).toBe(await getBalance(client, { address: kit.alice.publicKey }))
    expect(BigInt(result) > 1n << 64n).toBe(true)
  })

  it('sendTransaction maps mempool refusals to their documented codes', async () => {
    const nonce = await getNonce(client, { address: kit.alice.publicKey })
    const body = buildTransfer({ chainId: kit.backend.chainId, from: kit.alice.publicKey, nonce, to: kit.bob.publicKey, amount: 1n })
    const good = signTx(body, kit.alice.secretKey)

    const badSig = { ...good, signature: new Uint8Array(64) }
    expect((await rejection(sendTransaction(client, { tx: badSig }))).code).toBe('BAD_SIGNATURE')
    expect((await rejection(sendTransaction(client, { tx: signTx({ ...body, chainId: 'other' }, kit.alice.secretKey) }))).code).toBe('WRONG_CHAIN')
    const low = await rejection(sendTransaction(client, { tx: signTx({ ...body, nonce: nonce - 1 }, kit.alice.secretKey) }))
    expect(low.code).toBe('NONCE_TOO_LOW')
    expect(low.details.rpcCode).toBe(-32010)
    expect(low.details.data).toMatchObject({ reason: 'NONCE_TOO_LOW', expected: nonce, got: nonce - 1 })
    expect((await rejection(sendTransaction(client, { tx: signTx({ ...body, nonce: nonce + 5 }, kit.alice.secretKey) }))).code).toBe('NONCE_TOO_HIGH')
    const poor = buildTransfer({ chainId: kit.backend.chainId, from: kit.bob.publicKey, nonce: 0, to: kit.alice.publicKey, amount: 6n })
    const funds = await rejection(sendTransaction(client, { tx: signTx(poor, kit.bob.secretKey) }))
    expect(funds.code).toBe('INSUFFICIENT_FUNDS')
    expect(funds.details.data).toMatchObject({ balance: '5', needed: '6' })

    await sendTransaction(client, { tx: good })
    expect((await rejection(sendTransaction(client, { tx: good }))).code).toBe('ALREADY_KNOWN')
    kit.backend.produceBlock()
  })

  it('sendTransaction rejects bytes that are not a canonical SignedTx with INVALID_PARAMS', async () => {
    const tx = signTx(buildTransfer({ chainId: kit.backend.chainId, from: kit.alice.publicKey, nonce: 0, to: kit.bob.publicKey, amount: 1n }), kit.alice.secretKey)
    const bytes = encodeSignedTx(tx)
    expect(decode(SignedTx, bytes)).toEqual(tx)
    const trailing = toHex(new Uint8Array([...bytes, 0]))
    const raw = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 9, method: 'xsc_sendTransaction', params: [trailing] })
    expect(raw.json).toMatchObject({ id: 9, error: { code: -32602, data: { reason: 'INVALID_PARAMS', path: 'tx' } } })
  })

  it('getBlockByHeight and getBlockByHash return hash-only or full entries, and null when absent', async () => {
    const nonce = await getNonce(client, { address: kit.alice.publicKey })
    await transfer(client, { account: kit.alice, to: kit.bob.publicKey, amount: 1n, nonce })
    await transfer(client, { account: kit.alice, to: kit.bob.publicKey, amount: 2n, nonce: nonce + 1 })
    const stored = kit.backend.produceBlock()
    const height = stored.block.header.height
    const lite = await getBlock(client, { height })
    expect(lite?.entries).toBeUndefined()
    expect(lite?.entryIds.map(toHex)).toEqual(stored.block.entries.map((e) => toHex(txId((e as { tx: SignedTx }).tx))))
    expect(equalBytes(lite!.hash, stored.hash)).toBe(true)
    expect(lite?.header).toEqual(stored.block.header)
    const full = await getBlock(client, { hash: stored.hash, includeEntries: true })
    expect(full?.entries).toEqual(stored.block.entries)
    expect(await getBlock(client, { height: height + 100 })).toBeNull()
    expect(await getBlock(client, { hash: hash(utf8('nope')) })).toBeNull()
    const genesis = await getBlock(client, { height: 0, includeEntries: true })
    expect(genesis?.entries?.[0]?.type).toBe('genesis')
  })

  it('getTransaction returns null for an unknown id', async () => {
    expect(await getTransaction(client, { id: hash(utf8('x')) })).toBeNull()
  })

  it('chainStatus reports chain id, head, finalized, peers and syncing', async () => {
    kit.backend.peers = 3
    const s = await getChainStatus(client)
    expect(s.chainId).toBe(kit.backend.chainId)
    expect(s.head.height).toBe(kit.backend.head.block.header.height)
    expect(equalBytes(s.head.hash, kit.backend.head.hash)).toBe(true)
    expect(s.finalized.height).toBe(s.head.height - 1)
    expect(s.peers).toBe(3)
    expect(s.syncing).toBe(false)
  })

  it('getHost, getHosts, getAsset and getExecution return the records with their nested values', async () => {
    const h1 = sampleHost()
    const h2 = sampleHost()
    kit.backend.addHost(h1)
    kit.backend.addHost(h2)
    expect(await getHost(client, { address: h1.address })).toEqual(h1)
    expect(await getHost(client, { address: hash(utf8('none')) })).toBeNull()
    const hosts = await getHosts(client, {})
    expect(hosts.map((h) => toHex(h.address)).sort()).toEqual([toHex(h1.address), toHex(h2.address)].sort())
    expect(await getHosts(client, { offset: 1, limit: 1 })).toHaveLength(1)
    expect((await rejection(getHosts(client, { limit: 5000 }))).code).toBe('INVALID_PARAMS')

    const asset = sampleAsset(kit.alice.publicKey, [h1.address, h2.address])
    kit.backend.addAsset(asset)
    expect(await getAsset(client, { id: asset.id })).toEqual(asset)
    expect(await getAsset(client, { id: hash(utf8('none')) })).toBeNull()

    const done = sampleExecution(kit.alice.publicKey, asset.id, [h1.address, h2.address], true)
    const running = sampleExecution(kit.alice.publicKey, asset.id, [h1.address], false)
    kit.backend.addExecution(done)
    kit.backend.addExecution(running)
    const got = await getExecution(client, { id: done.id })
    expect(got?.record).toEqual(done.record)
    expect(got?.completion?.entry.fuelUsed).toBe(4242n)
    expect(got?.completion?.entry.writeSet[1]?.value).toBeUndefined()
    expect(got?.completion?.entry.payouts).toEqual(done.completion!.entry.payouts)
    expect((await getExecution(client, { id: running.id }))?.completion).toBeUndefined()
    expect(await getExecution(client, { id: hash(utf8('none')) })).toBeNull()
  })

  it('estimateFuel dry-runs on the backend and maps its refusals', async () => {
    const asset = sampleAsset(kit.alice.publicKey, [])
    kit.backend.addAsset(asset)
    const est = await estimateFuel(client, { asset: asset.id, fn: 'run', input: utf8('abc') })
    expect(est).toEqual({ outcome: 0, fuelUsed: 130n, output: utf8('cba') })
    expect((await rejection(estimateFuel(client, { asset: hash(utf8('none')), fn: 'run' }))).code).toBe('UNKNOWN_ASSET')
    const tooHigh = await rejection(estimateFuel(client, { asset: asset.id, fn: 'run', fuelLimit: 10n ** 15n }))
    expect(tooHigh.code).toBe('FUEL_LIMIT_TOO_HIGH')
    expect(tooHigh.details.rpcCode).toBe(-32022)
  })

  it('uploadBlob sends raw bytes by HTTP PUT and gets their data hash back', async () => {
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff)
    const { dataHash, size } = await uploadBlob(client, { bytes, account: kit.alice })
    expect(size).toBe(bytes.length)
    expect(equalBytes(dataHash, hash(bytes))).toBe(true)
    expect(equalBytes(kit.backend.blobs.get(toHex(dataHash))!, bytes)).toBe(true)
  })

  it('PUT /blob without a valid signature of a funded account is refused with a typed reason, before the body is stored', async () => {
    const bytes = utf8('who uploads this?')
    const put = async (headers: Record<string, string>, body = bytes) => {
      const res = await fetch(`${kit.server.url}/blob`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers }, body })
      return { status: res.status, error: ((await res.json()) as { error: { code: number; data: { reason: string } } }).error }
    }
    const later = Date.now() + 60_000
    const missing = await put({})
    expect([missing.status, missing.error.code, missing.error.data.reason]).toEqual([401, -32032, 'BLOB_AUTH_MISSING'])
    expect((await put({ 'x-xsc-blob-auth': 'nonsense' })).error.data.reason).toBe('BLOB_AUTH_INVALID')
    const forged = signBlobUpload(kit.bob, kit.backend.chainId, hash(bytes), later).replace(toHex(kit.bob.publicKey), toHex(kit.alice.publicKey))
    expect((await put({ 'x-xsc-blob-auth': forged })).error.data.reason).toBe('BLOB_AUTH_INVALID')
    expect((await put({ 'x-xsc-blob-auth': signBlobUpload(kit.alice, 'other-chain', hash(bytes), later) })).error.data.reason).toBe('BLOB_AUTH_INVALID')
    expect((await put({ 'x-xsc-blob-auth': signBlobUpload(kit.alice, kit.backend.chainId, hash(bytes), Date.now() - 1) })).error.data.reason).toBe('BLOB_AUTH_EXPIRED')
    const stranger = generateKeyPair()
    expect((await put({ 'x-xsc-blob-auth': signBlobUpload(stranger, kit.backend.chainId, hash(bytes), later) })).error.data.reason).toBe('BLOB_ACCOUNT_UNFUNDED')
    const otherBody = await put({ 'x-xsc-blob-auth': signBlobUpload(kit.alice, kit.backend.chainId, hash(bytes), later) }, utf8('something else'))
    expect(otherBody.error.data.reason).toBe('BLOB_HASH_MISMATCH')
    expect(kit.backend.blobs.size).toBe(1) // only the 3 MiB blob of the previous test
    const typed = await rejection(uploadBlob(client, { bytes, account: stranger }))
    expect([typed.code, typed.details.data.reason]).toEqual(['BLOB_UNAUTHORIZED', 'BLOB_ACCOUNT_UNFUNDED'])
  })

  it('uploadBlob over the limit is refused with BLOB_TOO_LARGE', async () => {
    const small = await startKit({ maxBlobBytes: 1024 })
    try {
      const c = createClient({ transport: http(small.server.url) })
      expect((await rejection(uploadBlob(c, { bytes: new Uint8Array(4096), account: small.alice }))).code).toBe('BLOB_TOO_LARGE')
    } finally {
      await small.server.close()
    }
  })

  it('rpc.discover returns an OpenRPC document listing every method of the table', async () => {
    const raw = await rpcPost(kit.server.url, { jsonrpc: '2.0', id: 1, method: 'rpc.discover' })
    const doc = (raw.json as { result: { openrpc: string; methods: { name: string; params: unknown[] }[]; components: { errors: Record<string, { code: number }> } } }).result
    expect(doc.openrpc).toBe('1.2.6')
    expect(doc.components.errors.NONCE_TOO_LOW?.code).toBe(-32010)
    expect(Object.keys(doc.components.errors)).toHaveLength(Object.keys(RPC_CODES).length)
    expect(doc.methods.map((m) => m.name)).toEqual(listMethods().map((m) => m.method))
    for (const name of ['xsc_sendTransaction', 'xsc_getBlockByHeight', 'xsc_getBlockByHash', 'xsc_getTransaction', 'xsc_getBalance', 'xsc_getNonce',
      'xsc_chainStatus', 'xsc_getAsset', 'xsc_getHost', 'xsc_getHosts', 'xsc_getExecution', 'xsc_estimateFuel', 'xsc_subscribe', 'xsc_unsubscribe']) {
      expect(doc.methods.some((m) => m.name === name)).toBe(true)
    }
  })

  it('the same calls work over a WebSocket transport', async () => {
    const ws = createClient({ transport: webSocket(kit.server.wsUrl) })
    try {
      expect(await getBalance(ws, { address: kit.bob.publicKey })).toBe(await getBalance(client, { address: kit.bob.publicKey }))
      expect((await getChainStatus(ws)).chainId).toBe(kit.backend.chainId)
      expect(fromHex(toHex(kit.bob.publicKey))).toEqual(kit.bob.publicKey)
    } finally {
      await ws.close()
    }
  })

  it('/metrics exposes request counters by method and code, and the node metrics', async () => {
    kit.server.metrics.node.mempoolSize.set(4)
    const text = await (await fetch(`${kit.server.url}/metrics`)).text()
    expect(text).toMatch(/xsc_rpc_requests_total\{method="xsc_getBalance",code="0"\} \d+/)
    expect(text).toMatch(/xsc_rpc_requests_total\{method="xsc_sendTransaction",code="-32010"\} \d+/)
    expect(text).toContain('xsc_mempool_size 4')
    expect(text).toContain('xsc_block_import_seconds')
  })
})

describe('client actions that build, send and wait', () => {
  it('deploy uploads the bytes, then sends a deploy tx naming their hash; waitForTransaction sees it included', async () => {
    const bytes = utf8('(module)')
    const id = await deploy(client, { account: kit.alice, bytes, manifest: sampleManifest(bytes), deposit: 1000n, bidPerByteEpoch: 1n })
    expect(kit.backend.blobs.has(toHex(hash(bytes)))).toBe(true)
    const waiting = waitForTransaction(client, { id, pollMs: 10 })
    setTimeout(() => kit.backend.produceBlock(), 30)
    const found = await waiting
    expect(found.tx.body.payload.type).toBe('deploy')
    const wrong = await deploy(client, { account: kit.alice, bytes, manifest: sampleManifest(utf8('other')), deposit: 1n, bidPerByteEpoch: 1n }).catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(RangeError)
  })

  it('execute sends a signed execute tx whose id is the execution id; waitForExecution returns once completed', async () => {
    const asset = hash(utf8('asset for execute'))
    const id = await execute(client, { account: kit.alice, asset, fn: 'run', input: utf8('x'), fuelLimit: 1000n, bidPerFuel: 1n, replicas: 2 })
    const pending = kit.backend.mempool.find((t) => equalBytes(txId(t), id))
    expect(pending?.body.payload).toMatchObject({ type: 'execute', fn: 'run', replicas: 2, quorum: 2 })
    kit.backend.produceBlock()
    const done = sampleExecution(kit.alice.publicKey, asset, [], true)
    const waiting = waitForExecution(client, { id: done.id, pollMs: 10 })
    setTimeout(() => kit.backend.addExecution(done), 30)
    expect((await waiting).completion.entry.fuelUsed).toBe(4242n)
    const timeout = await waitForExecution(client, { id: hash(utf8('never')), timeoutMs: 30, pollMs: 10 }).catch((e: unknown) => e)
    expect((timeout as RpcClientError).code).toBe('TIMEOUT')
  })
})
