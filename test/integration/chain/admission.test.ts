import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { txId } from '../../../blocks/ids.ts'
import { type Block, CAPABILITY, type SignedTx } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { createClient, getNonce, getTransaction, getTransactionStatus, http, RpcClientError, waitForTransaction, watchEvents, webSocket } from '../../../src/client/index.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'
import { BlobStore } from '../../../src/node/blobStore.ts'
import { ChainEvents } from '../../../src/node/chainEvents.ts'
import { NodeRpcBackend } from '../../../src/node/rpcBackend.ts'
import type { RpcEvent } from '../../../src/rpc/backend.ts'
import { startRpcServer } from '../../../src/rpc/server.ts'
import { StateError } from '../../../src/state/errors.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { NonceCounter,signTx, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('adm-validator')
const client = testKey('adm-client')
const payer = testKey('adm-payer')
const hosts = Array.from({ length: 6 }, (_, i) => testKey(`adm-host-${i}`))
const base = testGenesis({ validators: [validator], funded: [{ key: client, amount: 10n ** 15n }, { key: payer, amount: 10n ** 12n }, ...hosts.map((key) => ({ key, amount: 10n ** 12n }))], schemes: ['stake'] })
const genesis = { ...base, params: { ...base.params, chunkSize: 1024 } }
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-admission-')
let chain: Chain
let slot = 0
let assetId: Uint8Array
let manifest: ReturnType<typeof encodeAsset>['manifest']
const nonces = new NonceCounter()
const nextNonce = (key: KeyPair): number => nonces.next(key)

async function produce(): Promise<Block> {
  slot++
  const made = await chain.produceBlock(slot, T0 + slot * genesis.slotMs)
  return made!.block
}

function executeTx(key: KeyPair, nonce: number, fee: bigint): SignedTx {
  return signTx(key, nonce, { type: 'execute', asset: assetId, fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0, minMemoryBytes: 0n }, { fee })
}

/** Waits (up to 10 s: the machine may be loaded) until `done` holds. */
async function eventually(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20))
}

/** Blocks produced until `id` is in one (at most `max`); undefined if it never lands. */
async function includedWithin(id: Uint8Array, max: number): Promise<number | undefined> {
  for (let i = 1; i <= max; i++) {
    await produce()
    if (await chain.store.getTx(id)) return i
  }
  return undefined
}

/** A chain with six hosts joined and one module deployed, producing blocks on demand. */
async function openChainWithAsset(dir: string, maxTxsPerBlock?: number): Promise<void> {
  chain = await Chain.open({ dataDir: dir, genesis, validatorKey: validator, signatureWorkers: 0, ...(maxTxsPerBlock ? { maxTxsPerBlock } : {}) })
  slot = 0
  nonces.clear()
  for (const [i, h] of hosts.entries()) {
    await chain.submitTx(signTx(h, nextNonce(h), {
      type: 'host.join',
      host: { coord: { x: 10 + i * 3, y: 10, z: 10 + i }, zone: `zone-${i % 3}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
    }))
  }
  while (chain.mempool.size > 0) await produce()
  manifest = encodeAsset(new Uint8Array(readFileSync('fixtures/wasm/counter.wasm')), codingParamsOf(genesis.params)).manifest
  const deploy = signTx(client, nextNonce(client), { type: 'deploy', assetKind: 1, manifest, deposit: 10_000_000n, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
  await chain.submitTx(deploy)
  expect((await produce()).header.kind).toBe('deployment')
  assetId = txId(deploy)
}

beforeAll(() => openChainWithAsset(join(tmp.dir, 'chain')))

afterAll(async () => {
  await chain.close()
  tmp.cleanup()
})

describe('admission that cannot wedge the chain', () => {
  it('an unfunded execute with fee 0 and a positive escrow does not stop a funded transfer from landing', async () => {
    const fresh = testKey('adm-fresh-unfunded')
    expect((await chain.readAccount(fresh.publicKey)).balance).toBe(0n)
    // The attack: fee 0 passes a fee-only balance check; the escrow can never be paid.
    try {
      await chain.submitTx(executeTx(fresh, 0, 0n))
    } catch (err) {
      expect(err).toBeInstanceOf(StateError)
      expect((err as StateError).code).toBe('INSUFFICIENT_FUNDS')
    }
    const honest = transfer(payer, nextNonce(payer), client.publicKey, 1_000n)
    await chain.submitTx(honest)
    expect(await includedWithin(txId(honest), 5)).toBeDefined()
    expect(chain.mempool.has(txId(honest))).toBe(false)
  })

  it('a tx that cannot apply at proposal is dropped with its reason: xsc_getTransaction and the subscription say why', async () => {
    const events = new ChainEvents(chain)
    const backend = new NodeRpcBackend({ chain, events, blobs: new BlobStore(join(tmp.dir, 'blobs')) })
    const server = await startRpcServer({ port: 0 }, { backend })
    const client = createClient({ transport: http(server.url) })
    const ws = createClient({ transport: webSocket(server.wsUrl) })
    try {
      // Funded, so admitted; but no host asks so little, so no placement exists: it cannot apply.
      const cheap = signTx(payer, nextNonce(payer), { type: 'deploy', assetKind: 1, manifest, deposit: 1_000n, bidPerByteEpoch: 0n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
      const id = txId(cheap)
      const seen: RpcEvent[] = []
      const sub = watchEvents(ws, { filter: { topic: 'transaction', txId: id }, onEvent: (e) => seen.push(e) })
      // Drops are live-only events: make sure the subscription is active first (a later
      // subscription on the same socket has seen a block).
      const heads: RpcEvent[] = []
      const headSub = watchEvents(ws, { filter: { topic: 'newHeads' }, onEvent: (e) => heads.push(e) })
      // The subscribe call returns before the server holds the subscription: a block made at
      // once was often missed, and this wait then ran its whole 10 s out. Blocks until one is seen.
      for (let i = 0; i < 100 && heads.length === 0; i++) {
        await produce()
        for (let j = 0; j < 5 && heads.length === 0; j++) await new Promise((r) => setTimeout(r, 20))
      }
      expect(heads.length).toBeGreaterThan(0)
      await headSub.unsubscribe()
      await chain.submitTx(cheap)
      const block = await produce()
      expect(chain.mempool.has(id)).toBe(false)
      const status = await getTransactionStatus(client, { id })
      expect(status).toMatchObject({ status: 'dropped', code: 'INVALID_TX', height: block.header.height })
      expect(status?.status === 'dropped' && status.message).toMatch(/eligible storage hosts/)
      expect(await getTransaction(client, { id })).toBeNull()
      const waited = await waitForTransaction(client, { id, timeoutMs: 5_000 }).then(() => undefined, (e: unknown) => e)
      expect(waited).toBeInstanceOf(RpcClientError)
      expect(waited).toMatchObject({ code: 'DROPPED', details: { code: 'INVALID_TX' } })
      await eventually(() => seen.length > 0)
      expect(seen).toMatchObject([{ topic: 'transaction', status: 'dropped', reason: { code: 'INVALID_TX' } }])
      await sub.unsubscribe()

      // The sender's next tx (same nonce, now free) lands, and the subscription reports it included.
      nonces.release(payer)
      const next = transfer(payer, nextNonce(payer), hosts[0]!.publicKey, 5n)
      await chain.submitTx(next)
      // The nonce a client is told to use next is past its pending tx, so it does not replace it by accident.
      expect(await getNonce(client, { address: payer.publicKey })).toBe(next.body.nonce + 1)
      await produce()
      expect(await getTransactionStatus(client, { id: txId(next) })).toMatchObject({ status: 'included' })
      const replayed: RpcEvent[] = []
      watchEvents(ws, { filter: { topic: 'transaction', txId: txId(next) }, fromHeight: 0, onEvent: (e) => replayed.push(e) })
      await eventually(() => replayed.length > 0)
      expect(replayed).toMatchObject([{ topic: 'transaction', status: 'included' }])
    } finally {
      await ws.close()
      await client.close()
      await server.close()
    }
  })

  it('fair across kinds: a flood of higher-fee executions does not keep a transfer out beyond the wait bound', async () => {
    await chain.close()
    await openChainWithAsset(join(tmp.dir, 'chain-flood'), 2)
    // 40 executions at fee 100 (20 blocks' worth at 2 txs a block) arrive before one transfer at fee 1.
    for (let i = 0; i < 40; i++) await chain.submitTx(executeTx(client, nextNonce(client), 100n))
    const honest = transfer(payer, nextNonce(payer), hosts[0]!.publicKey, 7n)
    await chain.submitTx(honest)
    const blocks = await includedWithin(txId(honest), 8)
    expect(blocks).toBeDefined()
    // The fee rule alone would have waited for the whole flood: the age rule let it in after at most maxKindWaitSlots (4) passed-over slots.
    expect(blocks).toBeLessThanOrEqual(5)
    expect(chain.mempool.size).toBeGreaterThan(20)
  })
})
