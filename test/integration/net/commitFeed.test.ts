import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { CommittedBlock } from '../../../consensus/bft/messages.ts'
import { CHUNK_BYTES, encodeChunkedMessage, encodeFrame, FRAME } from '../../../src/net/framing.ts'
import { type NetNode, type ValidationResult } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { CommitFeedClient, commitFeedProtocol, CommitFeedServer, FEED_GARBAGE_PENALTY, FEED_REJECT_PENALTY, type FeedBlock, type FeedVersion } from '../../../src/node/network/commitFeed.ts'
import { decodeFeedMessage, encodeFeedMessage, FEED_MAX_BYTES } from '../../../src/node/network/commitFeedMessages.ts'
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



/** A committed block as the feed sees it: `block` bytes of `fill`, a commit (not checked by the feed itself) and `writes` rows. */
function feedBlock(fill: number, size = 5, writes = 0): FeedBlock {
  return {
    block: new Uint8Array(size).fill(fill),
    commit: { chainId: CHAIN, height: 1, round: 0, blockId: new Uint8Array(32).fill(fill), signatures: [] },
    writes: Array.from({ length: writes }, (_, i) => ({ key: Uint8Array.of(1, i), value: i % 2 === 0 ? Uint8Array.of(fill) : undefined })),
  }
}

/** What a follower took: the first bytes of the block, the feed's version, the rows of its write set (version 2) and the sender. */
interface Received { bytes: number[]; version: FeedVersion; writes?: number; from: string }

function follower(net: NetNode, candidates: () => string[], verdict: () => ValidationResult = () => 'accept', writes = true) {
  const received: Received[] = []
  const changes: boolean[] = []
  const client = new CommitFeedClient({
    net,
    log,
    chainId: CHAIN,
    now: Date.now,
    candidates,
    writes,
    receive: async (bytes, from, version) => {
      if (version === 1) received.push({ bytes: [...decode(CommittedBlock, bytes).block.subarray(0, 4)], version, from })
      else {
        const m = decodeFeedMessage(bytes)
        received.push({ bytes: [...m.block.subarray(0, 4)], version, ...(m.writes === undefined ? {} : { writes: m.writes.length }), from })
      }
      return verdict()
    },
    onChange: (up) => changes.push(up),
    quietMs: 60_000,
  })
  clients.push(client)
  return { client, received, changes }
}

/** A "validator" that serves the feed protocol by hand: whatever the test writes reaches the follower. */
async function rawFeedServer(net: NetNode, version: FeedVersion = 2): Promise<{ streams: Stream[] }> {
  const streams: Stream[] = []
  await net.handleStream(commitFeedProtocol(CHAIN, version), (stream) => void streams.push(stream), { maxInboundStreams: 4 })
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
    // A small block with its write set and one spread over several chunks: each arrives once, whole.
    servers[0]!.publish(feedBlock(1, 5, 3))
    servers[0]!.publish(feedBlock(7, 3 * CHUNK_BYTES + 17))
    servers[1]!.publish(feedBlock(9)) // nobody listens there
    await waitFor(() => received.length === 2, 5_000, 'both blocks')
    await new Promise((r) => setTimeout(r, 200))
    expect(received).toEqual([{ bytes: [1, 1, 1, 1], version: 2, writes: 3, from: a.peerId }, { bytes: [7, 7, 7, 7], version: 2, writes: 0, from: a.peerId }])

    // The first validator goes away: the feed ends (gossip again), and the next poll takes the second's.
    await servers[0]!.stop()
    await waitFor(() => changes.length === 2, 5_000, 'the feed to end')
    expect(changes).toEqual([true, false])
    client.poll()
    await waitFor(() => servers[1]!.subscriberCount === 1 && client.peer !== undefined, 5_000, 'a feed from the second validator')
    servers[1]!.publish(feedBlock(4))
    await waitFor(() => received.length === 3, 5_000, 'the block from the second validator')
    expect(received[2]).toEqual({ bytes: [4, 4, 4, 4], version: 2, writes: 0, from: b.peerId })
  }, 20_000)

  it('a validator refuses a second feed to one peer, one that opens feeds in a loop, and cuts off a follower that sends bytes', async () => {
    nodes = await startNodes(2, {}, 80)
    const [v, f] = nodes as [NetNode, NetNode]
    const penalties = penaltiesOf(v)
    const server = new CommitFeedServer({ net: v, log, chainId: CHAIN })
    await server.start()
    servers.push(server)
    await connectAll(nodes)
    const open = (): Promise<Stream> => f.openStream(v.peerId, commitFeedProtocol(CHAIN, 2), { signal: AbortSignal.timeout(5_000) })
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

    // Oversize: chunks summing past the cap of the feed's version, cut before the message is judged (a new
    // follower: the first avoids this validator for a while).
    const fresh = follower(f, () => [v.peerId], () => verdict)
    fresh.client.poll()
    await waitFor(() => raw.streams.length === 2, 5_000, 'a second feed')
    const oversize = raw.streams[1]!
    const chunk = encodeFrame(FRAME.data, new Uint8Array(CHUNK_BYTES))
    for (let sent = 0; sent <= FEED_MAX_BYTES[2] && oversize.status === 'open'; sent += CHUNK_BYTES) {
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
    const before = penalties.length
    raw.streams[2]!.send(encodeChunkedMessage(encodeFeedMessage(2, feedBlock(5))!))
    await waitFor(() => third.changes.length === 2, 5_000, 'the forged feed ended')
    expect(third.received).toEqual([{ bytes: [5, 5, 5, 5], version: 2, writes: 0, from: v.peerId }])
    await new Promise((r) => setTimeout(r, 300))
    expect(penalties.slice(before)).toEqual([{ peer: v.peerId, points: FEED_REJECT_PENALTY }])
    expect(received).toEqual([])
  }, 30_000)

  it('a follower that applies write sets gets version 2, one that checks every block version 1, and a validator that speaks only 1 serves both in 1', async () => {
    nodes = await startNodes(4, {}, 100)
    const [v, old, f1, f2] = nodes as [NetNode, NetNode, NetNode, NetNode]
    const server = new CommitFeedServer({ net: v, log, chainId: CHAIN })
    await server.start()
    servers.push(server)
    const raw = await rawFeedServer(old, 1)
    await connectAll(nodes)
    const withWrites = follower(f1, () => [v.peerId])
    const without = follower(f2, () => [v.peerId], () => 'accept', false)
    withWrites.client.poll()
    without.client.poll()
    await waitFor(() => server.subscriberCount === 2 && withWrites.client.peer !== undefined && without.client.peer !== undefined, 5_000, 'both followers subscribed')
    server.publish(feedBlock(3, 5, 2))
    await waitFor(() => withWrites.received.length === 1 && without.received.length === 1, 5_000, 'the block on both feeds')
    expect(withWrites.received).toEqual([{ bytes: [3, 3, 3, 3], version: 2, writes: 2, from: v.peerId }])
    expect(without.received).toEqual([{ bytes: [3, 3, 3, 3], version: 1, from: v.peerId }])

    // A validator without version 2: the follower that asks for it first is served version 1.
    const upgraded = follower(f1, () => [old.peerId])
    upgraded.client.poll()
    await waitFor(() => raw.streams.length === 1 && upgraded.client.peer !== undefined, 5_000, 'a version-1 feed')
    expect(raw.streams[0]!.protocol).toBe(commitFeedProtocol(CHAIN, 1))
    raw.streams[0]!.send(encodeChunkedMessage(encodeFeedMessage(1, feedBlock(6))!))
    await waitFor(() => upgraded.received.length === 1, 5_000, 'the block in version 1')
    expect(upgraded.received).toEqual([{ bytes: [6, 6, 6, 6], version: 1, from: old.peerId }])
  }, 20_000)

  it('a write set found wrong after its block was taken (refuse) scores the validator as a forged block and moves the follower to another', async () => {
    nodes = await startNodes(3, {}, 110)
    const [a, b, f] = nodes as [NetNode, NetNode, NetNode]
    const penalties = penaltiesOf(f)
    for (const n of [a, b]) {
      const s = new CommitFeedServer({ net: n, log, chainId: CHAIN })
      await s.start()
      servers.push(s)
    }
    await connectAll(nodes)
    const { client, changes } = follower(f, () => [a.peerId, b.peerId])
    client.poll()
    await waitFor(() => client.peer === a.peerId, 5_000, 'a feed from the first validator')
    client.refuse(a.peerId, 'a write set that does not give its block\'s state root')
    await waitFor(() => changes.length === 2, 5_000, 'the feed ended')
    // Scored once: ending the feed is not also taken for garbage on it.
    await new Promise((r) => setTimeout(r, 300))
    expect(penalties).toEqual([{ peer: a.peerId, points: FEED_REJECT_PENALTY }])
    client.poll()
    await waitFor(() => client.peer === b.peerId, 5_000, 'a feed from the second validator')
    // Refusing a peer whose feed is not the current one scores it and leaves the feed alone.
    client.refuse(a.peerId, 'late')
    expect(client.peer).toBe(b.peerId)
  }, 20_000)
})
