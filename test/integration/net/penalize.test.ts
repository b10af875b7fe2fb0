import { afterEach, describe, expect, it } from 'vitest'

import { type NetNode, SCORE_THRESHOLDS, SYNC_PENALTY } from '../../../src/net/index.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

describe('penalties for misbehaviour outside gossip (net.penalize)', () => {
  it('lower the peer\'s gossipsub score, and below the graylist threshold hang up on it and ban it', async () => {
    nodes = await startNodes(3, {}, 80)
    const [us, stalling, honest] = nodes as [NetNode, NetNode, NetNode]
    for (const n of [us, stalling, honest]) n.subscribe('blocks', { validate: () => 'accept', handle: () => {} })
    await stalling.dial(us.multiaddrs()[0]!)
    await honest.dial(us.multiaddrs()[0]!)
    await waitFor(() => us.peers().length === 2, 5_000, 'both peers connected')

    us.penalize(stalling.peerId, SYNC_PENALTY.noProgress, 'test')
    await waitFor(() => us.score(stalling.peerId) < SCORE_THRESHOLDS.gossipThreshold, 5_000, 'the penalty in the gossip score')
    expect(us.peers()).toContain(stalling.peerId)
    expect(us.isBanned(stalling.peerId)).toBe(false)

    for (let i = 0; i < 3; i++) us.penalize(stalling.peerId, SYNC_PENALTY.noProgress, 'test')
    expect(us.isBanned(stalling.peerId)).toBe(true)
    await waitFor(() => !us.peers().includes(stalling.peerId), 5_000, 'the penalised peer to be hung up on')
    // We refuse it after the handshake: its dial may resolve first, but no connection stays up.
    await stalling.dial(us.multiaddrs()[0]!).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 300))
    expect(us.peers()).not.toContain(stalling.peerId)
    expect(us.peers()).toContain(honest.peerId)
    expect(us.score(honest.peerId)).toBeGreaterThanOrEqual(0)
  }, 20_000)
})
