import { afterEach, describe, expect, it } from 'vitest'

import { Chain } from '../../../src/chain/chain.ts'
import { EvidencePool } from '../../../src/chain/evidencePool.ts'
import { readBondAccount } from '../../../src/state/unbonding.ts'
import { tempDir, testGenesis, testKey } from '../../support/chainFixtures.ts'
import { doubleVote, equivocation } from '../../support/ledgerChain.ts'

const validator = testKey('pool-validator-0')
const offender = testKey('pool-validator-1')
const base = testGenesis({ validators: [validator, offender] })
// The validator holds > 2/3 of the stake, so its own precommit commits and the offender (tiny stake) is not proposer in these few heights.
const genesis = { ...base, validators: base.validators.map((v, i) => ({ ...v, stake: i === 0 ? 1_000_000_000n : base.params.minStake })) }
const T0 = Number(genesis.genesisTime)

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

describe('EvidencePool', () => {
  it('holds one offence per offender, in arrival order, and forgets what prune refuses', () => {
    const pool = new EvidencePool()
    const a = doubleVote(validator, 'xsc-test', 3)
    expect(pool.add(a)).toBe(true)
    expect(pool.has(a)).toBe(true)
    expect(pool.has(equivocation(a))).toBe(true)
    expect(pool.add(doubleVote(validator, 'xsc-test', 4))).toBe(false)
    expect(pool.add(doubleVote(offender, 'xsc-test', 4))).toBe(true)
    expect(pool.pending().map((o) => o.type)).toEqual(['equivocation', 'equivocation'])
    expect(pool.pending(1)).toEqual([equivocation(a)])
    pool.prune((o) => o.type === 'equivocation' && o.evidence !== a)
    expect(pool.has(a)).toBe(false)
    expect(pool.size).toBe(1)
  })

  it('is bounded', () => {
    const pool = new EvidencePool({ capacity: 1 })
    expect(pool.add(doubleVote(validator, 'xsc-test', 3))).toBe(true)
    expect(pool.add(doubleVote(offender, 'xsc-test', 3))).toBe(false)
  })
})

describe('Chain evidence', () => {
  it('checks submitted evidence, includes it in the next block it proposes and slashes once', async () => {
    const tmp = tempDir()
    cleanups.push(tmp.cleanup)
    const chain = await Chain.open({ dataDir: tmp.dir, genesis, validatorKey: validator, signatureWorkers: 1 })
    cleanups.push(() => chain.close())
    let slot = 1
    const produceOwn = async () => {
      for (const last = slot + 50; slot < last; slot++) {
        const b = await chain.produceBlock(slot, T0 + slot * genesis.slotMs)
        if (b !== undefined) return b
      }
      throw new Error('no block in 50 slots (is this key the proposer?)')
    }
    await produceOwn()
    slot++
    expect(() => chain.submitEvidence(doubleVote(offender, 'xsc-test', 5))).toThrow(expect.objectContaining({ code: 'EVIDENCE_FROM_FUTURE' }))
    expect(chain.submitEvidence(doubleVote(offender, 'xsc-test', 1))).toBe(true)
    expect(chain.submitEvidence(doubleVote(offender, 'xsc-test', 1))).toBe(false)
    const b = await produceOwn()
    expect(b.block.entries.map((e) => e.type)).toEqual(['evidence'])
    expect(readBondAccount(chain.store.state, offender.publicKey).slashedAtHeight).toBe(b.block.header.height)
    // Committed blocks are final: the pool forgets it once included, and it is never included twice.
    expect(chain.evidence.size).toBe(0)
    const next = await produceOwn()
    expect(next.block.entries).toEqual([])
    expect(chain.validators().map((v) => v.address)).toEqual([validator.publicKey])
  })
})
