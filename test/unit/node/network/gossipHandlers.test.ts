import { describe, expect, it } from 'vitest'

import { encode } from '../../../../blocks/codec.ts'
import { SignedTx } from '../../../../blocks/schema.ts'
import { BftError } from '../../../../consensus/bft/errors.ts'
import { ConsensusMessage, signVote, VOTE_STEP } from '../../../../consensus/bft/messages.ts'
import { MempoolError } from '../../../../src/chain/errors.ts'
import { hash, utf8 } from '../../../../src/crypto/index.ts'
import { createGossipHandlers, type GossipHandlerModules, runGossipHandler } from '../../../../src/node/network/gossipHandlers.ts'
import { StateError } from '../../../../src/state/errors.ts'
import { testKey, transfer } from '../../../support/chainFixtures.ts'

// Stand-ins for the chain side: the real handlers run over libp2p in test/integration/validators.
function modules(over: Partial<GossipHandlerModules> = {}): GossipHandlerModules & { counted: number } {
  const m = {
    counted: 0,
    admitTx: () => {},
    processBlock: async () => 'accept' as const,
    handleConsensus: async () => {
      m.counted++
      return 'accept' as const
    },
    handleCommitted: async () => {
      m.counted++
      return 'accept' as const
    },
    withinVoteCap: () => true,
    submitEvidence: () => true,
    withinEvidenceCap: () => true,
    ...over,
  }
  return m
}

const alice = testKey('gossip-table-alice')
const txBytes = encode(SignedTx, transfer(alice, 0, alice.publicKey, 1n))
const vote = encode(ConsensusMessage, { type: 'vote', vote: signVote({ chainId: 'xsc-test', step: VOTE_STEP.prevote, height: 1, round: 0, blockId: hash(utf8('b')), validator: alice.publicKey }, alice.secretKey) })

describe('the gossip handler table: topic → decode → validate → verdict', () => {
  it('rejects undecodable bytes on every topic', async () => {
    const h = createGossipHandlers(modules())
    for (const topic of ['transactions', 'blocks', 'consensus'] as const) expect(await runGossipHandler(h, topic, new Uint8Array([0x93, 1, 2, 3]), 'p')).toBe('reject')
  })

  it('maps what validation throws through the one verdict mapping', async () => {
    const refuse = (e: unknown) => () => {
      throw e
    }
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: refuse(new StateError('BAD_SIGNATURE', 'x')) })), 'transactions', txBytes, 'p')).toBe('reject')
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: refuse(new StateError('NONCE_TOO_LOW', 'x', { got: 0, expected: 1 })) })), 'transactions', txBytes, 'p')).toBe('ignore')
    expect(await runGossipHandler(createGossipHandlers(modules({ admitTx: refuse(new MempoolError('ALREADY_KNOWN', 'x', { txId: '0x01' })) })), 'transactions', txBytes, 'p')).toBe('ignore')
    expect(await runGossipHandler(createGossipHandlers(modules()), 'transactions', txBytes, 'p')).toBe('accept')
    expect(await runGossipHandler(createGossipHandlers(modules({ handleConsensus: async () => refuse(new BftError('EVIDENCE_EXPIRED', 'x', { height: 1, currentHeight: 9, maxAgeHeights: 2 }))() })), 'consensus', vote, 'p')).toBe('ignore')
    expect(await runGossipHandler(createGossipHandlers(modules({ handleConsensus: async () => refuse(new BftError('NOT_VALIDATOR', 'x', { validator: '0x01' }))() })), 'consensus', vote, 'p')).toBe('reject')
  })

  it('drops consensus messages over a neighbour\'s cap unchecked and without penalty', async () => {
    const m = modules({ withinVoteCap: (from) => from !== 'flooder' })
    const h = createGossipHandlers(m)
    expect(await runGossipHandler(h, 'consensus', vote, 'flooder')).toBe('ignore')
    expect(m.counted).toBe(0)
    expect(await runGossipHandler(h, 'consensus', vote, 'honest')).toBe('accept')
    expect(m.counted).toBe(1)
  })
})
