import { afterEach, describe, expect, it } from 'vitest'

import { BeaconChain, computeBeaconSeed, computeNextMix, NO_REVEAL } from '../../../../consensus/beacon.ts'
import { computeSlotStart } from '../../../../consensus/slot.ts'
import { Chain } from '../../../../src/chain/chain.ts'
import { toHex } from '../../../../src/crypto/index.ts'
import { readBeaconMix, readBeaconRecord } from '../../../../src/state/beaconState.ts'
import { tempDir, testGenesis, testKey } from '../../../support/chainFixtures.ts'

const validator = testKey('proposer-beacon-0')
const LENGTH = 4

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function open(genesis: ReturnType<typeof testGenesis>, dir: string): Promise<Chain> {
  const chain = await Chain.open({ dataDir: dir, genesis, validatorKey: validator, signatureWorkers: 0 })
  cleanups.push(() => chain.close())
  return chain
}

const chainOf = (generation: number): BeaconChain => new BeaconChain(computeBeaconSeed(validator.secretKey, generation), LENGTH)

describe('a proposer\'s beacon', () => {
  it('reveals its chain in order, block after block, and after a restart', async () => {
    const genesis = testGenesis({ validators: [validator], schemes: ['stake'], params: { beaconChainLength: LENGTH } })
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    let chain = await open(genesis, tmp.dir)
    const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
    const b1 = await chain.produceBlock(1, at(1))
    expect(toHex(b1!.block.header.beaconReveal)).toBe(toHex(chainOf(0).reveal(0)))
    await chain.close()
    cleanups.pop()
    chain = await open(genesis, tmp.dir)
    const mix = readBeaconMix(chain.store.state)
    const b2 = await chain.produceBlock(2, at(2))
    expect(toHex(b2!.block.header.beaconReveal)).toBe(toHex(chainOf(0).reveal(1)))
    expect(toHex(readBeaconMix(chain.store.state))).toBe(toHex(computeNextMix(mix, chainOf(0).reveal(1))))
  })

  it('without a live chain it commits to one in its own block (revealing zero), then reveals from it; again once exhausted', async () => {
    const genesis = testGenesis({ validators: [validator], schemes: ['stake'], params: { beaconChainLength: LENGTH } })
    genesis.validators[0]!.beaconCommitment = new Uint8Array(32)
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const chain = await open(genesis, tmp.dir)
    const at = (slot: number): number => Number(computeSlotStart(genesis.genesisTime, genesis.slotMs, slot))
    const b1 = (await chain.produceBlock(1, at(1)))!
    expect(toHex(b1.block.header.beaconReveal)).toBe(toHex(NO_REVEAL))
    expect(b1.block.entries.map((e) => (e.type === 'tx' ? e.tx.body.payload.type : e.type))).toEqual(['validator.beacon'])
    expect(readBeaconRecord(chain.store.state, validator.publicKey)).toEqual({ lastRevealed: chainOf(0).commitment, revealed: 0, generation: 0 })
    for (let slot = 2; slot < 2 + LENGTH; slot++) {
      const b = (await chain.produceBlock(slot, at(slot)))!
      expect(toHex(b.block.header.beaconReveal)).toBe(toHex(chainOf(0).reveal(slot - 2)))
    }
    // Exhausted: the next block reveals zero and carries the next generation's commitment.
    const last = (await chain.produceBlock(2 + LENGTH, at(2 + LENGTH)))!
    expect(toHex(last.block.header.beaconReveal)).toBe(toHex(NO_REVEAL))
    expect(readBeaconRecord(chain.store.state, validator.publicKey)).toEqual({ lastRevealed: chainOf(1).commitment, revealed: 0, generation: 1 })
    const after = (await chain.produceBlock(3 + LENGTH, at(3 + LENGTH)))!
    expect(toHex(after.block.header.beaconReveal)).toBe(toHex(chainOf(1).reveal(0)))
  })
})
