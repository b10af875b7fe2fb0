import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'

import { decode, encode } from '../../../blocks/codec.ts'
import { computeResultHash, computeWriteSetHash } from '../../../blocks/executionHashes.ts'
import { receiptSigningHash } from '../../../blocks/ids.ts'
import { type Hash, OUTCOME, type ReceiptBody, type ReceiptGossip } from '../../../blocks/schema.ts'
import { ReceiptError } from '../../../src/chain/errors.ts'
import { concatBytes, equalBytes, hash, type KeyPair, sign, toHex, utf8, verify } from '../../../src/crypto/index.ts'
import { CHUNK_BYTES, encodeFrame, FRAME } from '../../../src/net/framing.ts'
import { GOSSIP_MAX_BYTES, type NetNode, type ValidationResult } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { admitReceiptBatch, ReceiptGossipBatch, ReceiptGossipBatcher } from '../../../src/node/network/receiptGossipBatch.ts'
import { PUSH_GARBAGE_PENALTY, PUSH_REJECT_PENALTY, ReceiptPushClient, receiptPushHelloMessage, receiptPushProtocol, ReceiptPushServer } from '../../../src/node/network/receiptPush.ts'
import { testKey } from '../../support/chainFixtures.ts'
import { CHAIN, connectAll, penaltiesOf, startNodes, stopAll, waitFor } from './helpers.ts'

// Hosts push receipt batches straight to the validators over real libp2p streams; the validators
// judge them with admitReceiptBatch over real signatures (a pool that knows each receipt once).
const log = createLogger({ level: 'silent' })
const host = testKey('receipt-push-host')
let nodes: NetNode[] = []
let servers: ReceiptPushServer[] = []
let clients: ReceiptPushClient[] = []
afterEach(async () => {
  for (const c of clients) c.stop()
  await Promise.all(servers.map((s) => s.stop()))
  await stopAll(nodes)
  nodes = []
  servers = []
  clients = []
})



function receipt(n: number, signer: KeyPair = host): ReceiptGossip {
  const output = utf8('out')
  const executionId: Hash = hash(utf8(`receipt-push-execution-${n}`))
  const body: ReceiptBody = { chainId: CHAIN, executionId, host: host.publicKey, outcome: OUTCOME.ok, resultHash: computeResultHash(OUTCOME.ok, output), fuelUsed: 10n, writeSetHash: computeWriteSetHash([]), output, preStateHash: hash(utf8('pre')) }
  return { receipt: { body, signature: sign(signer.secretKey, receiptSigningHash(body)) }, writeSet: [] }
}

/** A validator's pool as far as admission goes: verifies each signature, knows each receipt once. */
function validatorPool() {
  const known = new Set<string>()
  const pushed: string[] = []
  const gossiped: string[] = []
  const accept = (bytes: Uint8Array): ValidationResult => {
    let batch: ReceiptGossip[]
    try {
      batch = decode(ReceiptGossipBatch, bytes)
    } catch {
      return 'reject'
    }
    return admitReceiptBatch(batch, (msg) => {
      const { body, signature } = msg.receipt
      if (!verify(body.host, receiptSigningHash(body), signature)) throw new ReceiptError('BAD_SIGNATURE', 'bad signature')
      const id = toHex(body.executionId)
      if (known.has(id)) throw new ReceiptError('DUPLICATE', 'known')
      known.add(id)
    }, () => undefined)
  }
  return { known, pushed, gossiped, accept }
}

type Pool = ReturnType<typeof validatorPool>

/** A validator node: gossip intake on `receipts` (counted) and, with `push`, a push server (counted). */
async function validator(net: NetNode, key: KeyPair, pool: Pool, push = true): Promise<void> {
  net.subscribe('receipts', { validate: (bytes) => (pool.gossiped.push(toHex(hash(bytes))), pool.accept(bytes)), handle: () => undefined })
  if (!push) return
  const server = new ReceiptPushServer({ net, log, chainId: CHAIN, validatorKey: key, accept: (bytes) => (pool.pushed.push(toHex(hash(bytes))), pool.accept(bytes)) })
  await server.start()
  servers.push(server)
}

function pushClient(net: NetNode, validators: KeyPair[], candidates: () => string[]): ReceiptPushClient {
  const client = new ReceiptPushClient({ net, log, chainId: CHAIN, validators: () => validators.map((k) => toHex(k.publicKey)), candidates })
  clients.push(client)
  return client
}

/** The host's batcher as hostRole.ts makes it: pushed, and gossiped too when the push missed a member. */
function hostBatcher(net: NetNode, client: ReceiptPushClient): ReceiptGossipBatcher {
  return new ReceiptGossipBatcher({ publish: async (bytes) => (client.send(bytes) ? undefined : net.publish('receipts', bytes)), log, windowMs: 0 })
}

const keys = [testKey('receipt-push-v0'), testKey('receipt-push-v1'), testKey('receipt-push-v2')]

describe('receipt push (real libp2p)', () => {
  it('a pushed batch reaches each validator once, and no validator relays it on gossip', async () => {
    nodes = await startNodes(4, {}, 110)
    const [h, ...vs] = nodes as [NetNode, NetNode, NetNode, NetNode]
    const pools = vs.map(() => validatorPool())
    for (const [i, v] of vs.entries()) await validator(v, keys[i]!, pools[i]!)
    await connectAll(nodes)
    // Gossip works here: every validator is on the topic, as the host sees it.
    await waitFor(() => h.topicPeers('receipts').length === 3, 5_000, 'the validators on the receipts topic')
    const client = pushClient(h, keys, () => vs.map((v) => v.peerId))
    client.poll()
    await waitFor(() => client.validators.length === 3, 5_000, 'a push stream to each validator')
    expect(client.validators.sort()).toEqual(keys.map((k) => toHex(k.publicKey)).sort())
    const batcher = hostBatcher(h, client)
    batcher.add(receipt(1))
    batcher.add(receipt(2))
    await waitFor(() => pools.every((p) => p.known.size === 2), 5_000, 'both receipts in every pool')
    await new Promise((r) => setTimeout(r, 500))
    for (const p of pools) {
      expect(p.pushed.length).toBe(2)
      expect(new Set(p.pushed).size).toBe(2)
      expect(p.gossiped).toEqual([])
    }
    expect(client.sent).toEqual({ pushes: 6, gossipFallbacks: 0 })
  }, 20_000)

  it('a host without a push stream to one validator also gossips the batch, and that validator gets it by gossip', async () => {
    nodes = await startNodes(4, {}, 120)
    const [h, ...vs] = nodes as [NetNode, NetNode, NetNode, NetNode]
    const pools = vs.map(() => validatorPool())
    // The third validator is of an older build: no push protocol.
    for (const [i, v] of vs.entries()) await validator(v, keys[i]!, pools[i]!, i < 2)
    await connectAll(nodes)
    await waitFor(() => h.topicPeers('receipts').length === 3, 5_000, 'the validators on the receipts topic')
    const client = pushClient(h, keys, () => vs.map((v) => v.peerId))
    client.poll()
    await waitFor(() => client.validators.length === 2, 5_000, 'push streams to the two that speak it')
    hostBatcher(h, client).add(receipt(3))
    await waitFor(() => pools.every((p) => p.known.size === 1), 5_000, 'the receipt in every pool')
    expect(pools[2]!.pushed).toEqual([])
    expect(pools[2]!.gossiped.length).toBeGreaterThanOrEqual(1)
    expect(pools[0]!.pushed.length).toBe(1)
    expect(client.sent).toEqual({ pushes: 2, gossipFallbacks: 1 })
  }, 20_000)

  it('garbage, an oversize message or a forged receipt closes the stream and scores the pusher; a duplicate costs nothing', async () => {
    nodes = await startNodes(2, {}, 130)
    const [v, s] = nodes as [NetNode, NetNode]
    const pool = validatorPool()
    await validator(v, keys[0]!, pool)
    const server = servers[0]!
    const penalties = penaltiesOf(v)
    await connectAll(nodes)
    const open = async (): Promise<Stream> => {
      const stream = await s.openStream(v.peerId, receiptPushProtocol(CHAIN), { signal: AbortSignal.timeout(5_000) })
      await waitFor(() => server.pusherCount === 1, 5_000, 'a pusher')
      return stream
    }
    const message = (item: ReceiptGossip): Uint8Array => concatBytes(encodeFrame(FRAME.data, encode(ReceiptGossipBatch, [item])), encodeFrame(FRAME.end))
    // A good batch, then the same again (a duplicate: ignored, no penalty, the stream stays).
    const good = await open()
    good.send(message(receipt(4)))
    good.send(message(receipt(4)))
    await waitFor(() => pool.pushed.length === 2, 5_000, 'both judged')
    await new Promise((r) => setTimeout(r, 100))
    expect(pool.known.size).toBe(1)
    expect(penalties).toEqual([])
    expect(server.pusherCount).toBe(1)
    // A forged receipt (signed by another key): rejected, scored as on a link, cut off.
    good.send(message(receipt(5, testKey('receipt-push-forger'))))
    await waitFor(() => server.pusherCount === 0, 5_000, 'the forger cut off')
    expect(penalties).toEqual([{ peer: s.peerId, points: PUSH_REJECT_PENALTY }])
    expect(pool.known.size).toBe(1)
    // Garbage: a frame of an unknown type.
    const garbage = await open()
    garbage.send(encodeFrame(FRAME.error, Uint8Array.of(1)))
    await waitFor(() => server.pusherCount === 0, 5_000, 'the garbage cut off')
    expect(penalties.at(-1)).toEqual({ peer: s.peerId, points: PUSH_GARBAGE_PENALTY })
    // Oversize: chunks summing past the receipts cap, cut before anything is judged.
    const oversize = await open()
    const chunk = encodeFrame(FRAME.data, new Uint8Array(CHUNK_BYTES))
    for (let sent = 0; sent <= GOSSIP_MAX_BYTES.receipts && oversize.status === 'open'; sent += CHUNK_BYTES) {
      if (!oversize.send(chunk)) await oversize.onDrain().catch(() => undefined)
    }
    await waitFor(() => server.pusherCount === 0, 5_000, 'the oversize cut off')
    expect(penalties.at(-1)).toEqual({ peer: s.peerId, points: PUSH_GARBAGE_PENALTY })
    expect(penalties.length).toBe(3)
    expect(pool.pushed.length).toBe(3)
  }, 30_000)

  it('a host pushes only to peers whose hello a current validator signed for this stream; a garbled hello is scored', async () => {
    nodes = await startNodes(3, {}, 140)
    const [h, stranger, garbler] = nodes as [NetNode, NetNode, NetNode]
    const penalties = penaltiesOf(h)
    // A peer with a key outside the set: a well-formed hello, refused without penalty.
    const outsider = testKey('receipt-push-outsider')
    const strangerPool = validatorPool()
    await validator(stranger, outsider, strangerPool)
    // A peer that answers with bytes that are no hello.
    await garbler.handleStream(receiptPushProtocol(CHAIN), (stream) => void stream.send(encodeFrame(FRAME.data, Uint8Array.of(1, 2, 3))), { maxInboundStreams: 1 })
    await connectAll(nodes)
    const client = pushClient(h, keys, () => [stranger.peerId, garbler.peerId])
    client.poll()
    await waitFor(() => penalties.length === 1, 5_000, 'the garbled hello scored')
    await new Promise((r) => setTimeout(r, 300))
    expect(penalties).toEqual([{ peer: garbler.peerId, points: PUSH_GARBAGE_PENALTY }])
    expect(client.validators).toEqual([])
    // Nobody of the set reached: the batch must go by gossip.
    expect(client.send(Uint8Array.of(1))).toBe(false)
    // A hello replayed from another pair of peers does not verify here.
    const replayed = sign(keys[0]!.secretKey, receiptPushHelloMessage(CHAIN, stranger.peerId, garbler.peerId))
    expect(verify(keys[0]!.publicKey, receiptPushHelloMessage(CHAIN, stranger.peerId, h.peerId), replayed)).toBe(false)
    expect(equalBytes(receiptPushHelloMessage(CHAIN, 'a', 'b'), receiptPushHelloMessage(CHAIN, 'b', 'a'))).toBe(false)
  }, 20_000)
  it('a validator that reads nothing: pushes go on until its own libp2p resets the stream, then gossip carries the batches; nobody is scored', async () => {
    nodes = await startNodes(2, {}, 150)
    const [h, v] = nodes as [NetNode, NetNode]
    const penalties = [...penaltiesOf(h), ...penaltiesOf(v)]
    // A validator that answers the hello and then reads nothing.
    await v.handleStream(receiptPushProtocol(CHAIN), (stream, peer) => {
      stream.send(encodeFrame(FRAME.data, concatBytes(keys[0]!.publicKey, sign(keys[0]!.secretKey, receiptPushHelloMessage(CHAIN, v.peerId, peer)))))
    }, { maxInboundStreams: 1 })
    await connectAll(nodes)
    const client = pushClient(h, [keys[0]!], () => [v.peerId])
    client.poll()
    await waitFor(() => client.validators.length === 1, 5_000, 'the push stream up')
    const batch = new Uint8Array(60 * 1024).fill(9)
    let pushed = 0
    for (let i = 0; i < 400 && client.send(batch); i++) {
      pushed++
      await new Promise((r) => setTimeout(r, 2))
    }
    // Bounded: the reader's buffer limit (a few MiB) ends it long before 400 batches.
    expect(pushed).toBeGreaterThan(0)
    expect(pushed).toBeLessThan(400)
    expect(client.sent.gossipFallbacks).toBe(1)
    await waitFor(() => client.validators.length === 0, 5_000, 'the dead stream dropped')
    expect(client.send(batch)).toBe(false)
    expect(penalties).toEqual([])
  }, 30_000)
})
