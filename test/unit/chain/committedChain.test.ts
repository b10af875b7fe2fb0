import { describe, expect, it } from 'vitest'

import { signVote, VOTE_STEP } from '../../../consensus/bft/messages.ts'
import { computeProposerSequence } from '../../../consensus/proposerPriority.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { Chain } from '../../../src/chain/chain.ts'
import { equalBytes, toHex } from '../../../src/crypto/index.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

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
