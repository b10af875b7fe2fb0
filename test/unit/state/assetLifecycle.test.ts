import { describe, expect, it } from 'vitest'

import type { HostParams, Manifest } from '../../../blocks/schema.ts'
import { CAPABILITY } from '../../../blocks/schema.ts'
import { ZERO_HASH } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import type { ApplyContext } from '../../../src/state/applyContext.ts'
import { applyLedgerTx } from '../../../src/state/applyLedger.ts'
import { StateError } from '../../../src/state/errors.ts'
import { ASSET_STATUS, AssetRecord, HOST_STATUS } from '../../../src/state/records.ts'
import { StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { signTx, testGenesis, testKey } from '../../support/chainFixtures.ts'

const owner = testKey('owner')
const sponsor = testKey('sponsor')
const proposer = testKey('proposer')
const hosts = [0, 1, 2, 3, 4, 5].map((i) => testKey(`lifecycle-host-${i}`))
const asset = new Uint8Array(32).fill(7)
const SHARD = 1000n
const ASK = 2n

const hostParams: HostParams = { coord: { x: 0, y: 0, z: 0 }, zone: 'z', capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage, askPerFuel: 1n, askPerByteEpoch: ASK, peerId: '', memoryBytes: 16n << 20n, encryptionKey: undefined }
const manifest: Manifest = { size: 4000n, dataHash: ZERO_HASH, k: 4, m: 2, segmentSize: 4000, shardSize: SHARD, chunkSize: 1000, shardHashes: hosts.map(() => ZERO_HASH), chunkRoots: hosts.map(() => ZERO_HASH) }
/** One epoch of rent: 6 shards × 1000 bytes × ask 2. */
const EPOCH_COST = 6n * SHARD * ASK

function setup(record: Partial<AssetRecord> = {}): { state: StateOverlay; ctx: ApplyContext } {
  const state = new StateOverlay({ get: () => undefined, scan: () => [], treeNodes: { node: () => undefined } })
  state.write(TABLES.account.at(owner.publicKey), { balance: 1_000_000n, nonce: 0 })
  state.write(TABLES.account.at(sponsor.publicKey), { balance: 1_000_000n, nonce: 0 })
  hosts.forEach((h, i) => state.write(TABLES.host.at(h.publicKey), { params: hostParams, reputation: 5000, status: HOST_STATUS.active, usedBytes: SHARD, joinedHeight: 1, failedAudits: i === 0 ? 2 : 0, bond: 0n, passedChecks: 0 }))
  state.write(TABLES.asset.at(asset), {
    owner: owner.publicKey, kind: 1, manifest, placement: hosts.map((h) => h.publicKey), shardFailures: hosts.map((_, i) => (i === 0 ? 2 : 0)),
    deposit: 50_000n, bidPerByteEpoch: 10n, createdHeight: 1, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], ...record,
  })
  state.set(TABLES.assetKv.key(asset, new Uint8Array([1])), new Uint8Array([42]))
  return { state, ctx: { genesis: testGenesis(), height: 10, slot: 10, proposer: proposer.publicKey, prevHash: ZERO_HASH, beaconMix: ZERO_HASH, baseFee: 0n } }
}

const read = (state: StateOverlay): AssetRecord | undefined => state.read(TABLES.asset.at(asset))

describe('asset.extend', () => {
  it('anyone tops up the deposit; the sponsor pays amount and fee', () => {
    const { state, ctx } = setup()
    applyLedgerTx(state, signTx(sponsor, 0, { type: 'asset.extend', asset, amount: 7000n }, { fee: 5n }), ctx)
    expect(read(state)!.deposit).toBe(57_000n)
    expect(readAccount(state, sponsor.publicKey).balance).toBe(1_000_000n - 7000n - 5n)
  })

  it('revives a graced asset once the deposit covers an epoch again, not before', () => {
    const { state, ctx } = setup({ status: ASSET_STATUS.graced, exhaustedEpoch: 3, deposit: 100n })
    applyLedgerTx(state, signTx(sponsor, 0, { type: 'asset.extend', asset, amount: EPOCH_COST - 101n }), ctx)
    expect(read(state)!.status).toBe(ASSET_STATUS.graced)
    applyLedgerTx(state, signTx(sponsor, 1, { type: 'asset.extend', asset, amount: 1n }), ctx)
    expect(read(state)).toMatchObject({ status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], deposit: EPOCH_COST })
  })

  it('refuses expired and unknown assets and a zero amount', () => {
    const { state, ctx } = setup({ status: ASSET_STATUS.expired })
    expect(() => applyLedgerTx(state, signTx(sponsor, 0, { type: 'asset.extend', asset, amount: 1n }), ctx)).toThrow(/expired/)
    expect(() => applyLedgerTx(state, signTx(sponsor, 0, { type: 'asset.extend', asset: new Uint8Array(32), amount: 1n }), ctx)).toThrow(StateError)
    const fresh = setup()
    expect(() => applyLedgerTx(fresh.state, signTx(sponsor, 0, { type: 'asset.extend', asset, amount: 0n }), fresh.ctx)).toThrow(/positive/)
  })
})

describe('asset.delete', () => {
  it('refunds the unspent deposit to the owner, releases host bytes and failures, removes the record and its state', () => {
    const { state, ctx } = setup()
    applyLedgerTx(state, signTx(owner, 0, { type: 'asset.delete', asset }, { fee: 3n }), ctx)
    expect(read(state)).toBeUndefined()
    expect(readAccount(state, owner.publicKey).balance).toBe(1_000_000n + 50_000n - 3n)
    for (const h of hosts) expect(state.read(TABLES.host.at(h.publicKey))).toMatchObject({ usedBytes: 0n, failedAudits: 0, bond: 0n, passedChecks: 0 })
    expect(state.get(TABLES.assetKv.key(asset, new Uint8Array([1])))).toBeUndefined()
  })

  it('only the owner may delete; the attempt changes nothing', () => {
    const { state, ctx } = setup()
    const err = (() => {
      try {
        applyLedgerTx(state, signTx(sponsor, 0, { type: 'asset.delete', asset }), ctx)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(StateError)
    expect((err as StateError).code).toBe('NOT_OWNER')
    expect(read(state)!.deposit).toBe(50_000n)
    expect(readAccount(state, sponsor.publicKey)).toMatchObject({ balance: 1_000_000n, nonce: 0 })
  })

  it('a deleted asset cannot be extended or deleted again', () => {
    const { state, ctx } = setup()
    applyLedgerTx(state, signTx(owner, 0, { type: 'asset.delete', asset }), ctx)
    expect(() => applyLedgerTx(state, signTx(owner, 1, { type: 'asset.delete', asset }), ctx)).toThrow(/deleted/)
    expect(() => applyLedgerTx(state, signTx(sponsor, 0, { type: 'asset.extend', asset, amount: 5n }), ctx)).toThrow(/deleted/)
  })
})
