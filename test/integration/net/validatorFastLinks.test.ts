import { connect, Socket } from 'node:net'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { type KeyPair, toHex } from '../../../src/crypto/index.ts'
import type { NetNode } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { type LinkTopic, ValidatorLinks } from '../../../src/node/network/validatorLinks.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { CHAIN, startNodes, stopAll, waitFor } from './helpers.ts'

const log = createLogger({ level: 'silent' })
let nodes: NetNode[] = []
let links: ValidatorLinks[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  gate = Promise.resolve()
  await Promise.all(links.map((l) => l.stop()))
  await stopAll(nodes)
  nodes = []
  links = []
})

interface Received { topic: LinkTopic; bytes: number[]; from: string }
const keys = [testKey('fast-0'), testKey('fast-1')]
const members = (): string[] => keys.map((k) => toHex(k.publicKey))

/** Judging waits while `gate` is held (a receiver that reads slower than its peer writes). */
let gate: Promise<void> = Promise.resolve()

function linkUp(net: NetNode, key: KeyPair, fastLinks = true): { links: ValidatorLinks; received: Received[] } {
  const received: Received[] = []
  const l = new ValidatorLinks({ net, log, chainId: CHAIN, validatorKey: key, validators: members, fastLinks, receive: async (topic, bytes, from) => {
    await gate
    received.push({ topic, bytes: [...bytes], from })
    return 'accept'
  } })
  links.push(l)
  return { links: l, received }
}

/** Two linked validators, node 0 sending to node 1 over a fast link when `fast`. */
async function pair(seed: number, fast = [true, true]): Promise<[ReturnType<typeof linkUp>, ReturnType<typeof linkUp>]> {
  nodes = await startNodes(2, {}, seed)
  const ends = [linkUp(nodes[0]!, keys[0]!, fast[0]), linkUp(nodes[1]!, keys[1]!, fast[1])] as const
  await Promise.all(ends.map((e) => e.links.start()))
  await nodes[0]!.dial(nodes[1]!.multiaddrs()[0]!)
  await waitFor(() => ends.every((e) => e.links.linkedValidators().size === 1), 5_000, 'the links both ways')
  if (fast[0] && fast[1]) await waitFor(() => ends.every((e) => e.links.fastLinkedValidators().size === 1), 5_000, 'the fast links both ways')
  return [ends[0], ends[1]]
}

/** Sockets the tests open as strangers (not tapped). */
const strangers = new WeakSet<Socket>()

/** A socket to `port` that writes `bytes` and reports whether the other end closed it within `ms`. */
function closedAfter(port: number, bytes: Uint8Array, ms = 4_500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes))
    strangers.add(s)
    const timer = setTimeout(() => (s.destroy(), resolve(false)), ms)
    s.on('error', () => undefined)
    s.on('data', () => undefined)
    s.on('close', () => (clearTimeout(timer), resolve(true)))
  })
}

/** Bytes node 0 writes to node 1's fast port, and a switch that flips a bit of the next one. */
function tapWrites(port: () => number | undefined): { written: Buffer[]; tamperNext: () => void } {
  const written: Buffer[] = []
  let tamper = false
  const write = Socket.prototype.write
  vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === port() && !strangers.has(this) && chunk instanceof Uint8Array && chunk.length > 1) {
      const copy = Buffer.from(chunk)
      if (tamper) {
        tamper = false
        copy[copy.length - 1]! ^= 1
      }
      written.push(copy)
      return (write as (...a: unknown[]) => boolean).call(this, copy, ...rest)
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
  })
  return { written, tamperNext: () => (tamper = true) }
}

describe('validator fast links (real sockets)', () => {
  it('carry link messages between two nodes once the handshake is done; none go over libp2p', async () => {
    const [a, b] = await pair(110)
    const before = a.links.traffic
    expect(a.links.send('consensus', Uint8Array.of(1, 2, 3))).toBe(true)
    expect(a.links.send('blocks', Uint8Array.of(9))).toBe(true)
    await new Promise((r) => setImmediate(r))
    expect(a.links.send('transactions', Uint8Array.of(7))).toBe(true)
    expect(a.links.send('blocks', new Uint8Array(700 * 1024).fill(5))).toBe(true) // a large block alone
    await waitFor(() => b.received.length === 4, 5_000, 'the four messages')
    expect(b.received.slice(0, 3)).toEqual([{ topic: 'consensus', bytes: [1, 2, 3], from: nodes[0]!.peerId }, { topic: 'blocks', bytes: [9], from: nodes[0]!.peerId }, { topic: 'transactions', bytes: [7], from: nodes[0]!.peerId }])
    expect(b.received[3]!.bytes.length).toBe(700 * 1024)
    const after = a.links.traffic
    expect(after.fast.messages - before.fast.messages).toBe(4)
    expect(after.libp2p.messages - before.libp2p.messages).toBe(0)
    expect(b.links.fastInboundPeers()).toEqual([nodes[0]!.peerId])
  }, 20_000)

  it('closes a stranger\'s garbage, an unknown session and a replayed handshake on the fast port; the node carries on', async () => {
    const tap = tapWrites(() => links[1]?.fastPort)
    const [a, b] = await pair(120)
    const port = b.links.fastPort!
    expect(await closedAfter(port, new Uint8Array(200).fill(0xab))).toBe(true)
    expect(await closedAfter(port, new Uint8Array(32 + 20))).toBe(true)
    // A captured fast link (its handshake and frames) written again on a new socket: the session is used up.
    expect(a.links.send('consensus', Uint8Array.of(4))).toBe(true)
    await waitFor(() => b.received.length === 1, 5_000, 'a message over the fast link')
    expect(tap.written.length).toBe(2) // the handshake (session id, empty frame), the message
    // Force a new session: the fast link is cut (tampered frame), then comes back on a fresh handshake we capture.
    tap.tamperNext()
    expect(a.links.send('consensus', Uint8Array.of(5))).toBe(true)
    await waitFor(() => b.links.fastInboundPeers().length === 0, 5_000, 'the tampered fast link closed')
    expect(b.received.length).toBe(1)
    expect(nodes[1]!.isBanned(nodes[0]!.peerId)).toBe(false)
    expect(nodes[1]!.score(nodes[0]!.peerId)).toBeGreaterThanOrEqual(0)
    // Later messages arrive all the same, over libp2p.
    await waitFor(() => a.links.fastLinkedValidators().size === 0, 5_000, 'the sender back on libp2p')
    const libp2pBefore = a.links.traffic.libp2p.messages
    expect(a.links.send('consensus', Uint8Array.of(6))).toBe(true)
    await waitFor(() => b.received.length === 2, 5_000, 'the message after the tampered one')
    expect(b.received[1]!.bytes).toEqual([6])
    expect(a.links.traffic.libp2p.messages).toBe(libp2pBefore + 1)
    // Replays of what went over the fast link so far (handshake + frames), on new sockets: refused, nothing judged.
    expect(await closedAfter(port, Buffer.concat(tap.written.slice(0, 2)))).toBe(true)
    expect(await closedAfter(port, tap.written[0]!)).toBe(true)
    expect(b.received.length).toBe(2)
    // And the node still links: the sender offers again after its back-off and goes fast again.
    a.links.refresh()
    await new Promise((r) => setTimeout(r, 5_100))
    a.links.refresh()
    await waitFor(() => a.links.fastLinkedValidators().size === 1, 5_000, 'a new fast link')
    expect(a.links.send('consensus', Uint8Array.of(7))).toBe(true)
    await waitFor(() => b.received.length === 3, 5_000, 'a message over the new fast link')
  }, 30_000)

  it('a receiver that stops reading: the fast link is cut at the queue bound, the message goes by gossip, the libp2p link stays', async () => {
    const [a, b] = await pair(140)
    let release: () => void = () => {}
    gate = new Promise((r) => { release = r })
    const block = (i: number): Uint8Array => new Uint8Array(900 * 1024).fill(i)
    let sent = 0
    let refused = false
    for (let i = 0; i < 60 && !refused; i++) {
      if (a.links.send('blocks', block(i))) sent++
      else refused = true
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(refused).toBe(true)
    expect(a.links.fastLinkedValidators().size).toBe(0)
    expect(a.links.linkedValidators().size).toBe(1)
    release()
    gate = Promise.resolve()
    // What the receiver took before the cut is judged in order; after it, messages go over libp2p.
    await waitFor(() => b.received.length > 0, 5_000, 'the queued blocks judged')
    const firsts = b.received.map((r) => r.bytes[0])
    expect(firsts).toEqual(firsts.map((_, i) => i))
    expect(firsts.length).toBeLessThanOrEqual(sent)
    const before = b.received.length
    expect(a.links.send('consensus', Uint8Array.of(42))).toBe(true)
    await waitFor(() => b.received.some((r) => r.topic === 'consensus'), 5_000, 'a later message over libp2p')
    expect(b.received.length).toBeGreaterThan(before)
  }, 30_000)

  it('a peer without fast links (or whose fast port does not answer) keeps working over libp2p', async () => {
    const [a, b] = await pair(130, [true, false])
    expect(b.links.fastPort).toBeUndefined()
    a.links.refresh()
    await new Promise((r) => setTimeout(r, 300))
    expect(a.links.fastLinkedValidators().size).toBe(0)
    expect(a.links.send('consensus', Uint8Array.of(1))).toBe(true)
    expect(b.links.send('consensus', Uint8Array.of(2))).toBe(true)
    await waitFor(() => a.received.length === 1 && b.received.length === 1, 5_000, 'both messages over libp2p')
    expect(a.links.traffic.fast.messages).toBe(0)
  }, 20_000)
})
