import { afterEach, describe, expect, it, vi } from 'vitest'

import { decode } from '../../../blocks/codec.ts'
import { Block } from '../../../blocks/schema.ts'
import { signVote, VOTE_STEP } from '../../../consensus/bft/messages.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { equalBytes } from '../../../src/crypto/index.ts'
import { readAccount } from '../../../src/state/accounts.ts'
import { tempDir, testGenesis, testKey, transfer } from '../../support/chainFixtures.ts'

/**
 * Ledger txs applied (applyLedgerTx calls, whoever makes them): a proposer applies each of its
 * block's txs once, on the block's own transition while choosing them, not again to seal the
 * block nor to check it before committing.
 */
const transitions = vi.hoisted(() => ({ count: 0 }))
vi.mock('../../../src/state/applyLedger.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/state/applyLedger.ts')>()
  return { ...original, applyLedgerTx: (...args: Parameters<typeof original.applyLedgerTx>) => { transitions.count++; return original.applyLedgerTx(...args) } }
})

const validator = testKey('validator-0')
const alice = testKey('alice')
const bob = testKey('bob')
const genesis = testGenesis({ validators: [validator], funded: [{ key: alice, amount: 1_000_000n }] })
const T0 = Number(genesis.genesisTime)

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups.length = 0
})

async function openChain(validatorKey?: typeof validator): Promise<Chain> {
  const tmp = tempDir()
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, ...(validatorKey ? { validatorKey } : {}), signatureWorkers: 0 })
  cleanups.push(tmp.cleanup, () => chain.close())
  return chain
}

describe('a proposer commits the transition it built its block with', () => {
  it('produceBlock applies each tx once; the block is the one a follower checks and commits to the same state', async () => {
    const proposer = await openChain(validator)
    const follower = await openChain()
    for (let n = 0; n < 3; n++) await proposer.submitTx(transfer(alice, n, bob.publicKey, 100n, 2n))
    const before = transitions.count
    const made = (await proposer.produceBlock(1, T0 + 1000))!
    expect(made.block.entries).toHaveLength(3)
    expect(transitions.count - before).toBe(3)
    // A follower runs its own transition and reaches the root the proposer sealed and committed.
    const block = decode(Block, made.bytes ?? (await proposer.store.getBlockBytes(made.hash))!)
    await follower.commitBlock(block, made.commit!)
    expect(equalBytes(follower.head.header.stateRoot, proposer.head.header.stateRoot)).toBe(true)
    expect(readAccount(follower.store.state, bob.publicKey)).toEqual(readAccount(proposer.store.state, bob.publicKey))
    expect(readAccount(proposer.store.state, bob.publicKey).balance).toBe(300n)
  })

  it('buildProposal applies its tx once, and committing the proposal with its commit reuses that transition', async () => {
    const proposer = await openChain(validator)
    await proposer.submitTx(transfer(alice, 0, bob.publicKey, 100n, 2n))
    const before = transitions.count
    const proposal = (await proposer.buildProposal(T0 + 1000))!
    const vote = { chainId: genesis.chainId, step: VOTE_STEP.precommit, height: 1, round: 0, blockId: proposal.hash, validator: validator.publicKey }
    await proposer.commitBlock(proposal.block, { chainId: genesis.chainId, height: 1, round: 0, blockId: proposal.hash, signatures: [{ validator: validator.publicKey, signature: signVote(vote, validator.secretKey).signature }] })
    expect(transitions.count - before).toBe(1)
    expect(proposer.head.height).toBe(1)
    expect(readAccount(proposer.store.state, bob.publicKey).balance).toBe(100n)
  })
})
