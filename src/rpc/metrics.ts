import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * Prometheus metrics served at GET /metrics. One registry per node: the RPC server counts its
 * requests here, and the node records its own figures in the `node` group (it gets the same
 * object back from `createMetrics`, or passes its own registry in). Names carry their units.
 */
export interface RpcMetrics {
  requests: Counter<'method' | 'code'>
  seconds: Histogram<'method'>
}

export interface NodeMetrics {
  blockImportSeconds: Histogram
  mempoolSize: Gauge
  peers: Gauge
  executions: Counter<'outcome'>
  audits: Counter<'outcome'>
}

export interface Metrics { registry: Registry; rpc: RpcMetrics; node: NodeMetrics }

/**
 * Resolution of the event-loop lag histogram (`xsc_process_eventloop_lag_*`). prom-client's default of
 * 10 ms arms a libuv timer 100 times a second in every node: ~2.8 ms/s of CPU in an otherwise idle
 * process here (against ~0.4 at 100 ms), which at 500 ms slots was ~1.4 ms of an idle block's cost
 * per node. At 100 ms any stall of 100 ms or more is still recorded, and shorter ones by chance.
 */
export const EVENT_LOOP_MONITOR_MS = 100

export function createMetrics(opts: { registry?: Registry; defaultMetrics?: boolean } = {}): Metrics {
  const registry = opts.registry ?? new Registry()
  if (opts.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'xsc_process_', eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_MS })
  const registers = [registry]
  return {
    registry,
    rpc: {
      requests: new Counter({ name: 'xsc_rpc_requests_total', help: 'JSON-RPC calls by method and result code (0 = success)', labelNames: ['method', 'code'], registers }),
      seconds: new Histogram({ name: 'xsc_rpc_call_seconds', help: 'JSON-RPC call handling time', labelNames: ['method'], buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers }),
    },
    node: {
      blockImportSeconds: new Histogram({ name: 'xsc_block_import_seconds', help: 'Time to verify and store one block', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
      mempoolSize: new Gauge({ name: 'xsc_mempool_size', help: 'Transactions waiting in the mempool', registers }),
      peers: new Gauge({ name: 'xsc_peers', help: 'Connected libp2p peers', registers }),
      executions: new Counter({ name: 'xsc_executions_total', help: 'Executions settled, by outcome', labelNames: ['outcome'], registers }),
      audits: new Counter({ name: 'xsc_audits_total', help: 'Shard audits, by outcome', labelNames: ['outcome'], registers }),
    },
  }
}
