import { describe, expect, it } from 'vitest'

import { checkReadiness } from '../../../src/rpc/healthProbes.ts'
import { MemoryBackend } from './memoryBackend.ts'

// The real node is probed in test/integration/node/healthProbes.test.ts; here the backend stands
// in so syncing and peer counts can be set.
describe('readiness rules', () => {
  const backend = new MemoryBackend()
  backend.produceBlock()
  backend.produceBlock()
  const headAt = Number(backend.head.block.header.timestamp)

  it('a node with peers and a recent finalized block is ready', async () => {
    backend.peers = 3
    backend.syncing = false
    expect(await checkReadiness(backend, {}, headAt + 2_000)).toMatchObject({ ready: true, reasons: [] })
  })

  it('a short range download while the head is recent does not make it flap to not ready', async () => {
    backend.syncing = true
    expect(await checkReadiness(backend, {}, headAt + 2_000)).toMatchObject({ ready: true, syncing: true })
  })

  it('downloading with an old head is behind: not ready, with the reason', async () => {
    backend.syncing = true
    const r = await checkReadiness(backend, {}, headAt + 20_000)
    expect(r.ready).toBe(false)
    expect(r.reasons).toEqual([expect.stringMatching(/^syncing: catching up with peers, head block 2 is 20 s old/)])
  })

  it('no peers, or a finalized block older than the limit, is not ready', async () => {
    backend.syncing = false
    backend.peers = 0
    expect((await checkReadiness(backend, {}, headAt + 1_000)).reasons).toEqual(['peers: 0 connected, need 1'])
    backend.peers = 2
    expect((await checkReadiness(backend, { maxFinalizedAgeMs: 5_000 }, headAt + 60_000)).reasons).toEqual([expect.stringMatching(/^finality: finalized block 1 is 6\d s old \(limit 5 s\)/)])
  })
})
