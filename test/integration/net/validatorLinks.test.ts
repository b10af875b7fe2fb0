import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { type KeyPair, sign, toHex } from '../../../src/crypto/index.ts'
import { encodeFrame, FRAME, MAX_FRAME_BYTES } from '../../../src/net/framing.ts'
import type { NetNode, ValidationResult } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { LINK_KIND, LINK_QUEUE_BYTES, LinkHello, linkHelloMessage, type LinkTopic, validatorLinkProtocol,ValidatorLinks } from '../../../src/node/network/validatorLinks.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { CHAIN, startNodes, stopAll, waitFor } from './helpers.ts'

const log = createLogger({ level: 'silent' })
let nodes: NetNode[] = []
let links: ValidatorLinks[] = []
afterEach(async () => {
  await Promise.all(links.map((l) => l.stop()))
  await stopAll(nodes)
  nodes = []
  links = []
})

interface Received { topic: LinkTopic; bytes: Uint8Array; from: string }

function linkUp(net: NetNode, key: KeyPair, members: () => string[], verdict: () => ValidationResult | Promise<ValidationResult> = () => 'accept'): { links: ValidatorLinks; received: Received[] } {
  const received: Received[] = []
  // The libp2p path (the fallback of fast links, validatorFastLinks.test.ts, which are off here).
  const l = new ValidatorLinks({ net, log, chainId: CHAIN, validatorKey: key, validators: members, fastLinks: false, receive: async (topic, bytes, from) => (received.push({ topic, bytes, from }), await verdict()) })
  links.push(l)
  return { links: l, received }
}

async function connectAll(ns: NetNode[]): Promise<void> {
  for (let i = 0; i < ns.length; i++) for (let j = i + 1; j < ns.length; j++) await ns[i]!.dial(ns[j]!.multiaddrs()[0]!)
}

/** An attacker's raw stream to `victim`, after a hello signed with `key` (a member's key unless said otherwise). */
async function rawLink(attacker: NetNode, victim: NetNode, key: KeyPair): Promise<Stream> {
  const stream = await attacker.openStream(victim.peerId, validatorLinkProtocol(CHAIN), { signal: AbortSignal.timeout(5_000) })
  stream.send(encodeFrame(FRAME.data, encode(LinkHello, { validator: key.publicKey, signature: sign(key.secretKey, linkHelloMessage(CHAIN, attacker.peerId, victim.peerId)) })))
  return stream
}

const message = (kind: number, bytes: Uint8Array): Uint8Array => encodeFrame(FRAME.data, Uint8Array.of(kind, ...bytes))

describe('validator links (real libp2p)', () => {
  const keys = [testKey('link-0'), testKey('link-1'), testKey('link-2')]
  let extraMembers: string[] = []
  const members = (): string[] => [...keys.map((k) => toHex(k.publicKey)), ...extraMembers]

  it('deliver each message once to every other validator, and say when gossip is still needed', async () => {
    nodes = await startNodes(3, {}, 40)
    const ends = nodes.map((n, i) => linkUp(n, keys[i]!, members))
    await Promise.all(ends.map((e) => e.links.start()))
    await connectAll(nodes)
    await waitFor(() => ends.every((e) => e.links.linkedValidators().size === 2), 5_000, 'links between all three')

    expect(ends[0]!.links.send('consensus', Uint8Array.of(1, 2, 3))).toBe(true)
    expect(ends[0]!.links.send('blocks', Uint8Array.of(9))).toBe(true)
    expect(ends[0]!.links.send('transactions', Uint8Array.of(7, 7))).toBe(true)
    await waitFor(() => ends[1]!.received.length === 3 && ends[2]!.received.length === 3, 5_000, 'the three messages on both peers')
    await new Promise((r) => setTimeout(r, 200))
    for (const e of [ends[1]!, ends[2]!]) {
      expect(e.received.map((r) => [r.topic, [...r.bytes], r.from])).toEqual([['consensus', [1, 2, 3], nodes[0]!.peerId], ['blocks', [9], nodes[0]!.peerId], ['transactions', [7, 7], nodes[0]!.peerId]])
    }
    expect(ends[0]!.received).toEqual([])

    // A member we have no link to (not connected): the message still goes to the linked ones, and gossip must carry it too.
    extraMembers = [toHex(testKey('link-absent').publicKey)]
    expect(ends[0]!.links.send('consensus', Uint8Array.of(4))).toBe(false)
    extraMembers = []
    await waitFor(() => ends[1]!.received.length === 4, 5_000, 'the message on the linked peers all the same')
    // Too big for a link: gossip only.
    expect(ends[0]!.links.send('blocks', new Uint8Array(MAX_FRAME_BYTES))).toBe(false)
  }, 20_000)

  it('writes what one tick sends a peer as one stream write, which the receiver splits into its messages again', async () => {
    nodes = await startNodes(2, {}, 70)
    // Node 0's outbound link streams, with their writes counted (the real stream underneath).
    const writes: number[] = []
    const counted = new Proxy(nodes[0]!, {
      get(target, key) {
        if (key === 'openStream') {
          return async (...args: Parameters<NetNode['openStream']>) => {
            const stream = await target.openStream(...args)
            const send = stream.send.bind(stream)
            stream.send = (bytes) => (writes.push(bytes.length), send(bytes))
            return stream
          }
        }
        const value: unknown = Reflect.get(target, key)
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const ends = [linkUp(counted, keys[0]!, () => members().slice(0, 2)), linkUp(nodes[1]!, keys[1]!, () => members().slice(0, 2))]
    await Promise.all(ends.map((e) => e.links.start()))
    await connectAll(nodes)
    await waitFor(() => ends.every((e) => e.links.linkedValidators().size === 1), 5_000, 'the link both ways')
    const afterHello = writes.length

    // One tick: a proposal, its prevote and a tx batch leave in one write.
    expect(ends[0]!.links.send('consensus', Uint8Array.of(1))).toBe(true)
    expect(ends[0]!.links.send('consensus', Uint8Array.of(2, 2))).toBe(true)
    expect(ends[0]!.links.send('transactions', Uint8Array.of(3))).toBe(true)
    await waitFor(() => ends[1]!.received.length === 3, 5_000, 'the three messages')
    expect(writes.length - afterHello).toBe(1)
    // A later tick: a write of its own.
    expect(ends[0]!.links.send('blocks', Uint8Array.of(4))).toBe(true)
    await waitFor(() => ends[1]!.received.length === 4, 5_000, 'the fourth message')
    expect(writes.length - afterHello).toBe(2)
    expect(ends[1]!.received.map((r) => [r.topic, [...r.bytes]])).toEqual([['consensus', [1]], ['consensus', [2, 2]], ['transactions', [3]], ['blocks', [4]]])
  }, 20_000)

  it('queues messages for a peer that reads slower than we write, delivers them in order, and closes the link past the bound', async () => {
    nodes = await startNodes(2, {}, 60)
    // The receiver judges nothing until released: its reader pauses the stream, the sender's window runs out.
    let release: () => void = () => {}
    let gate = Promise.resolve()
    const hold = (): void => {
      gate = new Promise((r) => { release = r })
    }
    const sender = linkUp(nodes[0]!, keys[0]!, () => keys.slice(0, 2).map((k) => toHex(k.publicKey)))
    const receiver = linkUp(nodes[1]!, keys[1]!, () => keys.slice(0, 2).map((k) => toHex(k.publicKey)), async (): Promise<ValidationResult> => {
      await gate
      return 'accept'
    })
    await Promise.all([sender.links.start(), receiver.links.start()])
    await connectAll(nodes)
    await waitFor(() => sender.links.linkedValidators().size === 1, 5_000, 'the link')
    const block = (i: number): Uint8Array => new Uint8Array(900 * 1024).fill(i)

    // More than the receiver's read buffer and window take, less than that plus the queue: every message is accepted for the link.
    hold()
    let mostQueued = 0
    for (let i = 0; i < 9; i++) {
      expect(sender.links.send('blocks', block(i))).toBe(true)
      await new Promise((r) => setTimeout(r, 30))
      mostQueued = Math.max(mostQueued, sender.links.queuedBytes())
    }
    expect(mostQueued).toBeGreaterThan(0)
    release()
    await waitFor(() => receiver.received.length === 9, 10_000, 'all nine messages')
    expect(receiver.received.map((r) => r.bytes[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    await waitFor(() => sender.links.queuedBytes() === 0, 5_000, 'the queue to empty')

    // A peer that stops reading: the queue never exceeds its bound, the link is closed, gossip is asked for.
    hold()
    let refused = 0
    for (let i = 0; i < 30 && refused === 0; i++) {
      if (!sender.links.send('blocks', block(i))) refused++
      expect(sender.links.queuedBytes()).toBeLessThanOrEqual(LINK_QUEUE_BYTES)
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(refused).toBe(1)
    expect(sender.links.linkedValidators().size).toBe(0)
    release()
  }, 30_000)

  it('refuses a hello from a key outside the validator set and one not signed for this pair of peers', async () => {
    nodes = await startNodes(3, {}, 50)
    const victim = linkUp(nodes[0]!, keys[0]!, members)
    await victim.links.start()
    await connectAll(nodes)
    // Outsider: a well-signed hello from a key that is no validator. Nothing it sends is judged.
    const outsider = await rawLink(nodes[1]!, nodes[0]!, testKey('link-outsider'))
    outsider.send(message(LINK_KIND.consensus, Uint8Array.of(1)))
    // Replay: a member's hello signed for another peer id.
    const forged = await nodes[2]!.openStream(nodes[0]!.peerId, validatorLinkProtocol(CHAIN), { signal: AbortSignal.timeout(5_000) })
    forged.send(encodeFrame(FRAME.data, encode(LinkHello, { validator: keys[1]!.publicKey, signature: sign(keys[1]!.secretKey, linkHelloMessage(CHAIN, nodes[1]!.peerId, nodes[0]!.peerId)) })))
    forged.send(message(LINK_KIND.consensus, Uint8Array.of(2)))
    await waitFor(() => outsider.status !== 'open' && forged.status !== 'open', 5_000, 'both streams closed')
    expect(victim.received).toEqual([])
    // Each forged hello scores its sender down: a few more and it is banned (hung up on).
    for (let i = 0; i < 4 && !nodes[0]!.isBanned(nodes[2]!.peerId); i++) {
      const again = await nodes[2]!.openStream(nodes[0]!.peerId, validatorLinkProtocol(CHAIN), { signal: AbortSignal.timeout(5_000) }).catch(() => undefined)
      again?.send(encodeFrame(FRAME.data, encode(LinkHello, { validator: keys[1]!.publicKey, signature: sign(keys[1]!.secretKey, linkHelloMessage(CHAIN, nodes[1]!.peerId, nodes[0]!.peerId)) })))
      await waitFor(() => again === undefined || again.status !== 'open' || nodes[0]!.isBanned(nodes[2]!.peerId), 5_000, 'the forged link closed')
    }
    expect(nodes[0]!.isBanned(nodes[2]!.peerId)).toBe(true)
    expect(nodes[0]!.isBanned(nodes[1]!.peerId)).toBe(false) // the outsider's hello was well signed: refused, not punished

    // The other way round: a node that believes itself a member keeps being refused, and does not punish the refusing peer.
    const outsiderKey = testKey('link-outsider')
    const hopeful = linkUp(nodes[1]!, outsiderKey, () => [...members(), toHex(outsiderKey.publicKey)])
    await hopeful.links.start()
    for (let i = 0; i < 6; i++) {
      hopeful.links.refresh()
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(hopeful.links.linkedValidators().size).toBe(0)
    expect(nodes[1]!.isBanned(nodes[0]!.peerId)).toBe(false)
  }, 20_000)

  it('closes a link that carries garbage or an oversize frame, and bans a peer that keeps sending invalid messages', async () => {
    nodes = await startNodes(3, {}, 60)
    const victim = linkUp(nodes[0]!, keys[0]!, members, () => 'reject')
    await victim.links.start()
    await connectAll(nodes)

    const garbage = await rawLink(nodes[1]!, nodes[0]!, keys[1]!)
    garbage.send(message(77, Uint8Array.of(1, 2))) // unknown kind
    await waitFor(() => garbage.status !== 'open', 5_000, 'the garbage link closed')

    const oversize = await rawLink(nodes[1]!, nodes[0]!, keys[1]!)
    const header = new Uint8Array(5)
    header[0] = FRAME.data
    new DataView(header.buffer).setUint32(1, MAX_FRAME_BYTES + 1)
    oversize.send(header) // announced above the cap: cut before its payload is buffered
    await waitFor(() => oversize.status !== 'open', 5_000, 'the oversize link closed')
    expect(victim.received).toEqual([])

    // A flood of well-formed messages that can never be valid (REJECT each): scored down until banned and hung up on.
    const flood = await rawLink(nodes[2]!, nodes[0]!, keys[2]!)
    for (let i = 0; i < 200 && flood.status === 'open'; i++) flood.send(message(LINK_KIND.consensus, Uint8Array.of(i)))
    await waitFor(() => nodes[0]!.isBanned(nodes[2]!.peerId), 5_000, 'the flooding peer banned')
    expect(victim.received.length).toBeLessThan(200)
  }, 20_000)
})
