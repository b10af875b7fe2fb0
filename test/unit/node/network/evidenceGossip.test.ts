import { describe, expect, it } from 'vitest'

import { encode } from '../../../../blocks/codec.ts'
import { Offence } from '../../../../blocks/schema.ts'
import { BftError } from '../../../../consensus/bft/errors.ts'
import { EvidencePool } from '../../../../src/chain/evidencePool.ts'
import { createGossipHandlers, type GossipHandlerModules, runGossipHandler } from '../../../../src/node/network/gossipHandlers.ts'
import { checkOffence } from '../../../../src/state/applyEvidence.ts'
import { testGenesis, testKey } from '../../../support/chainFixtures.ts'
import { doubleVote, equivocation, LedgerChain } from '../../../support/ledgerChain.ts'

const validator = testKey('evidence-gossip-validator')

/** The evidence handler over a real pool and the state's real check (a LedgerChain at height 5). */
function setup(over: Partial<GossipHandlerModules> = {}) {
  const chain = new LedgerChain(testGenesis({ validators: [validator] }))
  chain.advanceTo(5)
  const pool = new EvidencePool()
  let checked = 0
  const m: GossipHandlerModules = {
    admitTx: () => {},
    processBlock: async () => 'accept',
    handleConsensus: async () => 'accept',
    handleCommitted: async () => 'accept',
    withinVoteCap: () => true,
    submitEvidence: (offence) => {
      checked++
      if (pool.hasOffender(offence)) return false
      checkOffence(chain.state, offence, chain.context())
      return pool.add(offence)
    },
    withinEvidenceCap: () => true,
    ...over,
  }
  return { handlers: createGossipHandlers(m), pool, chain, checked: () => checked }
}

describe('evidence gossip: decode → check against the state → verdict', () => {
  it('accepts a valid equivocation once, then ignores it and any other spelling against the same validator', async () => {
    const { handlers, pool } = setup()
    const bytes = encode(Offence, equivocation(doubleVote(validator, 'xsc-test', 4)))
    expect(await runGossipHandler(handlers, 'evidence', bytes, 'peer')).toBe('accept')
    expect(pool.pending()).toHaveLength(1)
    expect(await runGossipHandler(handlers, 'evidence', bytes, 'peer')).toBe('ignore')
    expect(await runGossipHandler(handlers, 'evidence', encode(Offence, equivocation(doubleVote(validator, 'xsc-test', 3))), 'peer')).toBe('ignore')
    expect(pool.pending()).toHaveLength(1)
  })

  it('rejects forged or non-conflicting evidence, ignores evidence from a height not reached', async () => {
    const { handlers, pool } = setup()
    const ev = doubleVote(validator, 'xsc-test', 4)
    const forged = { ...ev, second: { ...ev.second, signature: new Uint8Array(64) } }
    expect(await runGossipHandler(handlers, 'evidence', encode(Offence, equivocation(forged)), 'peer')).toBe('reject')
    const same = { ...ev, second: ev.first }
    expect(await runGossipHandler(handlers, 'evidence', encode(Offence, equivocation(same)), 'peer')).toBe('reject')
    expect(await runGossipHandler(handlers, 'evidence', encode(Offence, equivocation(doubleVote(validator, 'xsc-test', 50))), 'peer')).toBe('ignore')
    expect(await runGossipHandler(handlers, 'evidence', new Uint8Array([0x93, 1, 2, 3]), 'peer')).toBe('reject')
    expect(pool.pending()).toHaveLength(0)
  })

  it('drops a neighbour\'s evidence over its cap unchecked', async () => {
    const s = setup({ withinEvidenceCap: (from) => from !== 'flooder' })
    const bytes = encode(Offence, equivocation(doubleVote(validator, 'xsc-test', 4)))
    expect(await runGossipHandler(s.handlers, 'evidence', bytes, 'flooder')).toBe('ignore')
    expect(s.checked()).toBe(0)
  })

  it('maps ALREADY_SLASHED to ignore (an honest peer may be a block behind)', async () => {
    const { handlers } = setup({ submitEvidence: () => { throw new BftError('ALREADY_SLASHED', 'x', { validator: '0x01' }) } })
    expect(await runGossipHandler(handlers, 'evidence', encode(Offence, equivocation(doubleVote(validator, 'xsc-test', 4))), 'peer')).toBe('ignore')
  })
})
