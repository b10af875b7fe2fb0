import { describe, expect, it } from 'vitest'

import { hash, toHex, utf8 } from '../../../../src/crypto/index.ts'
import { ASSET_STATUS } from '../../../../src/state/records.ts'
import { computeStorageRent } from '../../../../src/state/storage/computeStorageRent.ts'
import { encodeAsset } from '../../../../src/storage/encodeAsset.ts'
import { assetRecord, hostAddress } from './storageTestState.ts'

const { manifest } = encodeAsset(new Uint8Array(4000), { k: 4, m: 2, segmentSize: 4000, chunkSize: 100 })
// shardSize 1000
const placement = Array.from({ length: 6 }, (_, i) => hostAddress(i))
const asks = new Map(placement.map((h, i) => [toHex(h), BigInt(i + 1)]))
const askOf = (h: Uint8Array) => asks.get(toHex(h))
const asset = hash(utf8('rent-asset'))
const allPass = [true, true, true, true, true, true]

describe('storage rent', () => {
  it('pays each passing shard shardSize × min(ask, bid) and conserves the deposit', () => {
    const record = assetRecord(manifest, placement, { deposit: 100_000n, bidPerByteEpoch: 3n })
    const out = computeStorageRent(5, [{ asset, record, passed: [true, true, true, false, true, true] }], askOf, { rentGraceEpochs: 2 })
    const expected = [1000n, 2000n, 3000n, 0n, 3000n, 3000n]
    expect(out.assets[0]!.paid).toBe(12_000n)
    expect(out.assets[0]!.deposit + out.paidTotal).toBe(100_000n)
    const byHost = new Map(out.payouts.map((p) => [toHex(p.to), p.amount]))
    placement.forEach((h, i) => expect(byHost.get(toHex(h)) ?? 0n).toBe(expected[i]))
    expect(out.payouts.map((p) => toHex(p.to))).toEqual(out.payouts.map((p) => toHex(p.to)).sort())
    expect(out.assets[0]!.status).toBe(ASSET_STATUS.active)
  })

  it('a short deposit is shared pro rata with the remainder in shard order, down to exactly 0, then grace', () => {
    const record = assetRecord(manifest, placement, { deposit: 1001n, bidPerByteEpoch: 3n })
    const out = computeStorageRent(9, [{ asset, record, passed: allPass }], askOf, { rentGraceEpochs: 2 })
    expect(out.paidTotal).toBe(1001n)
    expect(out.assets[0]!.deposit).toBe(0n)
    const amounts = placement.map((h) => out.payouts.find((p) => toHex(p.to) === toHex(h))?.amount ?? 0n)
    // dues 1000,2000,3000,3000,3000,3000 of 15000; floors 66,133,200,200,200,200 = 999; +1 to shards 0 and 1
    expect(amounts).toEqual([67n, 134n, 200n, 200n, 200n, 200n])
    expect(out.assets[0]).toMatchObject({ status: ASSET_STATUS.graced, exhaustedEpoch: 9 })
  })

  it('a graced asset expires after rentGraceEpochs and then pays nothing', () => {
    const graced = assetRecord(manifest, placement, { deposit: 0n, status: ASSET_STATUS.graced, exhaustedEpoch: 9 })
    const e10 = computeStorageRent(10, [{ asset, record: graced, passed: allPass }], askOf, { rentGraceEpochs: 2 })
    expect(e10.expired).toEqual([])
    expect(e10.assets[0]!.status).toBe(ASSET_STATUS.graced)
    const e11 = computeStorageRent(11, [{ asset, record: graced, passed: allPass }], askOf, { rentGraceEpochs: 2 })
    expect(e11.expired).toEqual([asset])
    expect(e11.assets[0]!.status).toBe(ASSET_STATUS.expired)
    expect(e11.paidTotal).toBe(0n)
    const after = computeStorageRent(12, [{ asset, record: { ...graced, status: ASSET_STATUS.expired }, passed: allPass }], askOf, { rentGraceEpochs: 2 })
    expect(after.payouts).toEqual([])
    expect(after.expired).toEqual([])
  })

  it('nobody passing pays nothing and keeps the deposit', () => {
    const record = assetRecord(manifest, placement, { deposit: 50_000n })
    const out = computeStorageRent(1, [{ asset, record, passed: allPass.map(() => false) }], askOf, { rentGraceEpochs: 2 })
    expect(out.paidTotal).toBe(0n)
    expect(out.assets[0]!.deposit).toBe(50_000n)
  })
})
