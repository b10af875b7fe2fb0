import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { blockHash } from '../../../blocks/ids.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { type Client, createClient, getVerifiedAccount, getVerifiedState, http, RpcClientError, type Transport } from '../../../src/client/index.ts'
import { generateKeyPair, type KeyPair, toHex } from '../../../src/crypto/index.ts'
import { BlobStore } from '../../../src/node/blobStore.ts'
import { ChainEvents } from '../../../src/node/chainEvents.ts'
import { NodeRpcBackend } from '../../../src/node/rpcBackend.ts'
import { type RpcServer, startRpcServer } from '../../../src/rpc/server.ts'
import { verifyStateProof } from '../../../src/state/stateTree/index.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { NonceCounter, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('tree-validator')
const payer = testKey('tree-payer')
const genesis = testGenesis({ validators: [validator], funded: [{ key: payer, amount: 10n ** 15n }], schemes: ['stake'] })
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-state-tree-')
// A cache far smaller than the tree: every block loads paths from disk.
const TINY_CACHE = 40
const recipients: KeyPair[] = Array.from({ length: 240 }, () => generateKeyPair())
const nonces = new NonceCounter()
let a: Chain
let b: Chain
let slot = 0

async function produceTransfers(batch: KeyPair[]): Promise<void> {
  for (const r of batch) await a.submitTx(transfer(payer, nonces.next(payer), r.publicKey, 1_000n + BigInt(slot)))
  slot++
  const made = (await a.produceBlock(slot, T0 + slot * genesis.slotMs))!
  expect(made.block.entries.length).toBe(batch.length)
  await b.importBlock(made.block)
}

/** The root of the head's whole state computed from scratch, in memory, independently of the store's tree. */
async function rootFromScratch(chain: Chain): Promise<string> {
  const fresh = new MemoryState()
  fresh.apply(await chain.store.readWholeState())
  return toHex(fresh.root)
}

beforeAll(async () => {
  a = await Chain.open({ dataDir: join(tmp.dir, 'a'), genesis, validatorKey: validator, signatureWorkers: 0, treeCacheNodes: TINY_CACHE })
  b = await Chain.open({ dataDir: join(tmp.dir, 'b'), genesis, signatureWorkers: 0, treeCacheNodes: TINY_CACHE })
  for (let i = 0; i < recipients.length; i += 60) await produceTransfers(recipients.slice(i, i + 60))
})

afterAll(async () => {
  await a.close()
  await b.close()
  tmp.cleanup()
})

describe('state tree on disk', () => {
  it('the header stateRoot is the tree root of the whole state, on the producer and on an importer, with a cache smaller than the tree', async () => {
    expect(a.head.height).toBe(4)
    expect(a.store.tree.cachedNodes).toBeLessThanOrEqual(TINY_CACHE)
    expect(toHex(b.head.hash)).toBe(toHex(a.head.hash))
    expect(await rootFromScratch(a)).toBe(toHex(a.head.header.stateRoot))
    expect(await rootFromScratch(b)).toBe(toHex(b.head.header.stateRoot))
  })

  it('after a restart the tree answers proofs at the head and at an older height, with the values of that height', async () => {
    await a.close()
    a = await Chain.open({ dataDir: join(tmp.dir, 'a'), genesis, validatorKey: validator, signatureWorkers: 0, treeCacheNodes: TINY_CACHE })
    const last = recipients[recipients.length - 1]!
    const [head] = await a.store.tree.prove(a.head.header.stateRoot, [TABLES.account.key(last.publicKey)])
    verifyStateProof(a.head.header.stateRoot, head!)
    expect(head!.value).toBeDefined()
    // At height 1 the last recipient had not been paid yet: its proof is one of absence.
    const h1 = (await a.store.getBlockByHeight(1))!
    const [old] = await a.store.tree.prove(h1.header.stateRoot, [TABLES.account.key(last.publicKey), TABLES.account.key(recipients[0]!.publicKey)])
    verifyStateProof(h1.header.stateRoot, old!)
    expect(old!.value).toBeUndefined()
    // The next block still imports on the reopened store (paths loaded from disk).
    await produceTransfers([generateKeyPair()])
    expect(await rootFromScratch(a)).toBe(toHex(a.head.header.stateRoot))
  })

  describe('over RPC (xsc_getProof) with the typed client', () => {
    let server: RpcServer
    let client: Client
    beforeAll(async () => {
      const backend = new NodeRpcBackend({ chain: a, events: new ChainEvents(a), blobs: new BlobStore(join(tmp.dir, 'blobs')) })
      server = await startRpcServer({ port: 0 }, { backend })
      client = createClient({ transport: http(server.url) })
    })
    afterAll(async () => {
      await client.close()
      await server.close()
    })

    it('a balance verifies against the head header and equals the node\'s state; an older height gives the older balance', async () => {
      const who = recipients[5]!
      const proven = await getVerifiedAccount(client, { address: who.publicKey })
      expect(proven.account.balance).toBe((await a.readAccount(who.publicKey)).balance)
      expect(toHex(proven.blockHash)).toBe(toHex(a.head.hash))
      const before = await getVerifiedAccount(client, { address: who.publicKey, height: 0 })
      expect(before.value).toBeUndefined()
      expect(before.account.balance).toBe(0n)
      expect(toHex(before.blockHash)).toBe(toHex(blockHash((await a.store.getBlockByHeight(0))!.header)))
    })

    it('a node that lies about a value, or answers for another block than the pinned one, is caught', async () => {
      const lying: Transport = {
        ...client.transport,
        type: 'http',
        url: server.url,
        request: async (method, params) => {
          const answer = (await client.transport.request(method, params)) as { proofs: { value: string | null }[] }
          answer.proofs[0]!.value = '0x' + '00'.repeat(20)
          return answer as never
        },
      }
      const liar = createClient({ transport: lying })
      await expect(getVerifiedAccount(liar, { address: recipients[1]!.publicKey })).rejects.toThrow(RpcClientError)
      await expect(getVerifiedState(client, { keys: [TABLES.account.key(payer.publicKey)], blockHash: a.store.genesisHash })).rejects.toThrow(/hashes to/)
    })
  })
})
