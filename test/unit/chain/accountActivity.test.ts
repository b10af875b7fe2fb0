import { afterEach, describe, expect, it } from 'vitest'

import { txId } from '../../../blocks/ids.ts'
import type { Block, BlockHeader } from '../../../blocks/schema.ts'
import { ACTIVITY_ROLE, computeActivityRows } from '../../../src/chain/accountActivity.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

const validator = testKey('validator-0')
const alice = testKey('alice')
const bob = testKey('bob')
const carol = testKey('carol')
const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }, { key: carol, amount: 1_000_000n }] })
const T0 = Number(genesis.genesisTime)

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

const header = (height: number): BlockHeader => ({
  chainId: 'xsc-test', height, prevHash: new Uint8Array(32), kind: 'completion', slot: 42, timestamp: 0n, proposer: validator.publicKey,
  bodyRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), baseFee: 0n, txBytes: 0, round: 0, beaconReveal: new Uint8Array(32), proofs: [], signature: new Uint8Array(64),
})

describe('activity rows', () => {
  it('a completion gives each receipt host a receipt row (agreed or not) and each payee a payout row', () => {
    const exec = hash(utf8('exec'))
    const result = hash(utf8('result'))
    const receipt = (host: Uint8Array, resultHash: Uint8Array) => ({ body: { chainId: 'xsc-test', executionId: exec, host, outcome: 0, resultHash, fuelUsed: 10n, writeSetHash: new Uint8Array(32), output: new Uint8Array(), preStateHash: new Uint8Array(32) }, signature: new Uint8Array(64) })
    const block: Block = {
      header: header(7),
      entries: [{
        type: 'completion', executionId: exec, status: 0, outcome: 0, resultHash: result, fuelUsed: 10n, output: new Uint8Array(), writeSet: [],
        receipts: [receipt(alice.publicKey, result), receipt(bob.publicKey, hash(utf8('other')))],
        payouts: [{ to: alice.publicKey, amount: 5n }], refund: 1n, burn: 0n, reputation: [],
      }],
    }
    const rows = computeActivityRows(block)
    expect(rows.map((r) => [toHex(r.subject), r.role, r.aux, r.amount])).toEqual([
      [toHex(alice.publicKey), ACTIVITY_ROLE.receipt, 1, 0n],
      [toHex(bob.publicKey), ACTIVITY_ROLE.receipt, 0, 0n],
      [toHex(alice.publicKey), ACTIVITY_ROLE.payout, 0, 5n],
      [toHex(exec), ACTIVITY_ROLE.completed, 0, 0n],
    ])
    expect(rows.every((r) => r.height === 7 && r.slot === 42 && toHex(r.ref) === toHex(exec))).toBe(true)
  })

  it('an audit gives the host and the asset one row each per result, and rent rows carry the epoch', () => {
    const asset = hash(utf8('asset'))
    const block: Block = {
      header: { ...header(9), kind: 'audit' },
      entries: [{
        type: 'audit', epoch: 3,
        results: [{ asset, shardIndex: 2, host: bob.publicKey, chunkIndex: 0, outcome: 1, chunk: new Uint8Array(), path: [] }],
        repairs: [], rent: [{ to: alice.publicKey, amount: 7n }], expired: [], reputation: [],
      }],
    }
    const rows = computeActivityRows(block)
    expect(rows.map((r) => [toHex(r.subject), r.role, toHex(r.ref), r.aux])).toEqual([
      [toHex(bob.publicKey), ACTIVITY_ROLE.auditFailed, toHex(asset), 2],
      [toHex(asset), ACTIVITY_ROLE.auditFailed, toHex(bob.publicKey), 2],
      [toHex(alice.publicKey), ACTIVITY_ROLE.rent, toHex(new Uint8Array(32)), 3],
    ])
  })
})

describe('the chain store\'s activity index', () => {
  it('indexes sent and received txs per account with the block, newest first, pages by height, and drops a reverted block\'s rows', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: validator, signatureWorkers: 1 })
    cleanups.push(() => chain.close())
    const t1 = transfer(alice, 0, bob.publicKey, 100n, 2n)
    await chain.submitTx(t1)
    await chain.produceBlock(1, T0 + 1000)
    const t2 = transfer(carol, 0, bob.publicKey, 50n, 3n)
    const t3 = transfer(alice, 1, carol.publicKey, 9n, 1n)
    await chain.submitTx(t2)
    await chain.submitTx(t3)
    await chain.produceBlock(2, T0 + 2000)

    const bobRows = await chain.store.getActivity(bob.publicKey, 0xffffffff, 10)
    expect(bobRows.map((r) => [r.height, r.role, toHex(r.ref), r.amount])).toEqual([
      [2, ACTIVITY_ROLE.received, toHex(txId(t2)), 50n],
      [1, ACTIVITY_ROLE.received, toHex(txId(t1)), 100n],
    ])
    const aliceRows = await chain.store.getActivity(alice.publicKey, 0xffffffff, 10)
    expect(aliceRows.map((r) => [r.height, r.role, r.amount])).toEqual([[2, ACTIVITY_ROLE.sent, 1n], [1, ACTIVITY_ROLE.sent, 2n]])
    expect((await chain.store.getActivity(alice.publicKey, 2, 10)).map((r) => r.height)).toEqual([1])
    expect(await chain.store.getActivity(alice.publicKey, 0xffffffff, 1)).toHaveLength(1)
    // Another subject's rows never leak in (keys are prefixed by the whole subject).
    expect(await chain.store.getActivity(validator.publicKey, 0xffffffff, 10)).toEqual([])
  })
})

describe('list indexes and lifecycle rows', () => {
  it('a deployment indexes the asset under its owner; an execution under its asset and sender; a completion under its id; extend and delete on the asset', async () => {
    const { assetsOfOwner, executionsOfAsset, executionsOfSender } = await import('../../../src/chain/accountActivity.ts')
    const { signTx } = await import('../../support/chainFixtures.ts')
    const asset = hash(utf8('asset'))
    const deploy = signTx(alice, 0, { type: 'deploy', assetKind: 1, manifest: { size: 1n, dataHash: asset, k: 4, m: 2, segmentSize: 4, shardSize: 1n, chunkSize: 1, shardHashes: [], chunkRoots: [] }, deposit: 5n, bidPerByteEpoch: 1n, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0 })
    const exec = signTx(bob, 0, { type: 'execute', asset, fn: 'run', input: new Uint8Array(), fuelLimit: 1n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false, deadlineSlots: 5, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n })
    const extend = signTx(carol, 0, { type: 'asset.extend', asset, amount: 77n })
    const del = signTx(alice, 1, { type: 'asset.delete', asset })
    const rows = computeActivityRows({ header: header(3), entries: [
      { type: 'deployment', tx: deploy, placement: [] },
      { type: 'execution', tx: exec, assignment: [], escrow: 9n },
      { type: 'tx', tx: extend },
      { type: 'tx', tx: del },
    ] })
    const find = (subject: Uint8Array, role: number) => rows.find((r) => toHex(r.subject) === toHex(subject) && r.role === role)
    expect(find(assetsOfOwner(alice.publicKey), ACTIVITY_ROLE.assetOwned)?.ref).toEqual(txId(deploy))
    expect(find(executionsOfAsset(asset), ACTIVITY_ROLE.executionRequested)).toMatchObject({ ref: txId(exec), amount: 9n })
    expect(find(executionsOfSender(bob.publicKey), ACTIVITY_ROLE.executionRequested)?.ref).toEqual(txId(exec))
    expect(find(asset, ACTIVITY_ROLE.extended)).toMatchObject({ ref: carol.publicKey, amount: 77n })
    expect(find(asset, ACTIVITY_ROLE.deleted)?.ref).toEqual(alice.publicKey)
    // Derived subjects never collide with the ids they index.
    expect(toHex(assetsOfOwner(alice.publicKey))).not.toBe(toHex(executionsOfSender(alice.publicKey)))
  })
})
