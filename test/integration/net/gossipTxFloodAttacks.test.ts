import { join } from 'node:path'

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { txId } from '../../../blocks/ids.ts'
import type { SignedTx } from '../../../blocks/schema.ts'
import { Chain } from '../../../src/chain/chain.ts'
import type { NetNode, ValidationResult } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { admitAndGossip } from '../../../src/node/network/admitAndGossip.ts'
import { createGossipHandlers, runGossipHandler } from '../../../src/node/network/gossipHandlers.ts'
import { MAX_TXS_PER_GOSSIP, TxGossipBatch } from '../../../src/node/network/txGossipBatch.ts'
import { TX_REFUSALS_BURST, TxRefusalBudget } from '../../../src/node/network/TxRefusalBudget.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'
import { txOnlyModules } from '../../support/txOnlyModules.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

/**
 * A stranger on the tx gossip topic (any peer may join it) floods a validator with txs that can
 * never enter its pool. The victim is wired as a validator is (validatorNetwork.ts): gossip → the
 * handler table → admitAndGossip(…, 'gossip') → a real Chain's mempool. Junk that fails a check
 * the signature plays no part in costs no ed25519 verify; only a bad signature (which the sender
 * controls) is REJECTed, and scores the sender down.
 */
const log = createLogger({ level: 'silent' })
const victimKey = testKey('txflood-victim')
const payer = testKey('txflood-payer')
const to = testKey('txflood-to').publicKey
// Fees on (1 per byte): a tx of ~140 bytes needs a fee of ~140; GOOD_FEE covers any here.
const GOOD_FEE = 1_000n
const genesis = testGenesis({ validators: [victimKey], funded: [{ key: payer, amount: 10n ** 15n }], params: { minFeePerByte: 1n } })
const T0 = Number(genesis.genesisTime)
const tmp = tempDir('xsc-txflood-')
let chain: Chain
let nodes: NetNode[] = []

beforeAll(async () => {
  chain = await Chain.open({ dataDir: join(tmp.dir, 'victim'), genesis, validatorKey: victimKey, signatureWorkers: 0 })
})
afterAll(async () => {
  await chain.close()
  tmp.cleanup()
})
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

const sigChecks = (): number => chain.mempool.signaturesChecked
/** Txs the victim's pool refused, for any reason. */
const refused = (): number => chain.mempool.refusals().reduce((sum, r) => sum + r.count, 0)
const forge = (tx: SignedTx): SignedTx => ({ ...tx, signature: tx.signature.map((b, i) => (i === 7 ? b ^ 1 : b)) })

/** Victim and attacker on real libp2p, both on the tx topic; the victim's verdicts in order of judgement. */
async function startPair(seed: number, txBudget?: TxRefusalBudget): Promise<{ victim: NetNode; attacker: NetNode; verdicts: ValidationResult[]; flood: (txs: SignedTx[]) => Promise<void> }> {
  nodes = await startNodes(2, {}, seed)
  const [victim, attacker] = nodes as [NetNode, NetNode]
  const handlers = createGossipHandlers(txOnlyModules(async (tx) => void (await admitAndGossip({ chain, net: victim, log }, tx, 'gossip')), { txBudget }))
  const verdicts: ValidationResult[] = []
  victim.subscribe('transactions', { validate: async (bytes, from) => {
    const verdict = await runGossipHandler(handlers, 'transactions', bytes, from)
    verdicts.push(verdict)
    return verdict
  }, handle: () => {} })
  attacker.subscribe('transactions', { validate: () => 'ignore', handle: () => {} })
  await attacker.dial(victim.multiaddrs()[0]!)
  await waitFor(() => attacker.topicPeers('transactions').includes(victim.peerId), 5_000, 'the victim on the topic')
  /** Publishes `txs` in full batches and waits until the victim judged each. */
  const flood = async (txs: SignedTx[]): Promise<void> => {
    const judged = verdicts.length
    let batches = 0
    for (let i = 0; i < txs.length; i += MAX_TXS_PER_GOSSIP, batches++) await attacker.publish('transactions', encode(TxGossipBatch, txs.slice(i, i + MAX_TXS_PER_GOSSIP)))
    await waitFor(() => verdicts.length === judged + batches, 10_000, `${batches} batches judged`)
  }
  return { victim, attacker, verdicts, flood }
}

describe('a stranger flooding the tx gossip topic with txs that can never enter the pool (real libp2p)', () => {
  it('well-signed txs from unfunded senders, nonces far past the window, fees below the floor and replays of included txs cost no signature verify, are ignored (no penalty), and an honest tx still gets in', async () => {
    const { victim, attacker, verdicts, flood } = await startPair(210)
    // Three txs included in a block first: their copies are replays.
    const n0 = await chain.nextNonce(payer.publicKey)
    const included = [0, 1, 2].map((i) => transfer(payer, n0 + i, to, 10n + BigInt(i), GOOD_FEE))
    for (const tx of included) await chain.submitTx(tx)
    await chain.produceBlock(chain.head.height + 1, T0 + 1000 * (chain.head.height + 1))
    expect(chain.mempool.size).toBe(0)
    const n = await chain.nextNonce(payer.publicKey)
    expect(n).toBe(n0 + 3)

    const unfunded = Array.from({ length: 2 * MAX_TXS_PER_GOSSIP }, (_, i) => transfer(testKey(`txflood-broke-${i % 64}`), 0, to, BigInt(1 + i), GOOD_FEE))
    const farNonces = Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i) => transfer(payer, n + 1_000 + i, to, 1n, GOOD_FEE))
    const cheap = Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i) => transfer(payer, n, to, BigInt(1 + i), 1n))
    const replays = Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i) => included[i % 3]!)
    // Replays ride in batches of their own: the same batch bytes twice would be dropped by gossipsub's seen cache.
    replays[MAX_TXS_PER_GOSSIP - 1] = transfer(payer, n0, to, 99n, GOOD_FEE)
    const before = sigChecks()
    const pending = chain.mempool.size
    for (const txs of [unfunded, farNonces, cheap, replays]) await flood(txs)

    expect(verdicts).toEqual(['ignore', 'ignore', 'ignore', 'ignore', 'ignore'])
    expect(sigChecks() - before).toBe(0)
    expect(chain.mempool.size).toBe(pending)
    expect(victim.score(attacker.peerId)).toBeGreaterThanOrEqual(0)

    const honest = transfer(payer, n, to, 5n, GOOD_FEE)
    await flood([honest])
    expect(chain.mempool.has(txId(honest))).toBe(true)
    expect(sigChecks() - before).toBe(1)
  }, 20_000)

  it('forged signatures: each distinct forgery that passes the other checks is verified once and REJECTed, scoring the sender down; a forgery from an unfunded sender costs no verify; the well-signed tx of the same nonce still gets in', async () => {
    const { victim, attacker, verdicts, flood } = await startPair(220)
    const n = await chain.nextNonce(payer.publicKey)
    const forged = Array.from({ length: 4 }, (_, i) => forge(transfer(payer, n, to, 10n ** 14n + BigInt(i), GOOD_FEE)))
    const forgedBroke = Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i) => forge(transfer(testKey('txflood-broke-forger'), 0, to, BigInt(i + 1), GOOD_FEE)))
    const before = sigChecks()
    await flood(forgedBroke)
    expect(sigChecks() - before).toBe(0)
    for (const tx of forged) await flood([tx])
    // The same forged bytes again: remembered as failed, refused without a verify, REJECTed again.
    await flood([forged[0]!, forged[0]!])
    expect(verdicts).toEqual(['ignore', 'reject', 'reject', 'reject', 'reject', 'reject'])
    expect(sigChecks() - before).toBe(forged.length)
    await waitFor(() => victim.score(attacker.peerId) < 0, 3_000, 'the sender scored down')

    const good = transfer(payer, n, to, 7n, GOOD_FEE)
    await flood([good])
    expect(chain.mempool.has(txId(good))).toBe(true)
  }, 20_000)

  it('past its refused-tx budget a neighbour\'s batches are dropped unread (no penalty) until it refills; a batch that admitted something is not charged (an honest relay forwards only those)', async () => {
    let clock = 0
    const budget = new TxRefusalBudget({ now: () => clock })
    const { victim, attacker, verdicts, flood } = await startPair(230, budget)
    const n = await chain.nextNonce(payer.publicKey)
    const junk = (b: number): SignedTx[] => Array.from({ length: MAX_TXS_PER_GOSSIP }, (_, i) => transfer(payer, n + 1_000 + i, to, BigInt(1 + b * MAX_TXS_PER_GOSSIP + i), GOOD_FEE))
    // A mixed batch first: one good tx among junk is admitted, so the batch is accepted (forwarded) and nobody is charged.
    const mixed = junk(0)
    const good = transfer(payer, n, to, 3n, GOOD_FEE)
    mixed[0] = good
    await flood(mixed)
    expect(chain.mempool.has(txId(good))).toBe(true)
    expect(verdicts).toEqual(['accept'])

    const BATCHES = 6
    let before = refused()
    for (let b = 1; b <= BATCHES; b++) await flood(junk(b))
    // The budget is four batches' worth: the other two are dropped before they are decoded.
    expect(TX_REFUSALS_BURST).toBe(4 * MAX_TXS_PER_GOSSIP)
    expect(refused() - before).toBe(TX_REFUSALS_BURST)
    expect(budget.droppedBatches).toBe(BATCHES - 4)
    expect(verdicts.slice(1)).toEqual(Array.from({ length: BATCHES }, () => 'ignore'))
    expect(victim.score(attacker.peerId)).toBeGreaterThanOrEqual(0)

    // Refilled (2 s at 128/s), its next batch is judged again.
    clock += 2_000
    before = refused()
    await flood(junk(BATCHES + 1))
    expect(refused() - before).toBe(MAX_TXS_PER_GOSSIP)
  }, 20_000)
})
