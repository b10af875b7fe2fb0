import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { ClassicLevel } from 'classic-level'
import { afterAll, describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { type Address, AUDIT_OUTCOME, BlockEntry, CAPABILITY } from '../../../blocks/schema.ts'
import { compareBytes, equalBytes, hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { computeDeploymentRequest, HostIndex, route } from '../../../src/router/index.ts'
import { ASSET_STATUS, type AssetRecord, HOST_STATUS, type HostRecord } from '../../../src/state/records.ts'
import { type AuditEpochInput, computeAuditEntry, verifyAuditEntry } from '../../../src/state/storage/computeAuditEntry.ts'
import type { ChooseRepairHost } from '../../../src/state/storage/computeRepairs.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { repairShard } from '../../../src/storage/repairShard.ts'
import { type FetchShard, LatencyTracker, retrieve } from '../../../src/storage/retrieve.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'

/**
 * Six real host stores (plus three spares), each its own classic-level directory: deploy, lose
 * two stores, read back, audit (one host serves bit-rotted bytes), repair through the router and
 * the audit block, and end with six healthy shards that pass the next audit.
 */
const P = { k: 4, m: 2, segmentSize: 256 * 1024, chunkSize: 4096 }
const params = { auditFailThreshold: 2, rentGraceEpochs: 2, reputationAlphaBp: 1000, reputationSuspendBp: 3000, reputationDisqualifyBp: 1000 }
const GRID = 1024
const root = mkdtempSync(join(tmpdir(), 'xsc-six-hosts-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

interface Host { address: Address; dir: string; store: ShardStore | undefined }

function hostRecord(i: number): HostRecord {
  return {
    params: { coord: { x: 10 * i, y: 5, z: 5 }, zone: `zone-${i}`, capacityBytes: 64n << 20n, capabilities: CAPABILITY.storage, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
    reputation: 5000,
    status: HOST_STATUS.active,
    usedBytes: 0n,
    joinedHeight: 0,
    failedAudits: 0, bond: 1_000n, passedChecks: 0,
  }
}

describe('six real host stores', () => {
  it('deploy, lose two stores, retrieve, audit, repair via the router, and end healthy', async () => {
    const hosts: Host[] = []
    for (let i = 0; i < 9; i++) {
      const dir = join(root, `host-${i}`)
      hosts.push({ address: hash(utf8(`six-hosts/${i}`)), dir, store: await ShardStore.open(dir, { capacityBytes: 64n << 20n }) })
    }
    const byHex = new Map<string, Host>(hosts.map((h) => [toHex(h.address), h]))
    const hostRecords = new Map<string, HostRecord>(hosts.map((h, i) => [toHex(h.address), hostRecord(i)]))
    const indexParams = { gridSize: GRID, storageUtilizationSlopeBp: 0, placementBandHosts: 16, vettingPasses: 0, unvettedShareBp: 0 }

    // --- deploy: placement by the router, one shard per host, stored with hash checks
    const data = new Uint8Array(randomBytes(1_000_000 + 3))
    const { manifest, shards } = encodeAsset(data, P)
    const asset = hash(utf8('six-hosts/asset'))
    const deploy = { origin: { x: 0, y: 5, z: 5 }, manifest, bidPerByteEpoch: 2n, zones: [], strategy: 0 }
    const index = HostIndex.build(indexParams, hosts.slice(0, 6).map((h) => [h.address, hostRecords.get(toHex(h.address))!] as const))
    const placement = route(computeDeploymentRequest(deploy), index, hash(utf8('deploy-block')))
    expect(placement).toHaveLength(6)
    await Promise.all(placement.map((h, i) => byHex.get(toHex(h))!.store!.put(manifest, asset, i, shards[i]!)))
    for (const h of placement) hostRecords.set(toHex(h), { ...hostRecords.get(toHex(h))!, usedBytes: manifest.shardSize })
    let record: AssetRecord = {
      owner: hash(utf8('deployer')), kind: 0, manifest, placement, shardFailures: [0, 0, 0, 0, 0, 0],
      deposit: 10n * manifest.shardSize * 6n * 2n, bidPerByteEpoch: 2n, createdHeight: 1, status: ASSET_STATUS.active, exhaustedEpoch: undefined, zones: [], rentEpoch: undefined, acked: [], ackDeadline: undefined,
    }

    const fetchShard: FetchShard = async (host, i) => {
      const store = byHex.get(toHex(host))?.store
      if (!store) throw new Error('host unreachable')
      return store.get(asset, i)
    }

    // --- two hosts lose their stores entirely (directory deleted)
    const lost = [placement[1]!, placement[4]!]
    for (const h of lost) {
      const host = byHex.get(toHex(h))!
      await host.store!.close()
      rmSync(host.dir, { recursive: true, force: true })
      host.store = undefined
    }
    const read = await retrieve(manifest, placement, fetchShard)
    expect(equalBytes(read.data, data)).toBe(true)
    expect(read.used).toEqual([0, 2, 3, 5])

    // --- audit epochs: answers from the real stores; the router picks repair hosts
    const choose: ChooseRepairHost = (_asset, rec, _i, exclude) => {
      const idx = HostIndex.build(indexParams, [...hostRecords.entries()].map(([hex, r]) => [byHex.get(hex)!.address, r] as const))
      return route({ ...computeDeploymentRequest({ origin: deploy.origin, manifest: rec.manifest, bidPerByteEpoch: rec.bidPerByteEpoch, zones: [], strategy: 0 }, exclude), replicas: 1 }, idx, hash(utf8('audit-block')))[0]
    }
    const runEpoch = async (epoch: number) => {
      const input: AuditEpochInput = { epoch, seed: hash(utf8(`epoch-${epoch}`)), height: 100 + epoch, assets: [{ asset, record }], hosts: new Map(hostRecords), params, choose }
      const challenges = computeAuditEntry(input, () => undefined).challenges
      const answers = new Map<number, { chunk: Uint8Array; path: Uint8Array[] }>()
      await Promise.all(challenges.map(async (c) => {
        const store = byHex.get(toHex(c.host))?.store
        const answer = store ? await store.proveChunk(c.asset, c.shardIndex, c.chunkIndex).catch(() => undefined) : undefined
        if (answer) answers.set(c.shardIndex, answer)
      }))
      const out = computeAuditEntry(input, (c) => answers.get(c.shardIndex))
      // What goes in the block round-trips the canonical codec and passes a validator's check.
      const bytes = encode(BlockEntry, out.entry)
      expect(decode(BlockEntry, bytes)).toEqual(out.entry)
      expect(verifyAuditEntry(input, out.entry).ok).toBe(true)
      for (const [hex, r] of out.hosts) hostRecords.set(hex, r)
      return out
    }

    const executeRepairs = async (out: Awaited<ReturnType<typeof runEpoch>>) => {
      for (const r of out.entry.repairs) {
        const res = await repairShard(manifest, asset, record.placement, r.shardIndex, r.to, fetchShard, async (to, a, i, shard) => {
          await byHex.get(toHex(to))!.store!.put(manifest, a, i, shard)
        })
        expect(equalBytes(res.shard, shards[r.shardIndex]!)).toBe(true)
      }
      record = out.assets[0]!.record
    }
    const spares = new Set(hosts.slice(6).map((h) => toHex(h.address)))

    // The host of shard 4 announced it left (host.leave): repaired at once. Shard 1's host just
    // vanished: no answer, repaired once it reaches auditFailThreshold.
    hostRecords.set(toHex(placement[4]!), { ...hostRecords.get(toHex(placement[4]!))!, status: HOST_STATUS.left })
    const e1 = await runEpoch(1)
    expect(e1.entry.results.map((r) => r.outcome)).toEqual([AUDIT_OUTCOME.pass, AUDIT_OUTCOME.noAnswer, AUDIT_OUTCOME.pass, AUDIT_OUTCOME.pass, AUDIT_OUTCOME.noAnswer, AUDIT_OUTCOME.pass])
    expect(e1.entry.repairs.map((r) => r.shardIndex)).toEqual([4])
    // Rent went only to the hosts that passed.
    expect(e1.entry.rent.map((p) => toHex(p.to) as string).sort()).toEqual([0, 2, 3, 5].map((i) => toHex(placement[i]!) as string).sort())
    await executeRepairs(e1)
    const e2 = await runEpoch(2)
    expect(e2.entry.repairs.map((r) => r.shardIndex)).toEqual([1])
    await executeRepairs(e2)
    // The vanished host is deregistered too, so the router never picks it again.
    hostRecords.set(toHex(placement[1]!), { ...hostRecords.get(toHex(placement[1]!))!, status: HOST_STATUS.left })
    for (const r of [...e1.entry.repairs, ...e2.entry.repairs]) expect(spares.has(toHex(r.to))).toBe(true)

    // --- six healthy shards on six distinct hosts; every one passes the next audit
    expect(new Set(record.placement.map(toHex)).size).toBe(6)
    for (let i = 0; i < 6; i++) expect(equalBytes((await fetchShard(record.placement[i]!, i, new AbortController().signal))!, shards[i]!)).toBe(true)
    const e3 = await runEpoch(3)
    expect(e3.entry.results.map((r) => r.outcome)).toEqual(Array(6).fill(AUDIT_OUTCOME.pass))
    expect(e3.entry.repairs).toEqual([])
    record = e3.assets[0]!.record
    expect(equalBytes((await retrieve(manifest, record.placement, fetchShard)).data, data)).toBe(true)

    // --- the host of shard 2 has bit rot on disk: its pieces overwritten behind the store's back
    const rotten = byHex.get(toHex(placement[2]!))!
    await rotten.store!.close()
    {
      const raw = new ClassicLevel<Uint8Array, Uint8Array>(rotten.dir, { keyEncoding: 'view', valueEncoding: 'view' })
      await raw.open()
      const prefix = new Uint8Array([0x02, ...asset, 2])
      const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = []
      for await (const [key, value] of raw.iterator({ gte: prefix, lt: new Uint8Array([0x02, ...asset, 3]) })) ops.push({ type: 'put', key, value: new Uint8Array(randomBytes(value.length)) })
      expect(ops.length).toBeGreaterThan(0)
      await raw.batch(ops)
      await raw.close()
    }
    rotten.store = await ShardStore.open(rotten.dir, { capacityBytes: 64n << 20n })

    // Retrieval reports the corrupt host and still returns the data from the other five.
    // (its host is the fastest known, so it is among the first k asked)
    const latency = new LatencyTracker()
    record.placement.forEach((h, i) => latency.record(h, i === 2 ? 1 : 50))
    const withRot = await retrieve(manifest, record.placement, fetchShard, { latency, extra: 0 })
    expect(equalBytes(withRot.data, data)).toBe(true)
    expect(withRot.bad).toContainEqual({ host: placement[2], shardIndex: 2, reason: 'corrupt' })
    // It fails its audits, loses reputation and rent, and its shard is repaired elsewhere.
    const e4 = await runEpoch(4)
    expect(e4.entry.results[2]!.outcome).toBe(AUDIT_OUTCOME.fail)
    const rep = e4.entry.reputation.find((r) => compareBytes(r.host, placement[2]!) === 0)!
    expect(rep.after).toBeLessThan(rep.before)
    expect(e4.entry.rent.some((p) => compareBytes(p.to, placement[2]!) === 0)).toBe(false)
    record = e4.assets[0]!.record
    const e5 = await runEpoch(5)
    expect(e5.entry.repairs.map((r) => r.shardIndex)).toEqual([2])
    await executeRepairs(e5)
    const e6 = await runEpoch(6)
    expect(e6.entry.results.map((r) => r.outcome)).toEqual(Array(6).fill(AUDIT_OUTCOME.pass))

    for (const h of hosts) await h.store?.close()
  })
})
