import { Counter, Gauge, type Registry } from 'prom-client'

import { AUDIT_OUTCOME, type Block } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { equalBytes } from '../crypto/index.ts'
import type { ShardStore } from '../storage/ShardStore.ts'
import type { HostRole } from './hostRole.ts'
import type { LinkTraffic } from './network/fastLinks.ts'

const AUDIT_NAMES = Object.fromEntries(Object.entries(AUDIT_OUTCOME).map(([k, v]) => [v, k])) as Record<number, string>

/** Shard counts are read from the store at most this often (a scrape lists the store's records). */
const SHARD_COUNT_TTL_MS = 10_000

export interface OperatorMetricsModules {
  chain: Chain
  /** The p2p side (ValidatorNetwork), for the tx batches its refused-tx budgets dropped. */
  network?: { readonly txBatchesDropped: { gossip: number; link: number }; readonly linkTraffic?: LinkTraffic | undefined } | undefined
  host?: HostRole | undefined
  store?: ShardStore | undefined
}

/**
 * The figures an operator alerts on, beside the node group of metrics.ts: chain heights (is this
 * node following and finalizing?) and, on a host, what it stores and earns. Gauges are read at
 * scrape time; counters follow imported blocks. Earnings are in base units as a float: exact up
 * to 2^53, which a monitoring counter may lose past that.
 */
export function registerOperatorMetrics(registry: Registry, m: OperatorMetricsModules): void {
  const registers = [registry]
  new Gauge({ name: 'xsc_head_height', help: 'Height of the chain head this node follows', registers, collect() { this.set(m.chain.head.height) } })
  new Gauge({ name: 'xsc_finalized_height', help: 'Height of the last finalized block', registers, collect() { this.set(m.chain.store.finalized.height) } })
  new Gauge({ name: 'xsc_tx_signatures_checked', help: 'Tx signatures verified since start (admission and block import): about one per tx when each is checked once', registers, collect() { this.set(m.chain.mempool.signaturesChecked + m.chain.verificationCounts.signaturesCheckedAtImport) } })
  new Counter({ name: 'xsc_blocks_by_write_set_total', help: 'Committed blocks applied by the write set a commit feed offered (checked against the header\'s state root) instead of running them; refused: offers that did not give the root (the block was run, the validator scored down)', labelNames: ['outcome'], registers, collect() {
    this.reset()
    this.inc({ outcome: 'applied' }, m.chain.verificationCounts.appliedByWrites)
    this.inc({ outcome: 'refused' }, m.chain.verificationCounts.writeSetsRefused)
  } })
  // Counters kept by the pool and the network, read at scrape time (a counter set to its source's running total).
  new Counter({ name: 'xsc_mempool_txs_dropped_total', help: 'Txs refused at admission (RPC, gossip, validator links), by error code and by stage: before_verify (no signature check spent: checkTxAdmission.ts) or after_verify', labelNames: ['reason', 'stage'], registers, collect() {
    this.reset()
    for (const r of m.chain.mempool.refusals()) this.inc({ reason: r.reason, stage: r.stage }, r.count)
  } })
  const network = m.network
  if (network !== undefined) {
    new Counter({ name: 'xsc_tx_batches_dropped_total', help: 'Tx batches dropped unread because their peer was past its refused-tx budget (TxRefusalBudget.ts), by path: gossip or link', labelNames: ['via'], registers, collect() {
      this.reset()
      const dropped = network.txBatchesDropped
      this.inc({ via: 'gossip' }, dropped.gossip)
      this.inc({ via: 'link' }, dropped.link)
    } })
    const traffic = (name: 'messages' | 'bytes') => ({ name: `xsc_validator_link_${name}_sent_total`, help: `${name === 'messages' ? 'Messages' : 'Bytes'} sent to other validators over direct links, by path: fast (raw TCP, fastLink.ts) or libp2p (the link's stream)`, labelNames: ['path'], registers, collect(this: Counter) {
      this.reset()
      const t = network.linkTraffic
      if (t === undefined) return
      this.inc({ path: 'fast' }, t.fast[name])
      this.inc({ path: 'libp2p' }, t.libp2p[name])
    } })
    new Counter(traffic('messages'))
    new Counter(traffic('bytes'))
  }
  const { host, store } = m
  if (host === undefined || store === undefined) return

  new Gauge({ name: 'xsc_host_stored_bytes', help: 'Bytes of shards this host stores', registers, collect() { this.set(Number(store.usage().usedBytes)) } })
  new Gauge({ name: 'xsc_host_capacity_bytes', help: 'Bytes of shard storage this host offers', registers, collect() { this.set(Number(store.usage().capacityBytes)) } })
  let shardCount = { value: 0, at: -Infinity }
  new Gauge({
    name: 'xsc_host_shards',
    help: 'Shards this host stores',
    registers,
    async collect() {
      const now = Date.now()
      if (now - shardCount.at > SHARD_COUNT_TTL_MS) shardCount = { value: (await store.list()).length, at: now }
      this.set(shardCount.value)
    },
  })
  new Gauge({ name: 'xsc_host_reputation_bps', help: "This host's on-chain reputation in basis points (absent until it joined)", registers, collect() {
    const rec = host.record()
    if (rec !== undefined) this.set(rec.reputation)
  } })
  const audits = new Counter({ name: 'xsc_host_audits_total', help: "Audits of this host's shards recorded on chain, by outcome", labelNames: ['outcome'], registers })
  const earned = new Counter({ name: 'xsc_host_earned_base_units_total', help: 'Base units paid to this host, by source (execution payouts, storage rent)', labelNames: ['source'], registers })
  for (const outcome of Object.keys(AUDIT_OUTCOME)) audits.inc({ outcome }, 0)
  for (const source of ['execution', 'rent']) earned.inc({ source }, 0)

  m.chain.on('block', ({ block }: { block: Block }) => {
    const me = host.address
    for (const e of block.entries) {
      if (e.type === 'completion') {
        for (const p of e.payouts) if (equalBytes(p.to, me)) earned.inc({ source: 'execution' }, Number(p.amount))
      } else if (e.type === 'audit') {
        for (const r of e.results) if (equalBytes(r.host, me)) audits.inc({ outcome: AUDIT_NAMES[r.outcome] ?? 'unknown' })
        for (const p of e.rent) if (equalBytes(p.to, me)) earned.inc({ source: 'rent' }, Number(p.amount))
      }
    }
  })
}
