import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'

import { blockHash, computeBodyRoot } from '../../../blocks/ids.ts'
import { type Block, CAPABILITY, type Hash, type SignedTx } from '../../../blocks/schema.ts'
import { createRegistry } from '../../../consensus/proofScheme.ts'
import { sealBlock } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { Chain } from '../../../src/chain/chain.ts'
import type { ChainOpts, ImportedBlock, OfferedWrites } from '../../../src/chain/chainTypes.ts'
import { compareBytes, toHex } from '../../../src/crypto/index.ts'
import { computeStateRoot, type StateWrite } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { signTx, soleValidatorCommit, tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

// docs/consensus.md "What a commit vouches for": a follower may apply a committed block by the
// write set a validator offered (the commit feed) instead of running it, when those writes take
// the parent's state root to the header's. These tests hold that path to the full one: the same
// head, state and host index over random blocks, and a tampered write set never committed.
const proposer = testKey('writesets-validator')
const senders = Array.from({ length: 4 }, (_, i) => testKey(`writesets-sender-${i}`))
const hosts = Array.from({ length: 2 }, (_, i) => testKey(`writesets-host-${i}`))
const genesis = testGenesis({ validators: [proposer], schemes: ['stake'], funded: [...senders, ...hosts].map((key) => ({ key, amount: 10n ** 15n })) })
const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function open(opts: Partial<ChainOpts> = {}): Promise<Chain> {
  const tmp = tempDir('xsc-writesets-')
  cleanups.push(tmp.cleanup)
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0, ...opts })
  cleanups.push(() => chain.close())
  return chain
}

const commitFor = (blockId: Hash, height: number) => soleValidatorCommit(genesis, proposer, blockId, height)

function hostJoin(i: number): SignedTx {
  return signTx(hosts[i]!, 0, {
    type: 'host.join',
    host: { coord: { x: 10 + i, y: 10, z: 10 }, zone: `zone-${i}`, capacityBytes: 1n << 30n, capabilities: CAPABILITY.storage | CAPABILITY.compute, askPerFuel: 1n, askPerByteEpoch: 1n, peerId: `peer-${i}`, memoryBytes: 16n << 20n, encryptionKey: undefined },
  })
}

/** One offer of `writes` that records whether it was refused. */
function offer(writes: StateWrite[]): OfferedWrites & { refusals: number } {
  const o = { writes, refusals: 0, refused: () => void o.refusals++ }
  return o
}

/** The producer builds a block of `txs` on its head and commits it; its ImportedBlock carries the writes it made. */
async function produce(producer: Chain, slot: number, txs: SignedTx[]): Promise<ImportedBlock> {
  for (const tx of txs) await producer.submitTx(tx)
  const built = (await producer.buildProposal(at(slot)))!
  return producer.commitBlock(built.block, commitFor(built.hash, built.block.header.height), built.bytes)
}

const wholeState = async (chain: Chain): Promise<string[]> => (await chain.store.readWholeState()).map((w) => `${toHex(w.key)}=${toHex(w.value!)}`)

/** Random blocks: each a few transfers from the funded senders to a few recipients (new accounts among them). */
const arbBlocks = fc.array(
  fc.array(fc.record({ from: fc.nat({ max: senders.length - 1 }), to: fc.nat({ max: 7 }), amount: fc.bigInt({ min: 1n, max: 10n ** 9n }) }), { minLength: 0, maxLength: 6 }),
  { minLength: 1, maxLength: 4 },
)

describe('a committed block applied by its offered write set', () => {
  it('gives the same head, state and host index as running it, over random blocks', async () => {
    await fc.assert(fc.asyncProperty(arbBlocks, async (blocks) => {
      const producer = await open({ validatorKey: proposer })
      const byWrites = await open()
      const byRun = await open()
      const nonces = new Map<number, number>()
      const recipients = Array.from({ length: 8 }, (_, i) => testKey(`writesets-recipient-${i}`).publicKey)
      for (const [i, transfers] of blocks.entries()) {
        const txs = transfers.map((t) => {
          const nonce = nonces.get(t.from) ?? 0
          nonces.set(t.from, nonce + 1)
          return transfer(senders[t.from]!, nonce, recipients[t.to]!, t.amount)
        })
        // A host joins in the first block: the follower's host index follows from the writes alone.
        const made = await produce(producer, i + 1, i === 0 ? [...txs, hostJoin(0)] : txs)
        const offered = offer([...made.writes])
        const bytes = made.bytes!
        await byWrites.commitBlock(made.block, made.commit!, bytes, offered)
        await byRun.commitBlock(made.block, made.commit!, bytes)
        expect(offered.refusals).toBe(0)
      }
      expect(toHex(byWrites.store.head.hash)).toBe(toHex(producer.store.head.hash))
      expect(toHex(byWrites.store.head.header.stateRoot)).toBe(toHex(byRun.store.head.header.stateRoot))
      expect(await wholeState(byWrites)).toEqual(await wholeState(byRun))
      expect(byWrites.verificationCounts.appliedByWrites).toBe(blocks.length)
      expect(byRun.verificationCounts.appliedByWrites).toBe(0)
      expect(byWrites.hostIndex.get(hosts[0]!.publicKey)?.params.zone).toBe('zone-0')
      for (const c of cleanups.splice(0).reverse()) await c()
    }), { numRuns: 8 })
  }, 120_000)

  it('a tampered write set is never committed: the block is run instead, the offer refused, and the state is the true one', async () => {
    const producer = await open({ validatorKey: proposer })
    const made = await produce(producer, 1, [transfer(senders[0]!, 0, senders[1]!.publicKey, 700n), hostJoin(1)])
    const writes = [...made.writes]
    const account = writes.findIndex((w) => toHex(w.key) === toHex(TABLES.account.key(senders[1]!.publicKey)))
    expect(account).toBeGreaterThanOrEqual(0)
    // An account the block does not touch, as it is stored.
    const truthValue = (await producer.store.readWholeState()).find((w) => toHex(w.key) === toHex(TABLES.account.key(senders[2]!.publicKey)))!.value!
    expect(writes.some((w) => toHex(w.key) === toHex(TABLES.account.key(senders[2]!.publicKey)))).toBe(false)
    const bumped = Uint8Array.from(writes[account]!.value!)
    bumped[bumped.length - 1]! ^= 1
    const tampers: [string, StateWrite[]][] = [
      ['a value changed', writes.map((w, i) => (i === account ? { key: w.key, value: bumped } : w))],
      ['a write left out', writes.filter((_, i) => i !== account)],
      ['a row added', [...writes, { key: TABLES.account.key(testKey('writesets-minted').publicKey), value: writes[account]!.value }].sort((a, b) => compareBytes(a.key, b.key))],
      ['a row deleted', writes.map((w, i) => (i === account ? { key: w.key, value: undefined } : w))],
      ['another block\'s writes', []],
      // Padding: writes that change nothing give the right root, but only cost the follower work (a block's own set has none).
      ['a key set to the value it holds', [...writes, { key: TABLES.account.key(senders[2]!.publicKey), value: truthValue }].sort((a, b) => compareBytes(a.key, b.key))],
      ['an absent key deleted', [...writes, { key: TABLES.account.key(testKey('writesets-nobody').publicKey), value: undefined }].sort((a, b) => compareBytes(a.key, b.key))],
    ]
    const truth = await open()
    await truth.commitBlock(made.block, made.commit!, made.bytes)
    for (const [what, tampered] of tampers) {
      const follower = await open()
      const offered = offer(tampered)
      await follower.commitBlock(made.block, made.commit!, made.bytes, offered)
      expect(offered.refusals, what).toBe(1)
      expect(follower.verificationCounts).toMatchObject({ appliedByWrites: 0, writeSetsRefused: 1 })
      expect(toHex(follower.store.head.hash)).toBe(toHex(made.hash))
      expect(await wholeState(follower), what).toEqual(await wholeState(truth))
    }
  })

  it('an offer is used only with a commit and only by a node that trusts commits; a verdict by writes never stands for a full check', async () => {
    const producer = await open({ validatorKey: proposer })
    const made = await produce(producer, 1, [transfer(senders[0]!, 0, senders[2]!.publicKey, 5n)])
    // No valid commit: refused before anything, the writes unused.
    const follower = await open()
    const wrongCommit = commitFor(made.hash, 2)
    await expect(follower.commitBlock(made.block, wrongCommit, made.bytes, offer([...made.writes]))).rejects.toThrow()
    expect(follower.store.head.height).toBe(0)
    // A proposal's full check (a voter's) ignores an offer.
    await follower.checkBlock(made.block, 0, { writes: offer([]) })
    expect(follower.verificationCounts).toMatchObject({ appliedByWrites: 0, signaturesCheckedAtImport: 1 })
    // A verdict for a commit (a follower's BFT machine) uses it; it never stands for a full check
    // (which runs the block, its signature checked), and the commit reuses it.
    const trusting = await open()
    await trusting.checkBlock(made.block, 0, { forCommitOnly: true, writes: offer([...made.writes]) })
    expect(trusting.verificationCounts).toMatchObject({ appliedByWrites: 0, signaturesCheckedAtImport: 0 })
    await trusting.checkBlock(made.block)
    expect(trusting.verificationCounts.signaturesCheckedAtImport).toBe(1)
    const again = await open()
    await again.checkBlock(made.block, 0, { forCommitOnly: true, writes: offer([...made.writes]) })
    await again.commitBlock(made.block, made.commit!, made.bytes)
    expect(toHex(again.store.head.hash)).toBe(toHex(made.hash))
    expect(again.verificationCounts).toMatchObject({ appliedByWrites: 1, signaturesCheckedAtImport: 0 })
    // A node that checks committed blocks in full (--check-committed-signatures) runs it.
    const auditor = await open({ checkCommittedSignatures: true })
    await auditor.commitBlock(made.block, made.commit!, made.bytes, offer([]))
    expect(auditor.verificationCounts).toMatchObject({ appliedByWrites: 0, writeSetsRefused: 0 })
  })

  it('the trade it makes: a quorum that signs a header for forged writes moves a trusting follower, and an auditing node refuses the block', async () => {
    // What "What a commit vouches for" gives up: more than 2/3 of the stake precommitting a block
    // whose state root is not its entries' (here: tokens minted to an outsider).
    const producer = await open({ validatorKey: proposer })
    const made = await produce(producer, 1, [transfer(senders[0]!, 0, senders[3]!.publicKey, 9n)])
    const minted = testKey('writesets-forged').publicKey
    const forged: StateWrite[] = [...made.writes, { key: TABLES.account.key(minted), value: made.writes.find((w) => w.key[0] === TABLES.account.prefix[0])!.value }].sort((a, b) => compareBytes(a.key, b.key))
    const parent = await open()
    const prevRoot = parent.store.head.header.stateRoot
    await parent.store.load(forged.map((w) => w.key))
    const forgedRoot = (await parent.store.withLoaded(() => computeStateRoot(parent.store.state.treeNodes, prevRoot, forged))).stateRoot
    const { proofs: _p, signature: _s, ...fields } = made.block.header
    const header = sealBlock(
      { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: parent.validators(), parentSlot: 0, secretKey: proposer.secretKey },
      { ...fields, stateRoot: forgedRoot, bodyRoot: computeBodyRoot(made.block.entries) },
    )
    const block: Block = { header, entries: made.block.entries }
    const commit = commitFor(blockHash(header), 1)
    await parent.commitBlock(block, commit, undefined, offer(forged))
    expect(parent.store.head.header.stateRoot).toEqual(forgedRoot)
    const auditor = await open({ checkCommittedSignatures: true })
    await expect(auditor.commitBlock(block, commit, undefined, offer(forged))).rejects.toMatchObject({ code: 'BAD_STATE_ROOT' })
  })
})
