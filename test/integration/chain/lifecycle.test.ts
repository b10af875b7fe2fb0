import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { receiptSigningHash, storageAckSigningHash, txId } from '../../../blocks/ids.ts'
import { type Address, AUDIT_OUTCOME, type Block, CAPABILITY, COMPLETION_STATUS, type KvWrite, OUTCOME, type ReceiptBody, REPUTATION_CAUSE } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { type ComputePool, createComputePool } from '../../../src/compute/computePool.ts'
import { equalBytes, type KeyPair, sign, toHex } from '../../../src/crypto/index.ts'
import { BlobStore } from '../../../src/node/blobStore.ts'
import { ChainEvents } from '../../../src/node/chainEvents.ts'
import { NodeRpcBackend } from '../../../src/node/rpcBackend.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { computeNextStateHash, pendingExecutionsOf, readExecutionQueue } from '../../../src/state/executionQueue.ts'
import { ASSET_STATUS, AssetRecord, EXECUTION_STATUS, ExecutionRecord, HostRecord } from '../../../src/state/records.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { codingParamsOf, encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { retrieve } from '../../../src/storage/retrieve.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'
import { NonceCounter,signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

/** The messages ed25519 verify was asked about while `on` (receipts must be verified once per node). */
const verified = vi.hoisted(() => ({ on: false, messages: [] as Uint8Array[] }))
vi.mock('../../../src/crypto/ed25519.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/crypto/ed25519.ts')>()
  return {
    ...original,
    verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
      if (verified.on) verified.messages.push(message)
      return original.verify(publicKey, message, signature)
    },
  }
})

const validator = testKey('lc-validator')
const client = testKey('lc-client')
const hosts = Array.from({ length: 8 }, (_, i) => testKey(`lc-host-${i}`))
const base = testGenesis({ validators: [validator], funded: [{ key: client, amount: 10n ** 15n }, ...hosts.map((key) => ({ key, amount: 10n ** 12n }))], schemes: ['stake'] })
const genesis = { ...base, params: { ...base.params, auditEpochSlots: 50, auditFailThreshold: 1, chunkSize: 1024 } }
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-lifecycle-')
const stores = new Map<string, ShardStore>()
let chain: Chain
let pool: ComputePool
let slot = 0
const nonces = new NonceCounter()
const nextNonce = (key: KeyPair): number => nonces.next(key)

async function produce(): Promise<Block> {
  slot++
  const made = await chain.produceBlock(slot, T0 + slot * genesis.slotMs)
  return made!.block
}

function state<T>(codec: { name: string }, key: Uint8Array): T {
  return decode(codec as never, chain.store.state.get(key)!) as T
}

/**
 * What an assigned host does: rebuild the module from its shards, run it metered on the asset's
 * settled state (plus `speculative` writes of earlier queue entries, named by `preStateHash`),
 * sign a receipt. Returns the writes it made.
 */
async function hostRuns(host: KeyPair, executionId: Uint8Array, speculative?: { writes: Map<string, Uint8Array | undefined>; preStateHash: Uint8Array }): Promise<KvWrite[]> {
  const ex = state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(executionId))
  const asset = state<AssetRecord>(AssetRecord, TABLES.asset.key(ex.asset))
  const { data } = await retrieve(asset.manifest, asset.placement, async (h, i) => (await stores.get(toHex(h))?.get(ex.asset, i)) ?? null)
  const read = (k: Uint8Array): Uint8Array | undefined => speculative?.writes.has(toHex(k)) ? speculative.writes.get(toHex(k)) : chain.store.state.get(TABLES.assetKv.key(ex.asset, k))
  const result = await pool.execute({ assetId: ex.asset, code: data, kind: 'module', fn: ex.fn, input: ex.input, fuelLimit: ex.fuelLimit, state: read })
  const preStateHash = speculative?.preStateHash ?? readExecutionQueue(chain.store.state, ex.asset).stateHash
  const body: ReceiptBody = { chainId: genesis.chainId, executionId, host: host.publicKey, outcome: result.outcome, resultHash: result.resultHash, fuelUsed: result.fuelUsed, writeSetHash: result.writeSetHash, output: result.output, preStateHash }
  chain.submitReceipt({ body, signature: sign(host.secretKey, receiptSigningHash(body)) }, result.writeSet)
  return result.writeSet
}

async function execute(): Promise<{ id: Uint8Array; block: Block }> {
  const tx = signTx(client, nextNonce(client), { type: 'execute', asset: assetId, fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0, minMemoryBytes: 0n })
  await chain.submitTx(tx)
  const block = await produce()
  expect(block.header.kind).toBe('execution')
  return { id: txId(tx), block }
}

let assetId: Uint8Array
let firstExecutionId: Uint8Array | undefined

beforeAll(async () => {
  chain = await Chain.open({ dataDir: join(tmp.dir, 'chain'), genesis, validatorKey: validator, signatureWorkers: 0 })
  pool = createComputePool({ workers: 1 })
  for (const h of hosts) stores.set(toHex(h.publicKey), await ShardStore.open(join(tmp.dir, `host-${toHex(h.publicKey).slice(2, 10)}`), { capacityBytes: 1n << 30n }))
})

afterAll(async () => {
  await pool.close()
  for (const s of stores.values()) await s.close()
  await chain.close()
  tmp.cleanup()
})

describe('deploy → execute → complete → audit, through real blocks', () => {
  it('hosts join with coordinates, zones, capacity and asks', async () => {
    for (const [i, h] of hosts.entries())
      await chain.submitTx(signTx(h, nextNonce(h), {
        type: 'host.join',
        host: { coord: { x: 10 + i * 3, y: 10, z: 10 + i }, zone: `zone-${i % 4}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: BigInt(1 + (i % 3)), askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
      }))
    const block = await produce()
    expect(block.header.kind).toBe('ledger')
    expect(chain.hostIndex.values().next().done).toBe(false)
    for (const h of hosts) expect(state<HostRecord>(HostRecord, TABLES.host.key(h.publicKey)).reputation).toBe(genesis.params.reputationInitialBp)
  })

  it('a deployment block records the manifest and a router placement of 6 distinct hosts across zones; hosts store verified shards', async () => {
    const code = new Uint8Array(readFileSync('fixtures/wasm/counter.wasm'))
    const { manifest, shards } = encodeAsset(code, codingParamsOf(genesis.params))
    const tx = signTx(client, nextNonce(client), { type: 'deploy', assetKind: 1, manifest, deposit: 10_000_000n, bidPerByteEpoch: 5n, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0 })
    await chain.submitTx(tx)
    const block = await produce()
    expect(block.header.kind).toBe('deployment')
    const entry = block.entries[0]!
    if (entry.type !== 'deployment') throw new Error('expected a deployment entry')
    assetId = txId(tx)
    expect(entry.placement).toHaveLength(6)
    expect(new Set(entry.placement.map(toHex)).size).toBe(6)
    const zones = new Set(entry.placement.map((h) => state<HostRecord>(HostRecord, TABLES.host.key(h)).params.zone))
    expect(zones.size).toBe(4)
    expect(state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId)).status).toBe(ASSET_STATUS.placing)
    for (const [i, h] of entry.placement.entries()) await stores.get(toHex(h))!.put(manifest, assetId, i, shards[i]!)
    // Each host acknowledges the shard it stored; the proposer gathers the acks into a storage block.
    chain.setStorageAckResponder(async (requests) => {
      const acks = []
      for (const r of requests) {
        if (!(await stores.get(toHex(r.host))!.has(r.asset, r.shardIndex))) continue
        const key = hosts.find((k) => equalBytes(k.publicKey, r.host))!
        const body = { chainId: genesis.chainId, asset: r.asset, shardIndex: r.shardIndex, shardHash: manifest.shardHashes[r.shardIndex]!, host: r.host }
        acks.push({ body, signature: sign(key.secretKey, storageAckSigningHash(body)) })
      }
      return acks
    })
    const ackBlock = await produce()
    expect(ackBlock.header.kind).toBe('storage')
    const asset = state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId))
    expect(asset.status).toBe(ASSET_STATUS.active)
    expect(asset.acked).toEqual([1, 1, 1, 1, 1, 1])
    expect(asset.deposit).toBe(10_000_000n)
    expect(state<HostRecord>(HostRecord, TABLES.host.key(entry.placement[0]!)).usedBytes).toBe(manifest.shardSize)
  })

  it('an execution escrows, hosts run it, a quorum of receipts settles it with payouts, and its state persists to the next run', async () => {
    const before = readAccount(chain.store.state, client.publicKey).balance
    const first = await execute()
    firstExecutionId = first.id
    const entry = first.block.entries[0]!
    if (entry.type !== 'execution') throw new Error('expected an execution entry')
    expect(entry.assignment).toHaveLength(3)
    expect(pendingExecutionsOf(chain.store.state, assetId).map((p) => toHex(p.executionId))).toContain(toHex(first.id))
    expect(readAccount(chain.store.state, client.publicKey).balance).toBe(before - entry.escrow - 1n)
    for (const h of entry.assignment) await hostRuns(hosts.find((k) => equalBytes(k.publicKey, h))!, first.id)
    verified.messages = []
    verified.on = true
    const completion = await produce().finally(() => { verified.on = false })
    expect(completion.header.kind).toBe('completion')
    const c = completion.entries[0]!
    if (c.type !== 'completion') throw new Error('expected a completion entry')
    // The pool verified each receipt when it took it in: choosing the completion, sealing the
    // block and importing it verify none of them again.
    const receiptHashes = new Set(c.receipts.map((r) => toHex(receiptSigningHash(r.body))))
    expect(receiptHashes.size).toBeGreaterThanOrEqual(2)
    expect(verified.messages.filter((m) => receiptHashes.has(toHex(m)))).toHaveLength(0)
    expect(c.status).toBe(COMPLETION_STATUS.agreed)
    expect(c.outcome).toBe(OUTCOME.ok)
    expect(new DataView(c.output.buffer, c.output.byteOffset).getUint32(0, true)).toBe(1)
    expect(c.fuelUsed).toBeGreaterThan(0n)
    // Conservation: escrow = payouts + refund + burn, and the client got the refund.
    expect(c.payouts.reduce((s, p) => s + p.amount, 0n) + c.refund + c.burn).toBe(entry.escrow)
    expect(state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(first.id)).status).toBe(EXECUTION_STATUS.completed)
    // Settled, it left the asset's queue that block production walks.
    expect(pendingExecutionsOf(chain.store.state, assetId).map((p) => toHex(p.executionId))).not.toContain(toHex(first.id))
    expect(chain.store.state.get(TABLES.assetKv.key(assetId, new TextEncoder().encode('count')))).toEqual(new Uint8Array([1, 0, 0, 0]))

    const second = await execute()
    const e2 = second.block.entries[0]!
    if (e2.type !== 'execution') throw new Error('expected an execution entry')
    for (const h of e2.assignment) await hostRuns(hosts.find((k) => equalBytes(k.publicKey, h))!, second.id)
    const c2 = (await produce()).entries[0]!
    if (c2.type !== 'completion') throw new Error('expected a completion entry')
    expect(new DataView(c2.output.buffer, c2.output.byteOffset).getUint32(0, true)).toBe(2)
  })

  it('two executions of one asset settle in one completion block, the second reading the state the first left', async () => {
    const txs = [0, 1].map(() => signTx(client, nextNonce(client), { type: 'execute', asset: assetId, fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0, minMemoryBytes: 0n }))
    for (const tx of txs) await chain.submitTx(tx)
    const scheduled = await produce()
    expect(scheduled.entries).toHaveLength(2)
    // Hosts thread the state through the queue (in sequence order): the second runs on the first's writes.
    const ordered = [...scheduled.entries].sort((a, b) => a.type === 'execution' && b.type === 'execution' ? Number(state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(txId(a.tx))).seq - state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(txId(b.tx))).seq) : 0)
    const speculative = { writes: new Map<string, Uint8Array | undefined>(), preStateHash: readExecutionQueue(chain.store.state, assetId).stateHash }
    for (const e of ordered) {
      if (e.type !== 'execution') throw new Error('expected execution entries')
      let writes: KvWrite[] = []
      for (const h of e.assignment) writes = await hostRuns(hosts.find((k) => equalBytes(k.publicKey, h))!, txId(e.tx), { writes: new Map(speculative.writes), preStateHash: speculative.preStateHash })
      for (const w of writes) speculative.writes.set(toHex(w.key), w.value)
      speculative.preStateHash = computeNextStateHash(speculative.preStateHash, writes)
    }
    const settled = await produce()
    expect(settled.header.kind).toBe('completion')
    expect(settled.entries).toHaveLength(2)
    for (const e of settled.entries) if (e.type === 'completion') expect(e.status).toBe(COMPLETION_STATUS.agreed)
    // No lost update: count went 2 -> 3 -> 4.
    expect(chain.store.state.get(TABLES.assetKv.key(assetId, new TextEncoder().encode('count')))).toEqual(new Uint8Array([4, 0, 0, 0]))
  })

  it('receipts computed on a stale state settle nothing; re-run on the state the head left, they settle', async () => {
    const txs = [0, 1].map(() => signTx(client, nextNonce(client), { type: 'execute', asset: assetId, fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0, minMemoryBytes: 0n }))
    for (const tx of txs) await chain.submitTx(tx)
    const scheduled = await produce()
    const [first, second] = [...scheduled.entries].map((e) => e.type === 'execution' ? txId(e.tx) : new Uint8Array(0)).sort((a, b) => Number(state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(a)).seq - state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(b)).seq))
    const assignmentOf = (id: Uint8Array): KeyPair[] => state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(id)).assignment.map((h) => hosts.find((k) => equalBytes(k.publicKey, h))!)
    // Both run on the same snapshot, as hosts did before queues: the second's receipts are stale.
    for (const h of assignmentOf(first!)) await hostRuns(h, first!)
    for (const h of assignmentOf(second!)) await hostRuns(h, second!)
    const settled = await produce()
    expect(settled.entries.map((e) => e.type === 'completion' && toHex(e.executionId))).toEqual([toHex(first!)])
    expect(state<ExecutionRecord>(ExecutionRecord, TABLES.execution.key(second!)).status).toBe(EXECUTION_STATUS.pending)
    const before = assignmentOf(second!).map((h) => state<HostRecord>(HostRecord, TABLES.host.key(h.publicKey)).reputation)
    for (const h of assignmentOf(second!)) await hostRuns(h, second!)
    const next = await produce()
    const c = next.entries[0]!
    if (c.type !== 'completion') throw new Error('expected a completion entry')
    expect(c.status).toBe(COMPLETION_STATUS.agreed)
    expect(new DataView(c.output.buffer, c.output.byteOffset).getUint32(0, true)).toBe(6)
    // Re-running was not a dissent: nobody lost reputation.
    expect(assignmentOf(second!).map((h) => state<HostRecord>(HostRecord, TABLES.host.key(h.publicKey)).reputation).every((r, i) => r >= before[i]!)).toBe(true)
  })

  it('an execution nobody answers fails at its deadline and is refunded in full', async () => {
    const before = readAccount(chain.store.state, client.publicKey).balance
    const ex = await execute()
    const e = ex.block.entries[0]!
    if (e.type !== 'execution') throw new Error('expected an execution entry')
    let block: Block
    do block = await produce()
    while (block.header.kind !== 'completion')
    const c = block.entries[0]!
    if (c.type !== 'completion') throw new Error('expected a completion entry')
    expect(c.status).toBe(COMPLETION_STATUS.failed)
    expect(c.refund).toBe(e.escrow)
    expect(readAccount(chain.store.state, client.publicKey).balance).toBe(before - 1n)
    // No-shows lose reputation.
    expect(c.reputation.every((r) => r.after < r.before)).toBe(true)
  })

  it('audit blocks challenge every shard each epoch: honest hosts pass and earn rent; a host that lost its shard fails and the shard is repaired elsewhere', async () => {
    chain.setAuditResponder(async (challenges) => {
      const answers = new Map()
      for (const c of challenges) {
        const store = stores.get(toHex(c.host))
        if (store && (await store.has(c.asset, c.shardIndex))) answers.set(c, await store.proveChunk(c.asset, c.shardIndex, c.chunkIndex))
      }
      return answers
    })
    const rentBefore = readAccount(chain.store.state, state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId)).placement[0]!).balance
    let audit: Block
    do audit = await produce()
    while (audit.header.kind !== 'audit')
    const a = audit.entries[0]!
    if (a.type !== 'audit') throw new Error('expected an audit entry')
    expect(a.results).toHaveLength(6)
    expect(a.results.every((r) => r.outcome === AUDIT_OUTCOME.pass)).toBe(true)
    expect(a.rent.length).toBeGreaterThan(0)
    const placement = state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId)).placement
    expect(readAccount(chain.store.state, placement[0]!).balance).toBeGreaterThan(rentBefore)

    // Host of shard 2 loses its data.
    const lost: Address = placement[2]!
    await stores.get(toHex(lost))!.delete(assetId, 2)
    const repBefore = state<HostRecord>(HostRecord, TABLES.host.key(lost)).reputation
    do audit = await produce()
    while (audit.header.kind !== 'audit')
    const a2 = audit.entries[0]!
    if (a2.type !== 'audit') throw new Error('expected an audit entry')
    expect(a2.results.find((r) => r.shardIndex === 2)!.outcome).not.toBe(AUDIT_OUTCOME.pass)
    expect(state<HostRecord>(HostRecord, TABLES.host.key(lost)).reputation).toBeLessThan(repBefore)
    // The host's operator can see why: the reputation history over RPC carries the cause.
    const backend = new NodeRpcBackend({ chain, events: new ChainEvents(chain), blobs: new BlobStore(join(tmp.dir, 'blobs')) })
    // And a client asking for a settled execution gets its completion entry and block.
    const settledId = firstExecutionId!
    const view = (await backend.getExecution(settledId))!
    expect(view.completion?.entry.status).toBe(COMPLETION_STATUS.agreed)
    expect(view.completion!.block.height).toBeGreaterThan(view.scheduled.height)
    const info = (await backend.getHost(lost))!
    expect(info.events.some((e) => (e.cause === REPUTATION_CAUSE.auditFail || e.cause === REPUTATION_CAUSE.auditNoAnswer) && e.after < e.before)).toBe(true)
    expect(a2.repairs).toHaveLength(1)
    expect(a2.repairs[0]!.shardIndex).toBe(2)
    const after = state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId))
    expect(toHex(after.placement[2]!)).toBe(toHex(a2.repairs[0]!.to))
    expect(toHex(after.placement[2]!)).not.toBe(toHex(lost))
  })

  it('the owner lists its assets and their executions page by page from the index, without scanning blocks', async () => {
    const backend = new NodeRpcBackend({ chain, events: new ChainEvents(chain), blobs: new BlobStore(join(tmp.dir, 'blobs')) })
    const assets = await backend.listAssets(client.publicKey, { cursor: undefined, limit: 10 })
    expect(assets.items.map((a) => toHex(a.id))).toContain(toHex(assetId))
    expect(assets.nextCursor).toBeUndefined()
    expect(assets.items.find((a) => equalBytes(a.id, assetId))).toMatchObject({ deleted: false })
    expect((await backend.listAssets(hosts[0]!.publicKey, { cursor: undefined, limit: 10 })).items).toEqual([])

    const all = await backend.listExecutions({ asset: assetId }, { cursor: undefined, limit: 100 })
    expect(all.items.length).toBeGreaterThanOrEqual(4)
    expect(all.items.map((e) => e.scheduledHeight)).toEqual([...all.items.map((e) => e.scheduledHeight)].sort((a, b) => b - a))
    const settled = all.items.find((e) => equalBytes(e.id, firstExecutionId!))!
    expect(settled.completionStatus).toBe(COMPLETION_STATUS.agreed)
    expect(settled.completedHeight).toBeGreaterThan(settled.scheduledHeight)
    // Pages of 1 visit every execution once, in the same order.
    const paged: string[] = []
    let cursor: string | undefined
    do {
      const page = await backend.listExecutions({ sender: client.publicKey }, { cursor, limit: 1 })
      paged.push(...page.items.map((e) => toHex(e.id)))
      cursor = page.nextCursor
    } while (cursor !== undefined)
    expect(paged).toEqual(all.items.map((e) => toHex(e.id)))
  })

  it('anyone extends an asset; the owner deletes it: deposit refunded, record and state gone, executions refused, listed as deleted', async () => {
    const sponsor = hosts[7]!
    const before = state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId))
    await chain.submitTx(signTx(sponsor, nextNonce(sponsor), { type: 'asset.extend', asset: assetId, amount: 12_345n }))
    let block = await produce()
    while (!block.entries.some((e) => e.type === 'tx')) block = await produce()
    const extended = state<AssetRecord>(AssetRecord, TABLES.asset.key(assetId))
    // An audit may have paid rent meanwhile: the top-up is what moved the deposit up.
    expect(extended.deposit).toBeGreaterThan(before.deposit - 12_345n)
    expect(extended.deposit).toBeLessThanOrEqual(before.deposit + 12_345n)

    const balanceBefore = readAccount(chain.store.state, client.publicKey).balance
    const usedBefore = extended.placement.map((h) => state<HostRecord>(HostRecord, TABLES.host.key(h)).usedBytes)
    await chain.submitTx(signTx(client, nextNonce(client), { type: 'asset.delete', asset: assetId }, { fee: 1n }))
    block = await produce()
    while (!block.entries.some((e) => e.type === 'tx')) block = await produce()
    const deposit = extended.deposit
    expect(chain.store.state.get(TABLES.asset.key(assetId))).toBeUndefined()
    expect(chain.store.state.scan(TABLES.assetKv.key(assetId, new Uint8Array(0)))).toEqual([])
    expect(readAccount(chain.store.state, client.publicKey).balance).toBe(balanceBefore + deposit - 1n)
    extended.placement.forEach((h, i) => expect(state<HostRecord>(HostRecord, TABLES.host.key(h)).usedBytes).toBe(usedBefore[i]! - extended.manifest.shardSize))

    const backend = new NodeRpcBackend({ chain, events: new ChainEvents(chain), blobs: new BlobStore(join(tmp.dir, 'blobs')) })
    expect((await backend.listAssets(client.publicKey, { cursor: undefined, limit: 10 })).items.find((a) => equalBytes(a.id, assetId))).toMatchObject({ deleted: true, asset: undefined })
    const exec = signTx(client, nonces.next(client), { type: 'execute', asset: assetId, fn: 'run', input: new Uint8Array(0), fuelLimit: 1_000_000n, bidPerFuel: 10n, replicas: 3, quorum: 2, private: false, deadlineSlots: 20, origin: { x: 10, y: 10, z: 10 }, zones: [], strategy: 0, minMemoryBytes: 0n })
    await expect(chain.submitTx(exec)).rejects.toThrow(/deleted/)
  })
})
