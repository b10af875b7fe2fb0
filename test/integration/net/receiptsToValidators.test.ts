import { afterEach, describe, expect, it } from 'vitest'

import type { NetNode } from '../../../src/net/index.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

// Only validators subscribe to `receipts` (node.ts #startRoles): a host publishes its receipt
// without being subscribed, and gossipsub's fanout must still carry it to the validators it is
// connected to, while other hosts never see it.
describe('receipts go from a host to the validators only', () => {
  it('a host that is not subscribed reaches the subscribed validators; an unsubscribed host gets nothing', async () => {
    nodes = await startNodes(4)
    const [host, otherHost, v1, v2] = nodes as [NetNode, NetNode, NetNode, NetNode]
    const got = new Map<string, Uint8Array[]>([[v1.peerId, []], [v2.peerId, []]])
    for (const v of [v1, v2]) v.subscribe('receipts', { validate: () => 'accept', handle: (data) => void got.get(v.peerId)!.push(data) })
    // The other host takes part in other topics only (as hosts follow `commits`).
    otherHost.subscribe('commits', { validate: () => 'accept', handle: () => undefined })
    for (const peer of [otherHost, v1, v2]) await host.dial(peer.multiaddrs()[0]!)
    await otherHost.dial(v1.multiaddrs()[0]!)
    await waitFor(() => host.topicPeers('receipts').length === 2, 5_000, 'validators\' subscriptions seen by the host')
    expect(host.topicPeers('receipts')).not.toContain(otherHost.peerId)
    const recipients = await host.publish('receipts', new Uint8Array([9, 8, 7]))
    expect(recipients).toBeGreaterThan(0)
    await waitFor(() => got.get(v1.peerId)!.length === 1 && got.get(v2.peerId)!.length === 1, 5_000, 'the receipt at both validators')
    expect(Array.from(got.get(v1.peerId)![0]!)).toEqual([9, 8, 7])
    // The validators do not forward it to a peer that is not subscribed.
    expect(v1.topicPeers('receipts')).not.toContain(otherHost.peerId)
  })
})
