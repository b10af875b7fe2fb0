import { afterEach, describe, expect, it } from 'vitest'

import { type BatchOp, Bucket, bucketKey, Db } from '../../../src/chain/db.ts'
import { tempDir } from '../../support/chainFixtures.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups.length = 0
})

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs)

describe('Db.batch (straight to classic-level native batch)', () => {
  it('writes puts and deletes of one batch, subarray views included, and reopens with them', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    let db = await Db.open(tmp.dir)
    const backing = bytes(9, 9, 7, 7, 7, 9)
    await db.batch([
      { type: 'put', key: bucketKey(Bucket.state, bytes(1)), value: bytes(10) },
      { type: 'put', key: bucketKey(Bucket.state, bytes(2)), value: bytes(20) },
      // a view into a larger buffer: only its own bytes are stored
      { type: 'put', key: bucketKey(Bucket.state, bytes(3)), value: backing.subarray(2, 5) },
    ])
    await db.batch([
      { type: 'del', key: bucketKey(Bucket.state, bytes(1)) },
      { type: 'put', key: bucketKey(Bucket.state, bytes(2)), value: bytes(21) },
    ], true)
    await db.batch([])
    await db.close()
    db = await Db.open(tmp.dir)
    cleanups.push(() => db.close())
    expect(await db.get(Bucket.state, bytes(1))).toBeUndefined()
    expect(await db.get(Bucket.state, bytes(2))).toEqual(bytes(21))
    expect(await db.get(Bucket.state, bytes(3))).toEqual(bytes(7, 7, 7))
    const all: [Uint8Array, Uint8Array][] = []
    for await (const kv of db.entries(Bucket.state)) all.push(kv)
    expect(all.map(([k]) => k[0])).toEqual([2, 3])
  })

  it('a batch on a closed database is refused with an error, not written or crashed', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const db = await Db.open(tmp.dir)
    await db.close()
    const ops: BatchOp[] = [{ type: 'put', key: bucketKey(Bucket.state, bytes(1)), value: bytes(1) }]
    await expect(db.batch(ops)).rejects.toThrow(/not open/i)
  })
})
