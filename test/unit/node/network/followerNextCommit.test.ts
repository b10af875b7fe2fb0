import { afterEach, describe, expect, it } from 'vitest'

import type { Hash } from '../../../../blocks/schema.ts'
import { computeSlotStart } from '../../../../consensus/slot.ts'
import { Chain, type ImportedBlock } from '../../../../src/chain/chain.ts'
import { toHex } from '../../../../src/crypto/index.ts'
import { createLogger } from '../../../../src/node/logger.ts'
import { ConsensusDriver } from '../../../../src/node/network/consensusDriver.ts'
import { computeDefaultTimeouts } from '../../../../src/node/node.ts'
import { soleValidatorCommit, tempDir, testGenesis, testKey, transfer } from '../../../support/chainFixtures.ts'

/**
 * A follower's commit feed runs ahead of its commits under load: the committed block of the next
 * height arrives while this one is still being checked and applied. The driver keeps it and takes
 * it up when the height starts (with its offered write set), instead of asking for a range sync,
 * which would fetch the block again and run it.
 */
const validator = testKey('next-commit-validator')
const payer = testKey('next-commit-payer')
const genesis = testGenesis({ validators: [validator], schemes: ['stake'], genesisTime: BigInt(Date.now() - 60_000), funded: [{ key: payer, amount: 10n ** 12n }] })
const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function open(opts: { validatorKey?: typeof validator } = {}): Promise<Chain> {
  const tmp = tempDir('xsc-next-commit-')
  cleanups.push(tmp.cleanup)
  const chain = await Chain.open({ dataDir: tmp.dir, genesis, signatureWorkers: 0, ...opts })
  cleanups.push(() => chain.close())
  return chain
}

const commitFor = (blockId: Hash, height: number) => soleValidatorCommit(genesis, validator, blockId, height)

async function setup() {
  // Two committed blocks with transfers, as the validator made them.
  const producer = await open({ validatorKey: validator })
  const made: ImportedBlock[] = []
  for (let h = 1; h <= 2; h++) {
    await producer.submitTx(transfer(payer, h - 1, testKey(`next-commit-to-${h}`).publicKey, 10n))
    const built = (await producer.buildProposal(at(h + 1)))!
    made.push(await producer.commitBlock(built.block, commitFor(built.hash, h), built.bytes))
  }
  const follower = await open()
  const syncs: string[] = []
  const driver = new ConsensusDriver(
    { now: Date.now, timeouts: computeDefaultTimeouts(genesis.slotMs) },
    { chain: follower, log: createLogger({ level: 'silent' }), publish: () => {}, requestSync: (peer) => void syncs.push(peer), requestCommittedBlock: (peer) => void syncs.push(peer), evidence: { add: () => false } },
  )
  cleanups.push(() => driver.stop())
  await driver.start()
  const deliver = (m: ImportedBlock): Promise<unknown> => driver.handleCommittedBlock({ block: m.bytes!, commit: m.commit! }, 'feed', { writes: [...m.writes], refused: () => { throw new Error('an honest write set refused') } })
  const reach = async (height: number): Promise<void> => {
    const until = Date.now() + 5_000
    while (follower.head.height < height && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
  }
  return { made, follower, syncs, deliver, reach }
}

describe('a follower\'s next committed block', () => {
  it('arriving while its parent is still being applied, is kept and applied by its write set when its height starts, with no range sync', async () => {
    const { made, follower, syncs, deliver, reach } = await setup()
    // Both through the driver's lock back to back: height 1's check is under way (it reads the store) when height 2's arrives.
    await Promise.all([deliver(made[0]!), deliver(made[1]!)])
    expect(follower.head.height).toBeLessThan(2)
    await reach(2)
    expect(toHex(follower.store.head.hash)).toBe(toHex(made[1]!.hash))
    expect(follower.verificationCounts.appliedByWrites).toBe(2)
    expect(syncs).toEqual([])
  })

  it('arriving when this height\'s commit was missed, asks for a range sync as before, and is still taken up once the parent comes', async () => {
    const { made, follower, syncs, deliver, reach } = await setup()
    await deliver(made[1]!)
    expect(syncs).toEqual(['feed'])
    // Range sync (here: the parent's commit arriving late) brings height 1; the kept block follows by its writes.
    await deliver(made[0]!)
    await reach(2)
    expect(toHex(follower.store.head.hash)).toBe(toHex(made[1]!.hash))
    expect(follower.verificationCounts.appliedByWrites).toBe(2)
  })
})
