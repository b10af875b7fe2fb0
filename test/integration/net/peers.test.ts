import { afterEach, describe, expect, it, vi } from 'vitest'

import type { NetNode } from '../../../src/net/index.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

describe('peers(): the connected peers, read from the open connections', () => {
  it('lists each connected peer once, without libp2p\'s getPeers (a PeerId rebuilt from its string per peer per call)', async () => {
    const [a, b, c] = (nodes = await startNodes(3, { heartbeatMs: 60_000 }, 70)) as [NetNode, NetNode, NetNode]
    await a.dial(b.multiaddrs()[0]!)
    await c.dial(a.multiaddrs()[0]!)
    await waitFor(() => a.peers().length === 2, 5_000, 'two peers')
    const getPeers = vi.spyOn(a.libp2p!, 'getPeers')
    expect(a.peers().sort()).toEqual([b.peerId, c.peerId].sort())
    expect(getPeers).not.toHaveBeenCalled()
    await a.hangUp(c.peerId)
    await waitFor(() => a.peers().length === 1, 5_000, 'one peer after the hang-up')
    expect(a.peers()).toEqual([b.peerId])
  })
})
