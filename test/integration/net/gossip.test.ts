import { afterEach, describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { BlocksByRangeRequest, NetError, type NetNode, type TopicHandlers } from '../../../src/net/index.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

let nodes: NetNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

interface Inbox { got: { data: Uint8Array; from: string }[]; handlers: TopicHandlers }

/** Validator by first byte: 1 = reject, 2 = ignore, else accept. */
function inbox(): Inbox {
  const got: Inbox['got'] = []
  return {
    got,
    handlers: {
      validate: (data) => (data[0] === 1 ? 'reject' : data[0] === 2 ? 'ignore' : 'accept'),
      handle: (data, from) => {
        got.push({ data, from })
      },
    },
  }
}

/** a - b - c on a line: a and c are not connected, so anything c gets from a went through b. */
async function line(): Promise<{ a: NetNode; b: NetNode; c: NetNode; boxes: Inbox[] }> {
  nodes = await startNodes(3)
  const [a, b, c] = nodes as [NetNode, NetNode, NetNode]
  const boxes = [inbox(), inbox(), inbox()]
  nodes.forEach((n, i) => n.subscribe('transactions', boxes[i]!.handlers))
  await a.dial(b.multiaddrs()[0]!)
  await b.dial(c.multiaddrs()[0]!)
  await waitFor(() => a.topicPeers('transactions').includes(b.peerId) && b.topicPeers('transactions').includes(c.peerId) && c.topicPeers('transactions').includes(b.peerId), 5_000, 'subscriptions')
  expect(a.peers()).not.toContain(c.peerId)
  return { a, b, c, boxes }
}

describe('gossip', () => {
  it('delivers a message across a hop, once, naming the relaying peer', async () => {
    const { a, b, boxes } = await line()
    const msg = new Uint8Array([7, 1, 2, 3])
    await a.publish('transactions', msg)
    await waitFor(() => boxes[2]!.got.length === 1, 5_000, 'delivery at c')
    expect(Array.from(boxes[2]!.got[0]!.data)).toEqual([7, 1, 2, 3])
    expect(boxes[2]!.got[0]!.from).toBe(b.peerId)
    expect(boxes[1]!.got[0]!.from).toBe(a.peerId)
    expect(boxes[0]!.got).toHaveLength(0) // no echo to the publisher
    // Same bytes again, from a and from b: the content-keyed seen cache drops both.
    await a.publish('transactions', msg)
    await b.publish('transactions', msg)
    await a.publish('transactions', new Uint8Array([7, 9]))
    await waitFor(() => boxes[2]!.got.length === 2, 5_000, 'second message')
    await new Promise((r) => setTimeout(r, 200))
    expect(boxes[2]!.got.map((g) => Array.from(g.data))).toEqual([[7, 1, 2, 3], [7, 9]])
    expect(boxes[1]!.got).toHaveLength(2)
  })

  it('drops rejected and ignored messages without forwarding; only reject costs the sender score', async () => {
    const { a, b, boxes } = await line()
    for (let i = 0; i < 3; i++) await a.publish('transactions', new Uint8Array([2, i]))
    await a.publish('transactions', new Uint8Array([7, 0])) // a valid marker behind them
    await waitFor(() => boxes[2]!.got.length === 1, 5_000, 'marker')
    expect(boxes[1]!.got.map((g) => g.data[0])).toEqual([7])
    expect(boxes[2]!.got.map((g) => g.data[0])).toEqual([7])
    expect(b.score(a.peerId)).toBeGreaterThanOrEqual(0)

    await a.publish('transactions', new Uint8Array([1, 0]))
    await a.publish('transactions', new Uint8Array([7, 1]))
    await waitFor(() => boxes[2]!.got.length === 2, 5_000, 'second marker')
    expect(boxes[1]!.got.map((g) => g.data[0])).toEqual([7, 7])
    expect(boxes[2]!.got.map((g) => g.data[0])).toEqual([7, 7])
    await waitFor(() => b.score(a.peerId) < 0, 3_000, 'penalty')
    expect(b.score(a.peerId)).toBeLessThanOrEqual(-100 + 50) // one invalid message: -100, positive part capped at 50
  })

  it('treats a CodecError thrown by a validator as reject and any other throw as ignore', async () => {
    nodes = await startNodes(2, {}, 10)
    const [a, b] = nodes as [NetNode, NetNode]
    const got: number[][] = []
    b.subscribe('receipts', {
      validate: (data) => {
        if (data[0] === 0xee) throw new Error('our own bug')
        decode(BlocksByRangeRequest, data) // bytes that are not a valid message: CodecError
        return 'accept'
      },
      handle: (data) => {
        got.push(Array.from(data))
      },
    })
    a.subscribe('receipts', inbox().handlers)
    await a.dial(b.multiaddrs()[0]!)
    await waitFor(() => a.topicPeers('receipts').includes(b.peerId), 5_000, 'subscription')
    const valid = encode(BlocksByRangeRequest, { fromHeight: 1, count: 2 })
    await a.publish('receipts', new Uint8Array([0xee, 1]))
    await a.publish('receipts', valid)
    await waitFor(() => got.length === 1, 5_000, 'valid receipt')
    expect(b.score(a.peerId)).toBeGreaterThanOrEqual(0)
    await a.publish('receipts', new Uint8Array([0xc1]))
    await waitFor(() => b.score(a.peerId) < 0, 3_000, 'codec penalty')
    expect(got).toEqual([Array.from(valid)])
  })

  it('refuses to publish above the topic cap and drops oversize messages from peers', async () => {
    nodes = await startNodes(2, { gossipMaxBytes: { consensus: 512 } })
    const [a, b] = nodes as [NetNode, NetNode]
    const box = inbox()
    b.subscribe('consensus', box.handlers)
    a.subscribe('consensus', inbox().handlers)
    await a.dial(b.multiaddrs()[0]!)
    await waitFor(() => a.topicPeers('consensus').includes(b.peerId), 5_000, 'subscription')
    await expect(a.publish('consensus', new Uint8Array(513))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
    await expect(a.publish('consensus', new Uint8Array(513))).rejects.toBeInstanceOf(NetError)
    // A peer that skips its own check (raw gossipsub) gets the message dropped and is penalised.
    await a.libp2p!.services.pubsub.publish('/xsc/testnet/consensus/1', new Uint8Array(513).fill(9))
    await a.publish('consensus', new Uint8Array(512).fill(7))
    await waitFor(() => box.got.length === 1, 5_000, 'in-cap message')
    expect(box.got[0]!.data.length).toBe(512)
    await waitFor(() => b.score(a.peerId) < 0, 3_000, 'oversize penalty')
  })

  it('scores down, graylists, disconnects and bans a peer that floods invalid messages', async () => {
    const { a, b, c, boxes } = await line()
    for (let i = 0; i < 20; i++) await a.publish('transactions', new Uint8Array([1, i]))
    await waitFor(() => !b.peers().includes(a.peerId), 5_000, 'b to hang up on a')
    expect(b.isBanned(a.peerId)).toBe(true)
    expect(b.score(a.peerId)).toBeLessThan(-16_000)
    expect(boxes[1]!.got).toHaveLength(0)
    expect(boxes[2]!.got).toHaveLength(0)
    // The ban holds: a cannot come back, the honest neighbour stays connected.
    // b refuses the connection after the handshake; a's dial may resolve first, but no connection stays up.
    await a.dial(b.multiaddrs()[0]!).catch((err: unknown) => expect(err).toBeInstanceOf(NetError))
    await new Promise((r) => setTimeout(r, 300))
    expect(b.peers()).not.toContain(a.peerId)
    expect(a.peers()).not.toContain(b.peerId)
    expect(b.peers()).toContain(c.peerId)
    await c.publish('transactions', new Uint8Array([7, 42]))
    await waitFor(() => boxes[1]!.got.length === 1, 5_000, 'honest delivery')
  })
})
