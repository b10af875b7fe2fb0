import perfHooks from 'node:perf_hooks'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { createMetrics, EVENT_LOOP_MONITOR_MS } from '../../../src/rpc/metrics.ts'

describe('createMetrics', () => {
  afterEach(() => vi.restoreAllMocks())

  it('samples event-loop lag at EVENT_LOOP_MONITOR_MS, not prom-client’s 10 ms (100 wake-ups a second per node)', async () => {
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay')
    const { registry } = createMetrics({ defaultMetrics: true })
    expect(monitor).toHaveBeenCalledTimes(1)
    expect(monitor.mock.calls[0]![0]).toEqual({ resolution: EVENT_LOOP_MONITOR_MS })
    expect(EVENT_LOOP_MONITOR_MS).toBeGreaterThanOrEqual(100)
    // the lag metrics are still exported
    expect(await registry.metrics()).toContain('xsc_process_nodejs_eventloop_lag_p99_seconds')
  })

  it('arms no monitor without default metrics', () => {
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay')
    createMetrics()
    expect(monitor).not.toHaveBeenCalled()
  })
})
