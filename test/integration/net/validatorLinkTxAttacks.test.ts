import { join } from 'node:path'

import type { Stream } from '@libp2p/interface'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { txId } from '../../../blocks/ids.ts'
import { SignedTx } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { type KeyPair, sign, toHex } from '../../../src/crypto/index.ts'
import { encodeFrame, FRAME, MAX_FRAME_BYTES } from '../../../src/net/framing.ts'
import type { NetNode, ValidationResult } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { admitAndGossip } from '../../../src/node/network/admitAndGossip.ts'
import { createLinkReceive } from '../../../src/node/network/createLinkReceive.ts'
import { MAX_TXS_PER_GOSSIP, TxGossipBatch } from '../../../src/node/network/txGossipBatch.ts'
import { TX_REFUSALS_BURST } from '../../../src/node/network/TxRefusalBudget.ts'
import { LINK_GARBAGE_PENALTY, LINK_KIND, LINK_REJECT_PENALTY, LinkHello, linkHelloMessage, type LinkTopic, validatorLinkProtocol, ValidatorLinks } from '../../../src/node/network/validatorLinks.ts'
import { signTx, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'
import { txOnlyModules } from '../../support/txOnlyModules.ts'
import { CHAIN, startNodes, stopAll, waitFor } from './helpers.ts'

/**
 * A validator of the active set, linked to the others, turns Byzantine and abuses link kind 3
 * (tx batches). The victim is wired as a validator is (validatorNetwork.ts): link → the gossip
 * handler table → admitAndGossip(…, 'gossip') → a real Chain's mempool; the attacker writes raw
 * frames after a well-signed hello, so it is a member the victim links with.
 */
const log = createLogger({ level: 'silent' })
const victimKey = testKey('txlink-victim')
const attackerKey = testKey('txlink-attacker')
const honestKey = testKey('txlink-honest')
const members = (): string[] => [victimKey, attackerKey, honestKey].map((k) => toHex(k.publicKey))
const payer = testKey('txlink-payer')
const genesis = testGenesis({ validators: [victimKey, attackerKey, honestKey], funded: [{ key: payer, amount: 10n ** 15n }], schemes: ['stake'] })
const tmp = tempDir('xsc-txlink-')
let chain: Chain
let nodes: NetNode[] = []
let links: ValidatorLinks[] = []

beforeAll(async () => {
  chain = await Chain.open({ dataDir: join(tmp.dir, 'victim'), genesis, validatorKey: victimKey, signatureWorkers: 0 })
})
afterAll(async () => {
  await chain.close()
  tmp.cleanup()
})
afterEach(async () => {
  await Promise.all(links.map((l) => l.stop()))
  await stopAll(nodes)
  nodes = []
  links = []
})

/** Messages of each peer the victim finished judging. */
const judgedFrom = new Map<string, number>()

/** The victim's links, judged as a validator judges them (createLinkReceive); `gate` (when given) holds the judgement of a peer's messages until it resolves. */
function victimLinks(net: NetNode, opts: { gate?: (from: string) => Promise<void>; now?: () => number } = {}): ValidatorLinks {
  const { gate } = opts
  const receive = createLinkReceive(txOnlyModules(async (tx) => void (await admitAndGossip({ chain, net, log }, tx, 'gossip'))), { now: opts.now })
  const l = new ValidatorLinks({
    net, log, chainId: CHAIN, validatorKey: victimKey, validators: members,
    receive: async (topic, bytes, from) => {
      await gate?.(from)
      const verdict = await receive(topic, bytes, from)
      judgedFrom.set(from, (judgedFrom.get(from) ?? 0) + 1)
      return verdict
    },
  })
  links.push(l)
  return l
}

/** An honest validator's links, recording what reaches it. */
function honestLinks(net: NetNode): { links: ValidatorLinks; received: LinkTopic[] } {
  const received: LinkTopic[] = []
  const l = new ValidatorLinks({ net, log, chainId: CHAIN, validatorKey: honestKey, validators: members, receive: async (topic): Promise<ValidationResult> => (received.push(topic), 'accept') })
  links.push(l)
  return { links: l, received }
}

/** The attacker's raw link to `victim`: a member's well-signed hello, then whatever it writes. */
async function rawLink(attacker: NetNode, victim: NetNode, key: KeyPair = attackerKey): Promise<Stream> {
  const stream = await attacker.openStream(victim.peerId, validatorLinkProtocol(CHAIN), { signal: AbortSignal.timeout(5_000) })
  stream.send(encodeFrame(FRAME.data, encode(LinkHello, { validator: key.publicKey, signature: sign(key.secretKey, linkHelloMessage(CHAIN, attacker.peerId, victim.peerId)) })))
  return stream
}

function txFrame(batch: Uint8Array): Uint8Array {
  const payload = new Uint8Array(1 + batch.length)
  payload[0] = LINK_KIND.transactions
  payload.set(batch, 1)
  return encodeFrame(FRAME.data, payload)
}
const forge = (tx: SignedTx): SignedTx => ({ ...tx, signature: tx.signature.map((b, i) => (i === 7 ? b ^ 1 : b)) })
const to = testKey('txlink-to').publicKey
const sigChecks = (): number => chain.mempool.signaturesChecked
/** Txs the victim's pool refused, for any reason, before or after a verify. */
const refused = (): number => chain.mempool.refusals().reduce((sum, r) => sum + r.count, 0)

/** Victim, attacker and honest validator on real libp2p: the victim's and the honest one's links started, both peers dialled to the victim. */
async function startTrio(seed: number, victimOpts: (attacker: NetNode) => Parameters<typeof victimLinks>[1] = () => ({})): Promise<{ victim: NetNode; attacker: NetNode; honest: NetNode; v: ValidatorLinks; h: ReturnType<typeof honestLinks> }> {
  nodes = await startNodes(3, {}, seed)
  const [victim, attacker, honest] = nodes as [NetNode, NetNode, NetNode]
  const v = victimLinks(victim, victimOpts(attacker))
  const h = honestLinks(honest)
  await Promise.all([v.start(), h.links.start()])
  await honest.dial(victim.multiaddrs()[0]!)
  await attacker.dial(victim.multiaddrs()[0]!)
  return { victim, attacker, honest, v, h }
}

describe('a Byzantine linked validator sending tx batches (link kind 3, real libp2p)', () => {
  it('a batch hiding a forged tx among good ones: the good ones admitted, the forged one refused and relayed to nobody, the sender scored down once, the victim up', async () => {
    const { victim, attacker, v, h } = await startTrio(110)
    await waitFor(() => v.linkedValidators().size === 1 && h.links.linkedValidators().size === 1, 5_000, 'the honest link both ways')

    const n = await chain.nextNonce(payer.publicKey)
    const good0 = transfer(payer, n, to, 10n)
    const forged = forge(transfer(payer, n + 1, to, 10n ** 14n)) // would move most of the payer's funds
    const good1 = transfer(payer, n + 1, to, 11n) // the forged tx's nonce, honestly signed: still free
    const before = sigChecks()
    const link = await rawLink(attacker, victim)
    link.send(txFrame(encode(TxGossipBatch, [good0, forged, good1])))
    await waitFor(() => chain.mempool.has(txId(good1)), 5_000, 'the good txs admitted')

    expect(chain.mempool.has(txId(good0))).toBe(true)
    expect(chain.mempool.has(txId(forged))).toBe(false)
    expect(sigChecks() - before).toBe(3)
    // The score reads the penalty at the next heartbeat, and decays slowly from there.
    await waitFor(() => victim.score(attacker.peerId) < 0.9 * LINK_REJECT_PENALTY, 2_000, 'the sender scored down')
    expect(victim.score(attacker.peerId)).toBeGreaterThan(2 * LINK_REJECT_PENALTY) // once for the batch
    expect(victim.isBanned(attacker.peerId)).toBe(false)
    expect(link.status).toBe('open')
    // A tx that came over a link is relayed by nobody: the honest validator got nothing from the victim.
    await new Promise((r) => setTimeout(r, 300))
    expect(h.received).toEqual([])
  }, 15_000)

  it('garbage, a count bomb and an oversize frame of kind 3: nothing verified or admitted, each scored down, the oversize link closed, the victim still admits an honest batch', async () => {
    const { victim, attacker, h } = await startTrio(120)
    await waitFor(() => h.links.linkedValidators().size === 1, 5_000, 'the honest link')
    const before = sigChecks()
    const pending = chain.mempool.size

    const link = await rawLink(attacker, victim)
    link.send(txFrame(Uint8Array.of(0x93, 1, 2, 3))) // not a batch
    link.send(txFrame(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff))) // an array32 header claiming 4 G items, none sent
    // 1000 copies of one valid tx (~150 KB: under the frame cap, over the batch's 256-item cap).
    const tx = encode(SignedTx, transfer(payer, await chain.nextNonce(payer.publicKey), to, 1n))
    const count = 1000
    const bomb = new Uint8Array(3 + count * tx.length)
    bomb.set([0xdc, count >>> 8, count & 0xff])
    for (let i = 0; i < count; i++) bomb.set(tx, 3 + i * tx.length)
    expect(MAX_TXS_PER_GOSSIP).toBeLessThan(count)
    link.send(txFrame(bomb))
    await waitFor(() => victim.score(attacker.peerId) < 2.7 * LINK_REJECT_PENALTY, 3_000, 'three rejects')
    expect(link.status).toBe('open') // a REJECT scores the sender down; garbage of the framing ends the link (below)

    // One frame past the cap (a real kind-3 payload of MAX_FRAME_BYTES + 1 bytes): cut at its header.
    const oversize = await rawLink(attacker, victim)
    const big = new Uint8Array(5 + MAX_FRAME_BYTES + 1)
    big[0] = FRAME.data
    new DataView(big.buffer).setUint32(1, MAX_FRAME_BYTES + 1)
    big[5] = LINK_KIND.transactions
    oversize.send(big)
    await waitFor(() => oversize.status !== 'open', 5_000, 'the oversize link closed')
    await waitFor(() => victim.score(attacker.peerId) < 0.9 * (3 * LINK_REJECT_PENALTY + LINK_GARBAGE_PENALTY), 3_000, 'the garbage penalty')

    expect(sigChecks() - before).toBe(0)
    expect(chain.mempool.size).toBe(pending)
    // The victim still takes an honest validator's batch.
    const honestTx = transfer(payer, await chain.nextNonce(payer.publicKey), to, 2n)
    h.links.send('transactions', encode(TxGossipBatch, [honestTx]))
    await waitFor(() => chain.mempool.has(txId(honestTx)), 5_000, 'the honest tx admitted')
  }, 15_000)

  it('duplicates: one valid tx 256 times is verified once and admitted once; one forged tx 256 times is verified once and costs one penalty; sent again it is not verified again', async () => {
    nodes = await startNodes(2, {}, 130)
    const [victim, attacker] = nodes as [NetNode, NetNode]
    const v = victimLinks(victim)
    await v.start()
    await attacker.dial(victim.multiaddrs()[0]!)
    const link = await rawLink(attacker, victim)
    const n = await chain.nextNonce(payer.publicKey)

    const good = transfer(payer, n, to, 3n)
    let before = sigChecks()
    link.send(txFrame(encode(TxGossipBatch, Array.from({ length: MAX_TXS_PER_GOSSIP }, () => good))))
    await waitFor(() => chain.mempool.has(txId(good)), 5_000, 'the tx admitted')
    await new Promise((r) => setTimeout(r, 200))
    expect(sigChecks() - before).toBe(1)
    expect(victim.score(attacker.peerId)).toBeGreaterThan(0.5 * LINK_REJECT_PENALTY) // nothing invalid: no penalty

    // A sentinel (a new valid tx) after each batch: the link is judged in order, so when it is in, the batch before it was judged.
    const forged = forge(transfer(payer, n + 1, to, 4n))
    const sentinel1 = transfer(payer, n + 1, to, 5n)
    before = sigChecks()
    link.send(txFrame(encode(TxGossipBatch, Array.from({ length: MAX_TXS_PER_GOSSIP }, () => forged))))
    link.send(txFrame(encode(TxGossipBatch, [sentinel1])))
    await waitFor(() => chain.mempool.has(txId(sentinel1)), 5_000, 'the sentinel admitted')
    expect(sigChecks() - before).toBe(2) // the forged tx once, the sentinel once
    expect(chain.mempool.has(txId(forged))).toBe(false)
    await waitFor(() => victim.score(attacker.peerId) < 0.9 * LINK_REJECT_PENALTY, 2_000, 'the penalty')
    expect(victim.score(attacker.peerId)).toBeGreaterThan(1.5 * LINK_REJECT_PENALTY) // one batch, one penalty

    // The same forged bytes again (a replay): refused without a second verify, and scored down again.
    const sentinel2 = transfer(payer, n + 2, to, 6n)
    before = sigChecks()
    link.send(txFrame(encode(TxGossipBatch, [forged])))
    link.send(txFrame(encode(TxGossipBatch, [sentinel2])))
    await waitFor(() => chain.mempool.has(txId(sentinel2)), 5_000, 'the second sentinel admitted')
    expect(sigChecks() - before).toBe(1) // the sentinel only
    await waitFor(() => victim.score(attacker.peerId) < 1.8 * LINK_REJECT_PENALTY, 2_000, 'the second penalty')
  }, 15_000)

  it('a flood of kind-3 frames: what the victim takes off the wire while it judges slowly stays bounded, the honest link is not held up, and judging resumes once the victim is released', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((r) => { release = r })
    let judged = 0
    const { victim, attacker, h } = await startTrio(140, (attacker) => ({
      gate: async (from) => {
        if (from !== attacker.peerId) return
        await held
        judged++
      },
    }))
    await waitFor(() => h.links.linkedValidators().size === 1, 5_000, 'the honest link')

    // A well-signed execute with a 64 KiB input for an asset that does not exist: refused (IGNORE, nothing to
    // punish: the asset may exist on a peer ahead of us) before its signature is verified.
    const execute = signTx(payer, await chain.nextNonce(payer.publicKey), { type: 'execute', asset: new Uint8Array(32).fill(9), fn: 'run', input: new Uint8Array(64 * 1024).fill(1), fuelLimit: 1_000n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false, deadlineSlots: 20, origin: { x: 0, y: 0, z: 0 }, zones: [], strategy: 0, minMemoryBytes: 0n })
    const frame = txFrame(encode(TxGossipBatch, [execute]))
    const before = sigChecks()
    const link = await rawLink(attacker, victim)
    // A Byzantine sender ignores backpressure: what the victim does not take waits in the sender's own memory.
    const FLOOD_BYTES = 40 * 1024 * 1024
    let sent = 0
    while (sent < FLOOD_BYTES) {
      link.send(frame)
      sent += frame.length
      if (sent % (16 * frame.length) === 0) await new Promise((r) => setImmediate(r))
    }
    // Settled: the sender's buffer stops shrinking once the victim's reader paused its stream and yamux grants no more window.
    let left = link.writeBufferLength
    for (let still = 0; still < 5; ) {
      await new Promise((r) => setTimeout(r, 100))
      still = link.writeBufferLength === left ? still + 1 : 0
      left = link.writeBufferLength
    }
    const taken = sent - left
    // Taken off the wire: the reader's 2 MiB high-water mark (one chunk past it), one yamux window (4 MiB), what is in flight.
    expect(taken).toBeLessThan(12 * 1024 * 1024)
    expect(left).toBeGreaterThan(0)
    expect(judged).toBe(0)

    // Meanwhile the honest validator's batch is judged at once.
    const honestTx = transfer(payer, execute.body.nonce, to, 8n)
    h.links.send('transactions', encode(TxGossipBatch, [honestTx]))
    await waitFor(() => chain.mempool.has(txId(honestTx)), 3_000, 'the honest tx admitted')

    release()
    // Released, the victim judges what it took and resumes the stream for the rest (in order, once each).
    await waitFor(() => judged * frame.length > taken + 2 * 1024 * 1024, 10_000, 'the flood judged past what was taken while held')
    expect(sigChecks() - before).toBe(1) // the honest tx only: the execute fails a check before the verify
    expect(chain.mempool.has(txId(execute))).toBe(false)
    expect(victim.score(attacker.peerId)).toBeGreaterThan(0.5 * LINK_REJECT_PENALTY) // nothing it sent was invalid
  }, 10_000)

  it('well-signed txs that cannot enter the pool (an unfunded sender), without end: past its refusal budget the link\'s batches are dropped unread, without penalty, until it refills; the honest link is still judged', async () => {
    // The budget's clock, moved by hand: no refill while the victim judges, however loaded the machine.
    let clock = 0
    const { victim, attacker, h } = await startTrio(150, () => ({ now: () => clock }))
    await waitFor(() => h.links.linkedValidators().size === 1, 5_000, 'the honest link')

    // Each tx distinct (its amount), each refused by the victim (INSUFFICIENT_FUNDS: IGNORE) before its signature is verified.
    const broke = testKey('txlink-broke')
    const batch = (b: number): Uint8Array => txFrame(encode(TxGossipBatch, Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i) => transfer(broke, 0, to, BigInt(1 + b * MAX_TXS_PER_GOSSIP + i)))))
    const BATCHES = 6
    const frames = Array.from({ length: BATCHES }, (_, b) => batch(b))
    let before = refused()
    const verifiedBefore = sigChecks()
    const link = await rawLink(attacker, victim)
    for (const f of frames) link.send(f)
    await waitFor(() => judgedFrom.get(attacker.peerId) === BATCHES, 10_000, 'every batch judged or dropped')
    // The budget is four batches' worth: the other two are dropped before they are decoded.
    expect(TX_REFUSALS_BURST).toBe(4 * MAX_TXS_PER_GOSSIP)
    expect(refused() - before).toBe(TX_REFUSALS_BURST)
    expect(sigChecks() - verifiedBefore).toBe(0)
    expect(victim.score(attacker.peerId)).toBeGreaterThan(0.5 * LINK_REJECT_PENALTY) // nothing it sent was invalid
    expect(victim.isBanned(attacker.peerId)).toBe(false)

    const honestTx = transfer(payer, await chain.nextNonce(payer.publicKey), to, 9n)
    h.links.send('transactions', encode(TxGossipBatch, [honestTx]))
    await waitFor(() => chain.mempool.has(txId(honestTx)), 3_000, 'the honest tx admitted')

    // Refilled (2 s at 128/s), its next batch is judged again.
    clock += 2_000
    before = refused()
    link.send(batch(BATCHES))
    await waitFor(() => judgedFrom.get(attacker.peerId) === BATCHES + 1, 5_000, 'the next batch judged')
    expect(refused() - before).toBe(MAX_TXS_PER_GOSSIP)
  }, 10_000)
})
