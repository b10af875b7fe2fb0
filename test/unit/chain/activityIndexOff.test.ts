import { afterEach, describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { txId } from '../../../blocks/ids.ts'
import { Block } from '../../../blocks/schema.ts'
import { ACTIVITY_ROLE, computeActivityKey, computeActivityRows } from '../../../src/chain/accountActivity.ts'
import { ActivityIndex } from '../../../src/chain/activityIndex.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { Bucket, Db } from '../../../src/chain/db.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { toRpcErrorObject } from '../../../src/rpc/errors.ts'
import { signTx, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('validator-0')
const alice = testKey('alice')
const bob = testKey('bob')
const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }] })
const T0 = Number(genesis.genesisTime)

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

const countRows = async (db: Db): Promise<number> => {
  let n = 0
  for await (const _ of db.entries(Bucket.activity)) n++
  return n
}

describe('a node without the activity index', () => {
  it('follows to the same state writing no rows, refuses index reads with ACTIVITY_INDEX_OFF, and rebuilds the rows when reopened with the index', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const producer = await Chain.open({ dataDir: `${tmp.dir}/p`, genesis, validatorKey: validator, signatureWorkers: 0 })
    cleanups.push(() => producer.close())
    let follower = await Chain.open({ dataDir: `${tmp.dir}/f`, genesis, signatureWorkers: 0, activityIndex: false })
    const txs = [transfer(alice, 0, bob.publicKey, 100n, 2n), transfer(alice, 1, bob.publicKey, 7n, 2n)]
    for (const [i, tx] of txs.entries()) {
      await producer.submitTx(tx)
      const made = (await producer.produceBlock(i + 1, T0 + (i + 1) * 1000))!
      const bytes = encode(Block, made.block)
      await follower.commitBlock(decode(Block, bytes), made.commit!, bytes)
    }
    expect(toHex(follower.store.head.header.stateRoot)).toBe(toHex(producer.store.head.header.stateRoot))
    expect(toHex(follower.store.head.hash)).toBe(toHex(producer.store.head.hash))
    const refusal = await follower.store.getActivity(bob.publicKey, 0xffffffff, 10).catch((e: unknown) => e)
    expect(toRpcErrorObject(refusal)).toMatchObject({ code: -32000, data: { reason: 'ACTIVITY_INDEX_OFF' } })
    await expect(follower.store.getActivityPage(bob.publicKey, undefined, 10)).rejects.toMatchObject({ code: 'ACTIVITY_INDEX_OFF' })
    await follower.close()
    const raw = await Db.open(`${tmp.dir}/f`)
    expect(await countRows(raw)).toBe(0)
    await raw.close()
    // Turned on: the rows of the blocks committed without it are rebuilt at open.
    follower = await Chain.open({ dataDir: `${tmp.dir}/f`, genesis, signatureWorkers: 0 })
    cleanups.push(() => follower.close())
    const want = await producer.store.getActivity(bob.publicKey, 0xffffffff, 10)
    expect(want.map((r) => [r.height, r.role, toHex(r.ref)])).toEqual([[2, ACTIVITY_ROLE.received, toHex(txId(txs[1]!))], [1, ACTIVITY_ROLE.received, toHex(txId(txs[0]!))]])
    expect(await follower.store.getActivity(bob.publicKey, 0xffffffff, 10)).toEqual(want)
    expect(await follower.store.getActivity(alice.publicKey, 0xffffffff, 10)).toEqual(await producer.store.getActivity(alice.publicKey, 0xffffffff, 10))
  })

  it('still writes asset deletions, under the full index\'s keys, so the shard sweep sees them', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const db = await Db.open(tmp.dir)
    cleanups.push(() => db.close())
    const asset = hash(utf8('asset'))
    const other = hash(utf8('other asset'))
    const header = { chainId: 'xsc-test', height: 5, prevHash: new Uint8Array(32), kind: 'ledger', slot: 9, timestamp: 0n, proposer: validator.publicKey, bodyRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), baseFee: 0n, txBytes: 0, round: 0, beaconReveal: new Uint8Array(32), proofs: [], signature: new Uint8Array(64) } as Block['header']
    const block: Block = { header, entries: [
      { type: 'tx', tx: transfer(alice, 0, bob.publicKey, 1n) },
      { type: 'tx', tx: signTx(alice, 1, { type: 'asset.extend', asset: other, amount: 3n }) },
      { type: 'tx', tx: signTx(alice, 2, { type: 'asset.delete', asset }) },
    ] }
    const off = new ActivityIndex(db, false)
    const ops = off.rowsOf(block)
    const all = computeActivityRows(block)
    const seq = all.findIndex((r) => r.role === ACTIVITY_ROLE.deleted)
    expect(ops.map((o) => toHex(o.key.subarray(1)))).toEqual([toHex(computeActivityKey(asset, 5, seq))])
    expect(new ActivityIndex(db, true).rowsOf(block)).toHaveLength(all.length)
    expect(off.rowsOf({ header, entries: block.entries.slice(0, 2) })).toEqual([])
    await db.batch(ops)
    expect(await off.wasDeleted(asset)).toBe(true)
    expect(await off.wasDeleted(other)).toBe(false)
  })
})
