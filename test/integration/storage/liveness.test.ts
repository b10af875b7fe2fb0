import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { decodeTrusted } from '../../../blocks/codec.ts'
import { storageAckSigningHash, txId } from '../../../blocks/ids.ts'
import { type Block, CAPABILITY, type StorageAck } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { equalBytes, type KeyPair, sign, toHex } from '../../../src/crypto/index.ts'
import { ASSET_STATUS, AssetRecord, HOST_STATUS, HostRecord } from '../../../src/state/records.ts'
import { computeHeartbeatSigningHash } from '../../../src/state/storage/livenessRules.ts'
import { readLivenessEpoch, readLivenessHost } from '../../../src/state/storage/livenessState.ts'
import { readRepairQueue } from '../../../src/state/storage/repairQueue.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'
import { NonceCounter, signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

/**
 * The liveness rule on a real chain store (classic-level), real host shard stores and the
 * proposer's own path (HeartbeatPool → chooseEntries → validate → apply): live hosts heartbeat
 * every epoch as HostRole does, one placed host stops (its store closed); it is suspended within
 * (threshold + 1) epochs and the next audit block moves its shard to another host.
 */
const validator = testKey('lv-validator')
const client = testKey('lv-client')
const hosts = Array.from({ length: 8 }, (_, i) => testKey(`lv-host-${i}`))
const base = testGenesis({ validators: [validator], funded: [{ key: client, amount: 10n ** 15n }, ...hosts.map((key) => ({ key, amount: 10n ** 12n }))], schemes: ['stake'] })
const L = 6
const T = 2
const genesis = { ...base, params: { ...base.params, auditEpochSlots: 4, storageAckBlocks: 6, minStorageEpochs: 2, livenessEpochSlots: L, livenessMissThreshold: T, livenessQuorumBlocks: 3 } }
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-liveness-')
const stores = new Map<string, ShardStore>()
const nonces = new NonceCounter()
const dead = new Set<string>()
let chain: Chain
let slot = 0

/** Every live host signs the open epoch's heartbeat and hands it to the node (HostRole gossips the same bytes). */
function heartbeat(): void {
  const state = chain.store.state
  const open = readLivenessEpoch(state)
  if (open === undefined) return
  for (const h of hosts) {
    if (dead.has(toHex(h.publicKey))) continue
    const tracked = readLivenessHost(state, h.publicKey)
    if (tracked === undefined || tracked.due > open.epoch) continue
    chain.submitHeartbeat({ epoch: open.epoch, host: h.publicKey, signature: sign(h.secretKey, computeHeartbeatSigningHash(genesis.chainId, open.epoch, open.mix, h.publicKey)) })
  }
}

async function produce(): Promise<Block> {
  heartbeat()
  slot++
  const made = await chain.produceBlock(slot, T0 + slot * genesis.slotMs)
  return made!.block
}

const assetOf = (id: Uint8Array): AssetRecord => decodeTrusted(AssetRecord, chain.store.state.get(TABLES.asset.key(id))!)
const hostOf = (address: Uint8Array): HostRecord => decodeTrusted(HostRecord, chain.store.state.get(TABLES.host.key(address))!)
const keyOf = (address: Uint8Array): KeyPair => hosts.find((k) => equalBytes(k.publicKey, address))!

beforeAll(async () => {
  chain = await Chain.open({ dataDir: join(tmp.dir, 'chain'), genesis, validatorKey: validator, signatureWorkers: 0 })
  for (const h of hosts) stores.set(toHex(h.publicKey), await ShardStore.open(join(tmp.dir, `host-${toHex(h.publicKey).slice(2, 10)}`), { capacityBytes: 1n << 30n }))
  chain.setStorageAckResponder(async (requests) => {
    const acks: StorageAck[] = []
    for (const r of requests) {
      if (dead.has(toHex(r.host)) || !(await stores.get(toHex(r.host))!.has(r.asset, r.shardIndex))) continue
      const body = { chainId: genesis.chainId, asset: r.asset, shardIndex: r.shardIndex, shardHash: assetOf(r.asset).manifest.shardHashes[r.shardIndex]!, host: r.host }
      acks.push({ body, signature: sign(keyOf(r.host).secretKey, storageAckSigningHash(body)) })
    }
    return acks
  })
  chain.setAuditResponder(async (challenges) => {
    const answers = new Map()
    for (const c of challenges) {
      if (dead.has(toHex(c.host))) continue
      const store = stores.get(toHex(c.host))!
      if (await store.has(c.asset, c.shardIndex)) answers.set(c, await store.proveChunk(c.asset, c.shardIndex, c.chunkIndex))
    }
    return answers
  })
  for (const [i, h] of hosts.entries()) {
    await chain.submitTx(signTx(h, nonces.next(h), {
      type: 'host.join',
      host: { coord: { x: 10 + i * 3, y: 10, z: 10 + i }, zone: `zone-${i % 4}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 0n, encryptionKey: undefined },
    }))
  }
  await produce()
})

afterAll(async () => {
  for (const s of stores.values()) await s.close()
  await chain.close()
  tmp.cleanup()
})

describe('liveness on a real chain', () => {
  it('live hosts heartbeat every epoch and never miss; a host that stops is suspended within the bound and its shard is re-placed by the next audit', { timeout: 120_000 }, async () => {
    const { manifest, shards } = encodeAsset(new Uint8Array(readFileSync('fixtures/wasm/counter.wasm')), codingParamsOf(genesis.params))
    const tx = signTx(client, await chain.nextNonce(client.publicKey), { type: 'deploy', assetKind: 1, manifest, deposit: 10_000_000n, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
    await chain.submitTx(tx)
    const id = txId(tx)
    let block = await produce()
    while (block.header.kind !== 'deployment') block = await produce()
    for (const [i, h] of assetOf(id).placement.entries()) await stores.get(toHex(h))!.put(manifest, id, i, shards[i]!)
    while (assetOf(id).status !== ASSET_STATUS.active) await produce()

    // Three epochs with every host alive: heartbeats ride in blocks, nobody misses.
    const until = slot + 3 * L
    let carried = 0
    while (slot < until) for (const e of (await produce()).entries) if (e.type === 'liveness') carried += e.heartbeats.length
    expect(carried).toBeGreaterThanOrEqual(2 * hosts.length)
    for (const h of hosts) {
      expect(readLivenessHost(chain.store.state, h.publicKey)?.misses).toBe(0)
      expect(hostOf(h.publicKey).status).toBe(HOST_STATUS.active)
    }

    // Shard 2's host goes silent (store closed, no heartbeats, no answers).
    const victim = assetOf(id).placement[2]!
    dead.add(toHex(victim))
    await stores.get(toHex(victim))!.close()
    const killedAt = slot
    while (hostOf(victim).status === HOST_STATUS.active) {
      await produce()
      expect(slot - killedAt).toBeLessThanOrEqual((T + 1) * L + 1)
    }
    expect(hostOf(victim).status).toBe(HOST_STATUS.suspended)
    // By the liveness rule: it missed `T` epochs (the audit of its one shard may have moved the shard already).
    expect(readLivenessHost(chain.store.state, victim)?.misses).toBe(T)
    expect(readRepairQueue(chain.store.state, 10).some((a) => equalBytes(a, id)) || !assetOf(id).placement.some((h) => equalBytes(h, victim))).toBe(true)
    for (const h of hosts) if (!equalBytes(h.publicKey, victim)) expect(hostOf(h.publicKey).status).toBe(HOST_STATUS.active)

    // The next audit block moves the shard; the queue empties.
    let repaired = !assetOf(id).placement.some((h) => equalBytes(h, victim))
    while (!repaired) {
      const b = await produce()
      for (const e of b.entries) if (e.type === 'audit') repaired ||= e.repairs.some((r) => equalBytes(r.from, victim) && equalBytes(r.asset, id))
      expect(slot - killedAt).toBeLessThanOrEqual((T + 1) * L + genesis.params.auditEpochSlots + 2)
    }
    const after = assetOf(id)
    expect(after.placement.some((h) => equalBytes(h, victim))).toBe(false)
    expect(readRepairQueue(chain.store.state, 10).some((a) => equalBytes(a, id))).toBe(false)
  })
})
