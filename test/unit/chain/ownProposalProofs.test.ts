import { afterEach, describe, expect, it, vi } from 'vitest'

import * as chainSteps from '../../../consensus/iterateSha256.ts'
import { computeSlotStart } from '../../../consensus/slot.ts'
import { Chain } from '../../../src/chain/chain.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'

// The time proof's hash chain, counted (the real one runs).
vi.mock('../../../consensus/iterateSha256.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../consensus/iterateSha256.ts')>()
  return { ...real, iterateSha256: vi.fn(real.iterateSha256) }
})

const key = testKey('own-proposal-proofs')
const genesis = testGenesis({ validators: [key], schemes: ['stake', 'time'] })
const slotOneMs = Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, 1))

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function open(validatorKey?: KeyPair): Promise<Chain> {
  const tmp = tempDir()
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0, ...(validatorKey ? { validatorKey } : {}) })
  cleanups.push(tmp.cleanup, () => chain.close())
  return chain
}

describe('a proposer does not verify the proofs it just sealed; every other node does', () => {
  it('building a proposal runs the time chain once (to prove it), checking it elsewhere runs it once more', async () => {
    const steps = vi.mocked(chainSteps.iterateSha256)
    const proposer = await open(key)
    const follower = await open()
    steps.mockClear()
    const built = (await proposer.buildProposal(slotOneMs))!
    // One run per checkpoint segment, to compute the proof; none to verify it again.
    expect(steps).toHaveBeenCalledTimes(genesis.consensus.timeCheckpoints)
    steps.mockClear()
    await follower.checkBlock(built.block)
    expect(steps).toHaveBeenCalledTimes(genesis.consensus.timeCheckpoints)
  })
})
