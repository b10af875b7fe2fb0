import { afterEach, describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { Block } from '../../../blocks/schema.ts'
import { verifyProofs } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { signHeader } from '../../../consensus/stake.ts'
import { Chain, type ImportedBlock } from '../../../src/chain/chain.ts'
import { equalBytes, hash, type KeyPair, toHex, utf8 } from '../../../src/crypto/index.ts'
import { createNetNode } from '../../../src/net/index.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { ValidatorNetwork } from '../../../src/node/validatorNetwork.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'
import { waitFor } from '../../support/nodeProcess.ts'

const v0 = testKey('switch-v0')
const v1 = testKey('switch-v1')
const alice = testKey('switch-alice')
const bob = testKey('switch-bob')
const genesis = testGenesis({ validators: [v0, v1], funded: [{ key: alice, amount: 1_000_000n }], schemes: ['stake', 'time', 'work'] })
const log = createLogger({ level: 'silent' })

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function startPeer(key: KeyPair): Promise<{ chain: Chain; vn: ValidatorNetwork }> {
  const tmp = tempDir('xsc-switch-')
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: key, signatureWorkers: 0 })
  const net = createNetNode({ secretKey: hash(utf8(`switch-p2p-${toHex(key.publicKey)}`)), chainId: genesis.chainId, heartbeatMs: 100 })
  // No validator key for the network side: no attestations, so fork choice is plain longest-chain here.
  const vn = new ValidatorNetwork({}, { chain, net, log })
  cleanups.push(tmp.cleanup, () => chain.close(), () => net.stop(), () => vn.stop())
  return { chain, vn }
}

/** Proposes through `produce` in the first slot after `after` that belongs to `key`. */
async function produce(p: { chain: Chain; vn: ValidatorNetwork }, key: KeyPair, after: number): Promise<ImportedBlock> {
  for (let slot = after + 1; ; slot++) {
    if (!equalBytes(p.chain.proposerOf(slot), key.publicKey)) continue
    const b = await p.vn.produce(slot, Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot)))
    if (b) return b
  }
}

describe('validator network fork choice over libp2p', () => {
  it('range-syncs a longer competing branch, switches to it, re-admits the reverted tx, then follows gossip', async () => {
    const a = await startPeer(v0)
    const b = await startPeer(v1)
    await a.vn.start()
    await b.vn.start()
    // Apart, each builds its own branch: A one block with a transfer, B two empty blocks.
    a.chain.submitTx(transfer(alice, 0, bob.publicKey, 700n))
    const a1 = await produce(a, v0, 100)
    expect(a1.block.entries).toHaveLength(1)
    const b1 = await produce(b, v1, 100)
    const b2 = await produce(b, v1, b1.block.header.slot)
    expect(readAccount(a.chain.store.state, bob.publicKey).balance).toBe(700n)

    await a.vn.net.start()
    await b.vn.net.start()
    await a.vn.net.dial(b.vn.net.multiaddrs()[0]!)
    await waitFor(async () => equalBytes(a.chain.head.hash, b2.hash), 10_000, 'A to switch to the longer branch')
    expect(toHex(a.chain.head.header.stateRoot)).toBe(toHex(b.chain.head.header.stateRoot))
    expect(readAccount(a.chain.store.state, bob.publicKey).balance).toBe(0n)
    expect(a.chain.mempool.size).toBe(1) // the transfer of the reverted a1 is pending again
    expect(a.vn.forkChoice.has(a1.hash)).toBe(true) // a1 stays known as a competing branch

    // Then gossip: B's next block reaches A and is imported on its head.
    await waitFor(async () => b.vn.net.topicPeers('blocks').length === 1, 5_000, 'subscriptions exchanged')
    const b3 = await produce(b, v1, b2.block.header.slot)
    await waitFor(async () => equalBytes(a.chain.head.hash, b3.hash), 10_000, 'A to import B\'s gossiped block')
  }, 30_000)

  it('ignores a block from the future without penalty and imports it once its time has come', async () => {
    const a = await startPeer(v0)
    const b = await startPeer(v1)
    await a.vn.start()
    // A valid block of v1 for a slot ~4-8 s ahead: its timestamp is beyond now + drift.
    const now = Date.now()
    let future: ImportedBlock | undefined
    for (let slot = b.chain.currentSlot(now) + 4; !future; slot++) {
      if (equalBytes(b.chain.proposerOf(slot), v1.publicKey)) future = await b.chain.produceBlock(slot, Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot)))
    }
    expect(Number(future.block.header.timestamp)).toBeGreaterThan(Date.now() + genesis.consensus.driftMs)
    expect(await a.vn.processBlock(encode(Block, future.block))).toBe('ignore')
    expect(a.chain.head.height).toBe(0)
    await waitFor(async () => equalBytes(a.chain.head.hash, future.hash), 15_000, 'the held block to be imported at its time')
    expect(Date.now()).toBeGreaterThanOrEqual(Number(future.block.header.timestamp) - genesis.consensus.driftMs)
  }, 30_000)

  it('maps gossiped blocks to verdicts: wrong proposer and garbage rejected, a known block ignored, a good one accepted', async () => {
    const a = await startPeer(v0)
    const b = await startPeer(v1)
    await a.vn.start()
    const b1 = await produce(b, v1, 100)
    // The same block claimed by v0 (properly signed by v0) in v1's slot.
    const stolenHeader = signHeader({ ...b1.block.header, proposer: v0.publicKey }, v0.secretKey)
    const stolen = encode(Block, { header: stolenHeader, entries: b1.block.entries })
    const ctx = { registry: a.chain.registry, genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: a.chain.validators(), parentSlot: 0 }
    expect(() => verifyProofs(ctx, stolenHeader)).toThrow(expect.objectContaining({ code: 'WRONG_PROPOSER' }))
    expect(await a.vn.processBlock(stolen)).toBe('reject')
    expect(await a.vn.processBlock(new Uint8Array([0x93, 1, 2, 3]))).toBe('reject')
    expect(await a.vn.processBlock(encode(Block, b1.block))).toBe('accept')
    expect(toHex(a.chain.head.hash)).toBe(toHex(b1.hash))
    expect(await a.vn.processBlock(encode(Block, b1.block))).toBe('ignore')
  })
})
