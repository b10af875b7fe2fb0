import { afterEach, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { Chain, type ImportedBlock } from '../../../src/chain/chain.ts'
import { Bucket, bucketKey, Db } from '../../../src/chain/db.ts'
import { StateValueStore } from '../../../src/chain/stateStore.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { Account } from '../../../src/state/records.ts'
import { StateTreeError } from '../../../src/state/stateTree/index.ts'
import { MemoryState } from '../../../src/state/stateView.ts'
import { type RowCodec, TABLES } from '../../../src/state/tables.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'
import { errorCodeOf } from '../../support/errorCode.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups.length = 0
})

async function openDb(): Promise<Db> {
  const tmp = tempDir()
  const db = await Db.open(tmp.dir)
  cleanups.push(tmp.cleanup, () => db.close())
  return db
}

const key = (n: number) => TABLES.account.key(testKey(`svs-${n}`).publicKey)
const value = (balance: bigint) => encode(Account, { balance, nonce: 3 })

describe('StateValueStore', () => {
  it('keeps rows decoded: the same object until a commit writes the row, then the new value; a miss is NOT_LOADED or recorded as by get', async () => {
    const db = await openDb()
    const address = testKey('svs-1').publicKey
    await db.batch([{ type: 'put', key: bucketKey(Bucket.state, key(1)), value: value(7n) }])
    const values = new StateValueStore(db)
    const state = new MemoryState(undefined, values)
    expect(errorCodeOf(StateTreeError, () => readAccount(state, address))).toBe('NOT_LOADED')
    expect(values.collect(() => readAccount(state, testKey('svs-2').publicKey)).missed.map(toHex)).toEqual([toHex(key(2))])
    await values.load([key(1), key(2)])
    const first = readAccount(state, address)
    expect(first).toEqual({ balance: 7n, nonce: 3 })
    expect(readAccount(state, address)).toBe(first)
    expect(readAccount(state, testKey('svs-2').publicKey)).toEqual({ balance: 0n, nonce: 0 })
    values.apply([{ key: key(1), value: value(9n) }])
    expect(readAccount(state, address)).toEqual({ balance: 9n, nonce: 3 })
    values.apply([{ key: key(1), value: undefined }])
    expect(readAccount(state, address)).toEqual({ balance: 0n, nonce: 0 })
  })

  it('a committed write that carries its decoded row hands that object to the next reader', async () => {
    const values = new StateValueStore(await openDb())
    const state = new MemoryState(undefined, values)
    const address = testKey('svs-3').publicKey
    const row = TABLES.account.at(address)
    const account = { balance: 11n, nonce: 4 }
    values.apply([{ key: row.key, value: encode(Account, account), row: { codec: row.codec as RowCodec<unknown>, value: account } }])
    expect(readAccount(state, address)).toBe(account)
    values.apply([{ key: row.key, value: value(12n) }])
    expect(readAccount(state, address)).toEqual({ balance: 12n, nonce: 3 })
  })

  it('a value not loaded is NOT_LOADED, never absent; loaded it reads from disk (absent when absent); trimmed it is NOT_LOADED again', async () => {
    const db = await openDb()
    await db.batch([{ type: 'put', key: bucketKey(Bucket.state, key(1)), value: value(7n) }])
    const values = new StateValueStore(db, 1)
    const state = new MemoryState(undefined, values)
    expect(errorCodeOf(StateTreeError, () => state.get(key(1)))).toBe('NOT_LOADED')
    expect(errorCodeOf(StateTreeError, () => state.get(key(2)))).toBe('NOT_LOADED')
    await values.load([key(1), key(2)])
    expect(toHex(state.get(key(1))!)).toBe(toHex(value(7n)))
    expect(state.get(key(2))).toBeUndefined()
    values.trim()
    expect(errorCodeOf(StateTreeError, () => state.get(key(1)))).toBe('NOT_LOADED')
    // Tables scanned per block stay in memory: no load, and a scan of the served table is refused.
    state.apply([{ key: TABLES.validator.key(testKey('svs-v').publicKey), value: new Uint8Array([1]) }])
    expect(state.scan(new Uint8Array([TABLES.validator.key(testKey('svs-v').publicKey)[0]!]))).toHaveLength(1)
    expect(errorCodeOf(StateTreeError, () => state.scan(new Uint8Array([key(1)[0]!])))).toBe('NOT_SCANNABLE')
  })

  it('inside collect a miss reads absent but is recorded, so the caller throws that run away', async () => {
    const values = new StateValueStore(await openDb())
    const run = values.collect(() => values.get(key(3)))
    expect(run).toMatchObject({ ok: true, value: undefined })
    expect(run.missed.map(toHex)).toEqual([toHex(key(3))])
    // Outside collect the miss throws again.
    expect(errorCodeOf(StateTreeError, () => values.get(key(3)))).toBe('NOT_LOADED')
  })

  it('a load that spans a commit keeps the committed value, not the older one it read from disk', async () => {
    const db = await openDb()
    await db.batch([{ type: 'put', key: bucketKey(Bucket.state, key(4)), value: value(1n) }])
    const values = new StateValueStore(db)
    // A block commits a new value while the read of the old one is in flight.
    const loading = values.load([key(4)])
    values.apply([{ key: key(4), value: value(2n) }])
    await db.batch([{ type: 'put', key: bucketKey(Bucket.state, key(4)), value: value(2n) }])
    await loading
    expect(toHex(values.get(key(4))!)).toBe(toHex(value(2n)))
  })
})

describe('accounts served from disk through a one-entry cache', () => {
  it('a transfer to an evicted account credits it rather than creating it, and an evicted sender keeps its nonce, on the producer and on a cold importer', async () => {
    const validator = testKey('validator-0')
    const alice = testKey('svs-alice')
    const bob = testKey('svs-bob')
    const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }, { key: bob, amount: 500n }], schemes: ['stake'] })
    const T0 = Number(genesis.genesisTime)
    const a = tempDir()
    const b = tempDir()
    cleanups.push(a.cleanup, b.cleanup)
    let producer = await Chain.open({ dataDir: a.dir, genesis, validatorKey: validator, signatureWorkers: 0, valueCacheEntries: 1, treeCacheNodes: 4 })
    const importer = await Chain.open({ dataDir: b.dir, genesis, signatureWorkers: 0, valueCacheEntries: 1, treeCacheNodes: 4 })
    cleanups.push(() => importer.close())
    const blocks: ImportedBlock[] = []
    let slot = 0
    const produce = async () => {
      slot++
      const made = (await producer.produceBlock(slot, T0 + slot * genesis.slotMs))!
      blocks.push(made)
      await importer.importBlock(made.block)
      return made
    }
    // Bob spends once (nonce 0), then other accounts push bob out of both caches.
    await producer.submitTx(transfer(bob, 0, alice.publicKey, 100n))
    await produce()
    for (let i = 0; i < 3; i++) {
      await producer.submitTx(transfer(alice, i, testKey(`svs-other-${i}`).publicKey, 10n))
      await produce()
    }
    // Reopened, nothing but the in-memory tables is loaded.
    await producer.close()
    producer = await Chain.open({ dataDir: a.dir, genesis, validatorKey: validator, signatureWorkers: 0, valueCacheEntries: 1, treeCacheNodes: 4 })
    cleanups.push(() => producer.close())
    expect(errorCodeOf(StateTreeError, () => readAccount(producer.store.state, testKey('svs-other-0').publicKey))).toBe('NOT_LOADED')
    // The attack: a credit to an unloaded account read as absent would reset bob to { balance: 5, nonce: 0 } (500 - 100 - fee 1 + 5 = 404 is right).
    await producer.submitTx(transfer(alice, 3, bob.publicKey, 5n))
    await produce()
    expect(await producer.readAccount(bob.publicKey)).toEqual({ balance: 404n, nonce: 1 })
    expect(await importer.readAccount(bob.publicKey)).toEqual({ balance: 404n, nonce: 1 })
    // A replayed nonce is still refused, the next one admitted.
    await expect(producer.submitTx(transfer(bob, 0, alice.publicKey, 1n))).rejects.toMatchObject({ code: 'NONCE_TOO_LOW' })
    expect(await producer.nextNonce(bob.publicKey)).toBe(1)
    await producer.submitTx(transfer(bob, 1, alice.publicKey, 1n))
    await produce()
    expect(await importer.readAccount(bob.publicKey)).toEqual({ balance: 402n, nonce: 2 })
    expect(toHex(importer.head.header.stateRoot)).toBe(toHex(producer.head.header.stateRoot))
    // The same blocks replayed on a state held wholly in memory reach the same roots.
    const r = tempDir()
    const reference = await Chain.open({ dataDir: r.dir, genesis, signatureWorkers: 0 })
    cleanups.push(r.cleanup, () => reference.close())
    for (const made of blocks) expect(toHex((await reference.importBlock(made.block)).hash)).toBe(toHex(made.hash))
  })
})
