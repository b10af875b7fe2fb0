import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'

import { CHUNK_BYTES, encodeFrame, FRAME } from '../../../src/net/framing.ts'
import { GOSSIP_MAX_BYTES, type NetNode, type ValidationResult } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { CommitFeedClient, commitFeedProtocol, CommitFeedServer, FEED_GARBAGE_PENALTY, FEED_REJECT_PENALTY } from '../../../src/node/network/commitFeed.ts'
import { CHAIN, connectAll, penaltiesOf, startNodes, stopAll, waitFor } from './helpers.ts'

const log = createLogger({ level: 'silent' })
let nodes: NetNode[] = []
let servers: CommitFeedServer[] = []
let clients: CommitFeedClient[] = []
afterEach(async () => {
  for (const c of clients) c.stop()
  await Promise.all(servers.map((s) => s.stop()))
  await stopAll(nodes)
  nodes = []
  servers = []
  clients = []
})



function follower(net: NetNode, candidates: () => string[], verdict: () => ValidationResult = () => 'accept') {
  const received: { bytes: number[]; from: string }[] = []
  const changes: boolean[] = []
  const client = new CommitFeedClient({
    net,
    log,
    chainId: CHAIN,
    now: Date.now,
    candidates,
    receive: async (bytes, from) => (received.push({ bytes: [...bytes.subarray(0, 4)], from }), verdict()),
    onChange: (up) => changes.push(up),
    quietMs: 60_000,
  })
  clients.push(client)
  return { client, received, changes }
}

/** A "validator" that serves the feed protocol by hand: whatever the test writes reaches the follower. */
async function rawFeedServer(net: NetNode): Promise<{ streams: Stream[] }> {
  const streams: Stream[] = []
  await net.handleStream(commitFeedProtocol(CHAIN), (stream) => void streams.push(stream), { maxInboundStreams: 4 })
  return { streams }
}

describe('commit feed (real libp2p)', () => {
  it('delivers each committed block once from one validator, and moves to another validator when that feed ends', async () => {
    nodes = await startNodes(3, {}, 70)
    const [a, b, f] = nodes as [NetNode, NetNode, NetNode]
    for (const n of [a, b]) {
      const s = new CommitFeedServer({ net: n, log, chainId: CHAIN })
      await s.start()
      servers.push(s)
    }
    await connectAll(nodes)
    const { client, received, changes } = follower(f, () => [a.peerId, b.peerId])
    client.poll()
    await waitFor(() => servers[0]!.subscriberCount === 1 && client.peer !== undefined, 5_000, 'the follower subscribed to the first validator')
    expect(client.peer).toBe(a.peerId)
    expect(changes).toEqual([true])
    // A small block and one spread over several chunks: each arrives once, whole.
    servers[0]!.publish(Uint8Array.of(1, 2, 3, 4, 5))
    const big = new Uint8Array(3 * CHUNK_BYTES + 17).fill(7)
    servers[0]!.publish(big)
    servers[1]!.publish(Uint8Array.of(9, 9, 9, 9)) // nobody listens there
    await waitFor(() => received.length === 2, 5_000, 'both blocks')
    await new Promise((r) => setTimeout(r, 200))
    expect(received).toEqual([{ bytes: [1, 2, 3, 4], from: a.peerId }, { bytes: [7, 7, 7, 7], from: a.peerId }])

    // The first validator goes away: the feed ends (gossip again), and the next poll takes the second's.
    await servers[0]!.stop()
    await waitFor(() => changes.length === 2, 5_000, 'the feed to end')
    expect(changes).toEqual([true, false])
    client.poll()
    await waitFor(() => servers[1]!.subscriberCount === 1 && client.peer !== undefined, 5_000, 'a feed from the second validator')
    servers[1]!.publish(Uint8Array.of(4, 4, 4, 4))
    await waitFor(() => received.length === 3, 5_000, 'the block from the second validator')
    expect(received[2]).toEqual({ bytes: [4, 4, 4, 4], from: b.peerId })
  }, 20_000)

  it('a validator refuses a second feed to one peer, one that opens feeds in a loop, and cuts off a follower that sends bytes', async () => {
    nodes = await startNodes(2, {}, 80)
    const [v, f] = nodes as [NetNode, NetNode]
    const penalties = penaltiesOf(v)
    const server = new CommitFeedServer({ net: v, log, chainId: CHAIN })
    await server.start()
    servers.push(server)
    await connectAll(nodes)
    const open = (): Promise<Stream> => f.openStream(v.peerId, commitFeedProtocol(CHAIN), { signal: AbortSignal.timeout(5_000) })
    const first = await open()
    await waitFor(() => server.subscriberCount === 1, 5_000, 'subscribed')
    // A follower talking on its feed: garbage, cut off and scored down.
    first.send(Uint8Array.of(1, 2, 3))
    await waitFor(() => server.subscriberCount === 0, 5_000, 'the talking follower cut off')
    expect(penalties).toEqual([{ peer: f.peerId, points: FEED_GARBAGE_PENALTY }])
    // Opening again and again: after the burst, refused (aborted at once, never a subscriber).
    let refused = 0
    for (let i = 0; i < 6; i++) {
      const s = await open().catch(() => undefined)
      await new Promise((r) => setTimeout(r, 100))
      if (s === undefined || s.status !== 'open') refused++
      s?.abort(new Error('done'))
    }
    expect(refused).toBeGreaterThanOrEqual(3)
  }, 20_000)

  it('a feed that sends garbage, an oversize message or a forged block is ended, scored down and left for another validator', async () => {
    nodes = await startNodes(2, {}, 90)
    const [v, f] = nodes as [NetNode, NetNode]
    const penalties = penaltiesOf(f)
    const raw = await rawFeedServer(v)
    await connectAll(nodes)
    let verdict: ValidationResult = 'accept'
    const { client, received, changes } = follower(f, () => [v.peerId], () => verdict)
    client.poll()
    await waitFor(() => raw.streams.length === 1, 5_000, 'a first feed')
    const garbage = raw.streams[0]!
    garbage.send(encodeFrame(FRAME.error, Uint8Array.of(1))) // not a feed message
    await waitFor(() => changes.length === 2, 5_000, 'the garbage feed ended')
    expect(penalties.at(-1)).toEqual({ peer: v.peerId, points: FEED_GARBAGE_PENALTY })
    expect(client.peer).toBeUndefined()
    // Left alone for a while: the next poll does not ask it again.
    client.poll()
    await new Promise((r) => setTimeout(r, 300))
    expect(raw.streams.length).toBe(1)

    // Oversize: chunks summing past the commits cap, cut before the message is judged (a new
    // follower: the first avoids this validator for a while).
    const fresh = follower(f, () => [v.peerId], () => verdict)
    fresh.client.poll()
    await waitFor(() => raw.streams.length === 2, 5_000, 'a second feed')
    const oversize = raw.streams[1]!
    const chunk = encodeFrame(FRAME.data, new Uint8Array(CHUNK_BYTES))
    for (let sent = 0; sent <= GOSSIP_MAX_BYTES.commits && oversize.status === 'open'; sent += CHUNK_BYTES) {
      if (!oversize.send(chunk)) await oversize.onDrain().catch(() => undefined)
    }
    await waitFor(() => fresh.changes.length === 2, 5_000, 'the oversize feed ended')
    expect(penalties.at(-1)).toEqual({ peer: v.peerId, points: FEED_GARBAGE_PENALTY })
    expect(fresh.received).toEqual([])

    // A well-formed message the handler rejects (a forged commit or block): scored as over a link, feed ended.
    verdict = 'reject'
    const third = follower(f, () => [v.peerId], () => verdict)
    third.client.poll()
    await waitFor(() => raw.streams.length === 3, 5_000, 'a third feed')
    raw.streams[2]!.send(encodeFrame(FRAME.data, Uint8Array.of(5, 6, 7, 8)))
    raw.streams[2]!.send(encodeFrame(FRAME.end))
    await waitFor(() => third.changes.length === 2, 5_000, 'the forged feed ended')
    expect(third.received).toEqual([{ bytes: [5, 6, 7, 8], from: v.peerId }])
    expect(penalties.at(-1)).toEqual({ peer: v.peerId, points: FEED_REJECT_PENALTY })
    expect(received).toEqual([])
  }, 30_000)
})
