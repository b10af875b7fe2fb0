import { afterEach, describe, expect, it } from 'vitest'

import { blockHash } from '../../../blocks/ids.ts'
import type { Block } from '../../../blocks/schema.ts'
import { type Commit, signVote, VOTE_STEP } from '../../../consensus/bft/messages.ts'
import { createRegistry } from '../../../consensus/proofScheme.ts'
import { sealBlock } from '../../../consensus/sealBlock.ts'
import { computeSealFields } from '../../../consensus/sealFields.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { equalBytes, type KeyPair } from '../../../src/crypto/index.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

const keys = [0, 1, 2, 3].map((i) => testKey(`block-proposer-${i}`))
const genesis = testGenesis({ validators: keys, schemes: ['stake'] })
const slotOneMs = Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, 1))

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function open(key?: KeyPair): Promise<Chain> {
  const tmp = tempDir()
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0, ...(key ? { validatorKey: key } : {}) })
  cleanups.push(tmp.cleanup, () => chain.close())
  return chain
}

/** Precommits of every validator for `blockId` at height 1, `round`: a commit with all the stake. */
function commitOf(blockId: Uint8Array, round: number): Commit {
  const signatures = keys
    .map((k) => ({ validator: k.publicKey, signature: signVote({ chainId: genesis.chainId, step: VOTE_STEP.precommit, height: 1, round, blockId, validator: k.publicKey }, k.secretKey).signature }))
    .sort((a, b) => Buffer.compare(a.validator, b.validator))
  return { chainId: genesis.chainId, height: 1, round, blockId, signatures }
}

/**
 * A block `key` builds and seals for the round it proposes, then re-sealed (same body, state
 * root and reveal, valid proofs and signature) as if built for `round`: what a validator that
 * is not that round's proposer could gossip or get committed.
 */
async function resealedFor(key: KeyPair, verifier: Chain, round: number): Promise<Block> {
  const own = [0, 1, 2, 3, 4, 5, 6, 7].find((r) => equalBytes(verifier.proposerOf(r), key.publicKey))!
  const built = (await (await open(key)).buildProposal(slotOneMs, undefined, own))!
  const seal = { registry: createRegistry(genesis.consensus), genesisTime: genesis.genesisTime, slotMs: genesis.slotMs, validators: genesis.validators, parentSlot: 0, secretKey: key.secretKey }
  return { header: sealBlock(seal, computeSealFields({ ...built.block.header, round })), entries: built.block.entries }
}

describe('a block is signed by the proposer of its (height, round)', () => {
  it('refuses a valid block signed by another validator, as a proposal and with a commit of all the stake', async () => {
    const verifier = await open()
    const intruder = keys.find((k) => !equalBytes(k.publicKey, verifier.proposerOf(0)))!
    const block = await resealedFor(intruder, verifier, 0)
    expect(() => verifier.verifyProposalHeader(block.header)).toThrow(expect.objectContaining({ code: 'WRONG_PROPOSER' }))
    await expect(verifier.checkBlock(block)).rejects.toMatchObject({ code: 'WRONG_PROPOSER' })
    await expect(verifier.commitBlock(block, commitOf(blockHash(block.header), 0))).rejects.toMatchObject({ code: 'WRONG_PROPOSER' })
    expect(verifier.store.head.height).toBe(0)
  })

  it('takes a block built for the round its signer proposes, as a value of that round or later (never earlier), and with a commit', async () => {
    const verifier = await open()
    const round = [1, 2, 3, 4, 5].find((r) => !equalBytes(verifier.proposerOf(r), verifier.proposerOf(0)))!
    const proposer = keys.find((k) => equalBytes(k.publicKey, verifier.proposerOf(round)))!
    const built = (await (await open(proposer)).buildProposal(slotOneMs, undefined, round))!
    expect(built.block.header.round).toBe(round)
    await expect(verifier.checkBlock(built.block, round - 1)).rejects.toMatchObject({ code: 'BAD_VALID_ROUND' })
    await verifier.checkBlock(built.block, round)
    await verifier.checkBlock(built.block, round + 1)
    await verifier.commitBlock(built.block, commitOf(built.hash, round), built.bytes)
    expect(verifier.store.head.height).toBe(1)
  })

  it('refuses a round beyond the bound (finding its proposer would cost O(round · validators))', async () => {
    const verifier = await open()
    const block = await resealedFor(keys[0]!, verifier, 5000)
    await expect(verifier.checkBlock(block)).rejects.toMatchObject({ code: 'BAD_PARAMS' })
  })
})
