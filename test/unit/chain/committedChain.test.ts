import { describe, expect, it } from 'vitest'

import { signVote, VOTE_STEP } from '../../../consensus/bft/messages.ts'
import { verifyCommit } from '../../../consensus/bft/verifyCommit.ts'
import { computeProposerSequence } from '../../../consensus/proposerPriority.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { computeValidatorSet } from '../../../consensus/validatorSet.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { equalBytes, toHex } from '../../../src/crypto/index.ts'
import { signTx, tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

const keys = [0, 1, 2, 3].map((i) => testKey(`committed-chain-${i}`))

describe('a chain applied with commits', () => {
  it('stores each block with its commit, final at once, and keeps the proposer order across a restart', async () => {
    const lone = keys[0]!
    const genesis = testGenesis({ validators: [lone], schemes: ['stake'] })
    const tmp = tempDir()
    try {
      let chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: lone, signatureWorkers: 0 })
      for (let slot = 1; slot <= 3; slot++) await chain.produceBlock(slot, Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot)))
      expect(chain.store.head.height).toBe(3)
      expect(chain.store.finalized.height).toBe(3)
      const commit = await chain.store.getCommit(3)
      expect(commit?.signatures.map((s) => toHex(s.validator))).toEqual([toHex(lone.publicKey)])
      const before = chain.priorities()
      await chain.close()
      // A restarted node must pick the same proposers as its peers: priorities come back from disk intact.
      chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: lone, signatureWorkers: 0 })
      expect(chain.priorities()).toEqual(before)
      expect(equalBytes(chain.proposerOf(), lone.publicKey)).toBe(true)
      await chain.produceBlock(4, Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, 4)))
      expect(chain.store.head.height).toBe(4)
      await chain.close()
    } finally {
      tmp.cleanup()
    }
  })

  it('refuses a block whose commit does not prove it final (too little stake), and applies it with a quorum', async () => {
    const genesis = testGenesis({ validators: keys, schemes: ['stake'] })
    const tmp = tempDir()
    try {
      const proposer = keys.find((k) => equalBytes(k.publicKey, computeProposerSequence(keys.map((k) => ({ address: k.publicKey, stake: 1n })), 1)[0]!))
      const chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: proposer ?? keys[0]!, signatureWorkers: 0 })
      const built = (await chain.buildProposal(Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, 1))))!
      const sign = (signers: typeof keys) => ({
        chainId: genesis.chainId, height: 1, round: 0, blockId: built.hash,
        signatures: signers
          .map((k) => ({ validator: k.publicKey, signature: signVote({ chainId: genesis.chainId, step: VOTE_STEP.precommit, height: 1, round: 0, blockId: built.hash, validator: k.publicKey }, k.secretKey).signature }))
          .sort((a, b) => Buffer.compare(a.validator, b.validator)),
      })
      await expect(chain.commitBlock(built.block, sign(keys.slice(0, 2)))).rejects.toMatchObject({ code: 'NO_QUORUM' })
      expect(chain.store.head.height).toBe(0)
      await chain.commitBlock(built.block, sign(keys.slice(0, 3)), built.bytes)
      expect(chain.store.head.height).toBe(1)
      expect(chain.store.finalized.height).toBe(1)
      expect((await chain.store.getCommit(1))?.signatures).toHaveLength(3)
      await chain.close()
    } finally {
      tmp.cleanup()
    }
  })
})

describe('historical validator sets', () => {
  it('keeps the set that committed each height, so an old commit still verifies after the set changed (also after a restart)', async () => {
    const lone = keys[0]!
    const joiner = keys[1]!
    const genesis = testGenesis({ validators: [lone], schemes: ['stake'], funded: [{ key: joiner, amount: 10_000_000n }] })
    const tmp = tempDir()
    const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
    try {
      let chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: lone, signatureWorkers: 0 })
      await chain.produceBlock(1, at(1))
      expect([...chain.validatorSet().byAddress.keys()]).toEqual([toHex(lone.publicKey)])
      await chain.submitTx(signTx(joiner, 0, { type: 'stake', amount: genesis.params.minStake }))
      await chain.produceBlock(2, at(2))
      await chain.produceBlock(3, at(3))
      expect(chain.validators().map((v) => toHex(v.address)).sort()).toEqual([lone, joiner].map((k) => toHex(k.publicKey)).sort())
      // The normalized set (cached per head) follows the change too.
      expect([...chain.validatorSet().byAddress.keys()].sort()).toEqual([lone, joiner].map((k) => toHex(k.publicKey)).sort())
      await chain.close()
      chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: lone, signatureWorkers: 0 })
      const addresses = async (h: number): Promise<string[] | undefined> => (await chain.store.getValidatorSetAt(h))?.map((v) => toHex(v.address))
      // Heights 1 and 2 were committed by the genesis set; the stake in block 2 counts from height 3.
      expect(await addresses(1)).toEqual([toHex(lone.publicKey)])
      expect(await addresses(2)).toEqual([toHex(lone.publicKey)])
      expect((await addresses(3))?.sort()).toEqual([lone, joiner].map((k) => toHex(k.publicKey)).sort())
      expect(await addresses(5)).toBeUndefined()
      for (const h of [1, 2, 3]) {
        const commit = (await chain.store.getCommit(h))!
        const blockId = (await chain.store.getHashAtHeight(h))!
        expect(verifyCommit(commit, { chainId: genesis.chainId, validators: computeValidatorSet((await chain.store.getValidatorSetAt(h))!), height: h, blockId })).toBe(1_000_000n)
      }
      await chain.close()
    } finally {
      tmp.cleanup()
    }
  })
})

describe('pruned block bodies', () => {
  it('drops old bodies but keeps headers, commits, tx locations and state roots, also across a restart', async () => {
    const lone = keys[0]!
    const payer = keys[2]!
    const genesis = testGenesis({ validators: [lone], schemes: ['stake'], funded: [{ key: payer, amount: 10_000_000n }] })
    const tmp = tempDir()
    const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
    try {
      let chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: lone, signatureWorkers: 0 })
      const tx = signTx(payer, 0, { type: 'transfer', to: keys[3]!.publicKey, amount: 5_000n })
      const txId = await chain.submitTx(tx)
      for (let slot = 1; slot <= 10; slot++) await chain.produceBlock(slot, at(slot))
      const headers = await Promise.all([1, 2, 3, 4, 5].map(async (h) => (await chain.store.getBlockByHeight(h))!.header))
      expect(await chain.store.pruneBodies(6)).toBe(6)
      await chain.close()
      chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: lone, signatureWorkers: 0 })
      expect(chain.store.prunedBelow).toBe(6)
      for (const h of [1, 2, 3, 4, 5]) {
        const hash = (await chain.store.getHashAtHeight(h))!
        expect(await chain.store.getBlock(hash)).toBeUndefined()
        expect(await chain.store.hasBlock(hash)).toBe(true)
        expect(await chain.store.getHeader(hash)).toEqual(headers[h - 1])
        expect(await chain.store.getCommit(h)).toBeDefined()
        // The state tree keeps every root: a proof against a pruned block's header still answers.
        expect((await chain.store.tree.prove(headers[h - 1]!.stateRoot, [new Uint8Array([1])])).length).toBe(1)
      }
      expect(await chain.store.getBlockByHeight(6)).toBeDefined()
      expect((await chain.store.getTxLocation(txId))?.height).toBe(1)
      await expect(chain.store.getTx(txId)).rejects.toMatchObject({ code: 'PRUNED' })
      // Pruning never passes the head, and the chain goes on.
      expect(await chain.store.pruneBodies(1_000)).toBe(10)
      await chain.produceBlock(11, at(11))
      expect(chain.store.head.height).toBe(11)
      await chain.close()
    } finally {
      tmp.cleanup()
    }
  })
})
