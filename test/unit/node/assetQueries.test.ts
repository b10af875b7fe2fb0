import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { ASSET_KIND, OUTCOME } from '../../../blocks/schema.ts'
import { createComputePool } from '../../../src/compute/index.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { AssetQueries } from '../../../src/node/assetQueries.ts'
import { BlobStore } from '../../../src/node/blobStore.ts'
import { RpcBackendError } from '../../../src/rpc/errors.ts'
import { ASSET_STATUS } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { codingParamsOf, computeManifest } from '../../../src/storage/encodeAsset.ts'
import { tempDir, testGenesis } from '../../support/chainFixtures.ts'
import { loadFixture, readU32le, u32le } from '../compute/computeFixtures.ts'

const tmp = tempDir('xsc-queries-')
const genesis = testGenesis()
const pool = createComputePool({ workers: 1 })
afterAll(async () => {
  await pool.close()
  tmp.cleanup()
})

const counter = loadFixture('counter')
const counterId = hash(utf8('counter-asset'))
const blobId = hash(utf8('blob-asset'))
const state = new MemoryState()
const head = { hash: hash(utf8('head-7')), height: 7 }
const store = { state, head, finalized: { hash: hash(utf8('head-6')), height: 6 } }

function put(id: Uint8Array, kind: number, bytes: Uint8Array): void {
  const s = new StateOverlay(state)
  s.write(TABLES.asset.at(id), {
    owner: id, kind, manifest: computeManifest(bytes, codingParamsOf(genesis.params)), placement: [], shardFailures: [], deposit: 0n, bidPerByteEpoch: 0n, createdHeight: 1, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined,
  })
  state.apply(s.writeSet())
}
put(counterId, ASSET_KIND.module, counter)
put(blobId, ASSET_KIND.blob, utf8('just data'))
state.apply([{ key: TABLES.assetKv.key(counterId, utf8('count')), value: u32le(41) }, { key: TABLES.assetKv.key(counterId, utf8('a')), value: u32le(1) }, { key: TABLES.assetKv.key(counterId, utf8('b')), value: u32le(2) }])
const blobs = new BlobStore(join(tmp.dir, 'blobs'))
blobs.put(counter)
const queries = new AssetQueries({ chain: { store, genesis }, blobs, pool })

describe('read-only queries run the real runtime on the node\'s state, outside consensus', () => {
  it('a query reads the asset state, discards its writes and names the block it read', async () => {
    const r = await queries.query({ asset: counterId, fn: 'run', input: u32le(1), fuelLimit: undefined })
    expect(r.outcome).toBe(OUTCOME.ok)
    expect(readU32le(r.output)).toBe(42)
    expect(r.fuelUsed).toBeGreaterThan(0n)
    expect({ height: r.height, blockHash: toHex(r.blockHash), finalized: r.finalized }).toEqual({ height: 7, blockHash: toHex(head.hash), finalized: false })
    // Writes discarded: the same query answers the same.
    expect(readU32le((await queries.query({ asset: counterId, fn: 'run', input: u32le(1), fuelLimit: undefined })).output)).toBe(42)
    expect(readU32le(state.get(TABLES.assetKv.key(counterId, utf8('count')))!)).toBe(41)
  })

  it('fuel is capped: a low limit runs out, a limit above the chain maximum is refused', async () => {
    const low = await queries.query({ asset: counterId, fn: 'run', input: u32le(1), fuelLimit: 10n })
    expect(low.outcome).toBe(OUTCOME.outOfFuel)
    expect(low.fuelUsed).toBe(10n)
    await expect(queries.query({ asset: counterId, fn: 'run', input: new Uint8Array(0), fuelLimit: genesis.params.maxFuelLimit + 1n })).rejects.toMatchObject({ code: 'FUEL_LIMIT_TOO_HIGH' })
  })

  it('the estimate is the same dry run without the height', async () => {
    const q = await queries.query({ asset: counterId, fn: 'run', input: u32le(5), fuelLimit: undefined })
    const e = await queries.estimate({ asset: counterId, fn: 'run', input: u32le(5), fuelLimit: undefined, from: undefined })
    expect(e).toEqual({ outcome: q.outcome, fuelUsed: q.fuelUsed, output: q.output })
  })

  it('unknown assets and blobs get typed refusals', async () => {
    await expect(queries.query({ asset: hash(utf8('nope')), fn: 'run', input: new Uint8Array(0), fuelLimit: undefined })).rejects.toBeInstanceOf(RpcBackendError)
    await expect(queries.query({ asset: hash(utf8('nope')), fn: 'run', input: new Uint8Array(0), fuelLimit: undefined })).rejects.toMatchObject({ code: 'UNKNOWN_ASSET' })
    await expect(queries.query({ asset: blobId, fn: 'run', input: new Uint8Array(0), fuelLimit: undefined })).rejects.toMatchObject({ code: 'INVALID_TX' })
  })

  it('a node with neither the module nor a network says UNAVAILABLE', async () => {
    const bare = new AssetQueries({ chain: { store, genesis }, blobs: new BlobStore(join(tmp.dir, 'empty')), pool })
    await expect(bare.query({ asset: counterId, fn: 'run', input: new Uint8Array(0), fuelLimit: undefined })).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })

  it('asset state pages walk the keys in byte order with a cursor', () => {
    const first = queries.assetState(counterId, { cursor: undefined, limit: 2 })
    expect(first.entries.map((e) => new TextDecoder().decode(e.key))).toEqual(['a', 'b'])
    expect(first.next).toBeDefined()
    const second = queries.assetState(counterId, { cursor: first.next, limit: 2 })
    expect(second.entries.map((e) => new TextDecoder().decode(e.key))).toEqual(['count'])
    expect(readU32le(second.entries[0]!.value)).toBe(41)
    expect(second.next).toBeUndefined()
    expect(second.height).toBe(7)
  })
})
