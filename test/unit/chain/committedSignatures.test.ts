import { afterEach, describe, expect, it } from 'vitest'

import { blockHash, computeBodyRoot } from '../../../blocks/ids.ts'
import type { Block, Hash, SignedTx } from '../../../blocks/schema.ts'
import { signVote, VOTE_STEP } from '../../../consensus/bft/messages.ts'
import { createRegistry } from '../../../consensus/proofScheme.ts'
import { sealBlock } from '../../../consensus/sealBlock.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { Chain } from '../../../src/chain/chain.ts'
import type { ChainOpts } from '../../../src/chain/chainTypes.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

// docs/consensus.md "What a commit vouches for": a block taken with a verified commit is not
// checked again for its tx and receipt signatures (the validators whose precommits make the
// quorum checked them before voting); everything else, the state root included, still is.
const proposer = testKey('committed-signatures-validator')
const alice = testKey('committed-signatures-alice')
const bob = testKey('committed-signatures-bob')
const genesis = testGenesis({ validators: [proposer], schemes: ['stake'], funded: [{ key: alice, amount: 1_000_000n }] })
const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

async function open(opts: Partial<ChainOpts> = {}): Promise<Chain> {
  const tmp = tempDir()
  cleanups.push(tmp.cleanup)
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0, ...opts })
  cleanups.push(() => void chain.close())
  return chain
}

/** The lone validator's precommit for `blockId` at height 1: a quorum. */
function commitFor(blockId: Hash) {
  const vote = signVote({ chainId: genesis.chainId, step: VOTE_STEP.precommit, height: 1, round: 0, blockId, validator: proposer.publicKey }, proposer.secretKey)
  return { chainId: genesis.chainId, height: 1, round: 0, blockId, signatures: [{ validator: proposer.publicKey, signature: vote.signature }] }
}

/**
 * A proposal of the validator's carrying a transfer whose signature was altered afterwards,
 * sealed again by the validator (what a Byzantine quorum could finalize). The transfer's effect
 * on state does not depend on its signature, so the state root stays right.
 */
async function forgedProposal(): Promise<{ block: Block; hash: Hash }> {
  const producer = await open({ validatorKey: proposer })
  await producer.submitTx(transfer(alice, 0, bob.publicKey, 500n))
  const built = (await producer.buildProposal(at(1)))!
  const entries = built.block.entries.map((e) => {
    if (e.type !== 'tx') return e
    const signature = Uint8Array.from(e.tx.signature)
    signature[0]! ^= 1
    const tx: SignedTx = { body: e.tx.body, signature }
    return { ...e, tx }
  })
  const { proofs: _proofs, signature: _signature, ...fields } = built.block.header
  const header = sealBlock(
    { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: producer.validators(), parentSlot: 0, secretKey: proposer.secretKey },
    { ...fields, bodyRoot: computeBodyRoot(entries) },
  )
  const block = { header, entries }
  return { block, hash: blockHash(header) }
}

describe('signatures of a committed block', () => {
  it('a follower takes a block with a verified commit without checking its tx signatures, and still computes the same state', async () => {
    const { block, hash } = await forgedProposal()
    const follower = await open()
    await follower.commitBlock(block, commitFor(hash))
    expect(toHex(follower.store.head.hash)).toBe(toHex(hash))
    expect(readAccount(follower.store.state, bob.publicKey).balance).toBe(500n)
    expect(follower.signaturesCheckedAtImport).toBe(0)
  })

  it('the same block is refused for its bad signature without a commit, as a proposal, and by a node that checks committed blocks in full', async () => {
    const { block, hash } = await forgedProposal()
    await expect((await open()).importBlock(block)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    await expect((await open()).checkBlock(block)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    const auditor = await open({ checkCommittedSignatures: true })
    await expect(auditor.commitBlock(block, commitFor(hash))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' })
    expect(auditor.store.head.height).toBe(0)
  })

  it('a commit for another block, or a block whose state root is wrong, is still refused', async () => {
    const { block, hash } = await forgedProposal()
    const follower = await open()
    const other = Uint8Array.from(hash)
    other[0]! ^= 1
    await expect(follower.commitBlock(block, commitFor(other))).rejects.toThrow()
    const { proofs: _proofs, signature: _signature, ...fields } = block.header
    const wrongRoot = Uint8Array.from(fields.stateRoot)
    wrongRoot[0]! ^= 1
    const header = sealBlock(
      { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: follower.validators(), parentSlot: 0, secretKey: proposer.secretKey },
      { ...fields, stateRoot: wrongRoot },
    )
    await expect(follower.commitBlock({ header, entries: block.entries }, commitFor(blockHash(header)))).rejects.toMatchObject({ code: 'BAD_STATE_ROOT' })
    expect(follower.store.head.height).toBe(0)
  })
})
