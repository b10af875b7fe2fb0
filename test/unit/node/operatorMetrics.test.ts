import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'

import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'

import type { Block, BlockEntry } from '../../../blocks/schema.ts'
import type { Chain } from '../../../src/chain/chain.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import type { HostRole } from '../../../src/node/hostRole.ts'
import { registerOperatorMetrics } from '../../../src/node/operatorMetrics.ts'
import { encodeAsset } from '../../../src/storage/encodeAsset.ts'
import { ShardStore } from '../../../src/storage/ShardStore.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'

// A real ShardStore; the chain and host role are stand-ins that emit blocks (the netns test scrapes
// the same metrics from real hosts after a real round trip).
const tmp = tempDir('xsc-opmetrics-')
let store: ShardStore
afterAll(async () => {
  await store?.close()
  tmp.cleanup()
})

const me = testKey('metrics-host').publicKey
const other = testKey('metrics-other').publicKey

function block(entries: BlockEntry[]): { block: Block } {
  return { block: { header: {} as Block['header'], entries } as Block }
}

function value(text: string, line: string): number | undefined {
  const m = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

describe('operator metrics on /metrics', () => {
  it('reports heights, stored bytes, shards, capacity, reputation, this host\'s audits and earnings', async () => {
    store = await ShardStore.open(tmp.dir, { capacityBytes: 1n << 30n })
    const { manifest, shards } = encodeAsset(new Uint8Array(randomBytes(100_000)), { k: 4, m: 2, segmentSize: 64 * 1024, chunkSize: 1000 })
    const asset = hash(utf8('asset'))
    await store.put(manifest, asset, 0, shards[0]!)
    await store.put(manifest, asset, 3, shards[3]!)

    const chain = Object.assign(new EventEmitter(), { head: { height: 12 }, store: { finalized: { height: 10 } }, mempool: { signaturesChecked: 5, refusals: () => [{ reason: 'INSUFFICIENT_FUNDS', stage: 'before_verify', count: 300 }, { reason: 'BAD_SIGNATURE', stage: 'after_verify', count: 2 }] }, verificationCounts: { signaturesCheckedAtImport: 2, appliedByWrites: 40, writeSetsRefused: 1 } })
    const host = { address: me, record: () => ({ reputation: 7300 }) }
    const registry = new Registry()
    const network = { txBatchesDropped: { gossip: 4, link: 1 }, linkTraffic: { fast: { messages: 90, bytes: 9000 }, libp2p: { messages: 3, bytes: 300 } } }
    registerOperatorMetrics(registry, { chain: chain as unknown as Chain, network, host: host as unknown as HostRole, store })

    const audit = (h: Uint8Array, outcome: number) => ({ asset, shardIndex: 0, host: h, chunkIndex: 0, outcome, chunk: new Uint8Array(0), path: [] })
    chain.emit('block', block([
      { type: 'completion', executionId: asset, status: 0, outcome: 0, resultHash: asset, fuelUsed: 1n, output: new Uint8Array(0), writeSet: [], receipts: [], payouts: [{ to: me, amount: 250n }, { to: other, amount: 999n }], refund: 0n, burn: 0n, reputation: [] },
      { type: 'audit', epoch: 1, results: [audit(me, 0), audit(me, 0), audit(me, 1), audit(other, 1)], repairs: [], rent: [{ to: me, amount: 40n }, { to: other, amount: 5n }], expired: [], reputation: [] },
    ]))

    const text = await registry.metrics()
    expect(value(text, 'xsc_head_height')).toBe(12)
    expect(value(text, 'xsc_finalized_height')).toBe(10)
    expect(value(text, 'xsc_tx_signatures_checked')).toBe(7)
    expect(value(text, 'xsc_blocks_by_write_set_total{outcome="applied"}')).toBe(40)
    expect(value(text, 'xsc_blocks_by_write_set_total{outcome="refused"}')).toBe(1)
    expect(value(text, 'xsc_mempool_txs_dropped_total{reason="INSUFFICIENT_FUNDS",stage="before_verify"}')).toBe(300)
    expect(value(text, 'xsc_mempool_txs_dropped_total{reason="BAD_SIGNATURE",stage="after_verify"}')).toBe(2)
    expect(value(text, 'xsc_tx_batches_dropped_total{via="gossip"}')).toBe(4)
    expect(value(text, 'xsc_tx_batches_dropped_total{via="link"}')).toBe(1)
    expect(value(text, 'xsc_validator_link_messages_sent_total{path="fast"}')).toBe(90)
    expect(value(text, 'xsc_validator_link_messages_sent_total{path="libp2p"}')).toBe(3)
    expect(value(text, 'xsc_validator_link_bytes_sent_total{path="fast"}')).toBe(9000)
    // A second scrape reports the running totals again (not added to the first).
    network.txBatchesDropped.gossip = 6
    network.linkTraffic.fast.messages = 95
    const again = await registry.metrics()
    expect(value(again, 'xsc_validator_link_messages_sent_total{path="fast"}')).toBe(95)
    expect(value(again, 'xsc_tx_batches_dropped_total{via="gossip"}')).toBe(6)
    expect(value(again, 'xsc_mempool_txs_dropped_total{reason="INSUFFICIENT_FUNDS",stage="before_verify"}')).toBe(300)
    expect(value(text, 'xsc_host_stored_bytes')).toBe(Number(store.usage().usedBytes))
    expect(value(text, 'xsc_host_stored_bytes')).toBeGreaterThan(0)
    expect(value(text, 'xsc_host_capacity_bytes')).toBe(2 ** 30)
    expect(value(text, 'xsc_host_shards')).toBe(2)
    expect(value(text, 'xsc_host_reputation_bps')).toBe(7300)
    expect(value(text, 'xsc_host_audits_total{outcome="pass"}')).toBe(2)
    expect(value(text, 'xsc_host_audits_total{outcome="fail"}')).toBe(1)
    expect(value(text, 'xsc_host_audits_total{outcome="noAnswer"}')).toBe(0)
    expect(value(text, 'xsc_host_earned_base_units_total{source="execution"}')).toBe(250)
    expect(value(text, 'xsc_host_earned_base_units_total{source="rent"}')).toBe(40)
  })
})
