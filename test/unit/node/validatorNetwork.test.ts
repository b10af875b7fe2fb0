import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { BlockError, CodecError } from '../../../blocks/errors.ts'
import { BftError } from '../../../consensus/bft/errors.ts'
import { ConsensusError } from '../../../consensus/errors.ts'
import { ChainStoreError, MempoolError } from '../../../src/chain/errors.ts'
import { gossipVerdictOf } from '../../../src/net/errors.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { subscribedTopics } from '../../../src/node/network/gossipHandlers.ts'
import { computeP2pSeed, resolveP2pSeed } from '../../../src/node/network/p2pIdentity.ts'
import { computeRoundStateIntervalMs, computeStatusStallPolls, shouldPullRoundState } from '../../../src/node/validatorNetwork.ts'
import { StateError } from '../../../src/state/errors.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'

describe('gossip verdicts for blocks', () => {
  it('rejects what is wrong in the block itself: wrong proposer, bad proofs and signatures, bad state root, bad txs, bad bytes', () => {
    for (const e of [
      new ConsensusError('WRONG_PROPOSER', 'x', { scheme: 'stake', slot: 1, got: '0x01', expected: '0x02' }),
      new ConsensusError('BAD_PROOF', 'x', { scheme: 'time' }),
      new ConsensusError('BAD_SIGNATURE', 'x', { scheme: 'stake', proposer: '0x01' }),
      new ConsensusError('MISSING_PROOF', 'x', { scheme: 'work' }),
      new BlockError('BAD_STATE_ROOT', 'x', { got: '0x01', expected: '0x02' }),
      new BlockError('BAD_BODY_ROOT', 'x', { got: '0x01', expected: '0x02' }),
      new StateError('BAD_SIGNATURE', 'x'),
      new StateError('INSUFFICIENT_FUNDS', 'x', { balance: '5', needed: '6' }),
      new CodecError('TRAILING_BYTES', 'x'),
      new BftError('NO_QUORUM', 'x', { got: '1', total: '4' }),
    ]) expect(gossipVerdictOf(e, 'blocks'), e.code).toBe('reject')
  })

  it('ignores what may become valid or is our own failure: unknown parent or block, already known, store and other errors', () => {
    for (const e of [
      new BlockError('PARENT_UNKNOWN', 'x', { hash: '0x01', parent: '0x02' }),
      new BlockError('ALREADY_KNOWN', 'x', { hash: '0x01' }),
      new ConsensusError('UNKNOWN_BLOCK', 'x', { scheme: 'finality', blockHash: '0x01' }),
      new ChainStoreError('CORRUPT', 'x'),
      new Error('worker died'),
    ]) expect(gossipVerdictOf(e, 'blocks')).toBe('ignore')
  })
})

describe('gossip verdicts for txs', () => {
  it('rejects bad signatures, other chains and malformed txs; ignores state-dependent and pool-limit refusals', () => {
    expect(gossipVerdictOf(new StateError('BAD_SIGNATURE', 'x'), 'transactions')).toBe('reject')
    expect(gossipVerdictOf(new StateError('WRONG_CHAIN', 'x', { got: 'a', expected: 'b' }), 'transactions')).toBe('reject')
    expect(gossipVerdictOf(new StateError('INVALID_TX', 'x'), 'transactions')).toBe('reject')
    expect(gossipVerdictOf(new CodecError('MALFORMED', 'x'), 'transactions')).toBe('reject')
    expect(gossipVerdictOf(new StateError('NONCE_TOO_HIGH', 'x', { got: 5, expected: 1 }), 'transactions')).toBe('ignore')
    expect(gossipVerdictOf(new StateError('NONCE_TOO_LOW', 'x', { got: 0, expected: 1 }), 'transactions')).toBe('ignore')
    expect(gossipVerdictOf(new StateError('INSUFFICIENT_FUNDS', 'x', { balance: '5', needed: '6' }), 'transactions')).toBe('ignore')
    expect(gossipVerdictOf(new MempoolError('ALREADY_KNOWN', 'x', { txId: '0x01' }), 'transactions')).toBe('ignore')
    expect(gossipVerdictOf(new MempoolError('MEMPOOL_FULL', 'x'), 'transactions')).toBe('ignore')
  })
})

describe('computeP2pSeed', () => {
  it('derives a stable libp2p seed from the validator key, distinct from the key itself and per validator', () => {
    const a = testKey('p2p-a')
    const b = testKey('p2p-b')
    expect(computeP2pSeed(a.secretKey)).toEqual(computeP2pSeed(a.secretKey))
    expect(computeP2pSeed(a.secretKey)).not.toEqual(a.secretKey)
    expect(computeP2pSeed(a.secretKey)).not.toEqual(computeP2pSeed(b.secretKey))
    expect(computeP2pSeed(a.secretKey)).toHaveLength(32)
  })
})

describe('resolveP2pSeed', () => {
  it('prefers --p2p-key, then the validator key, else keeps one random key in the data dir across restarts', () => {
    const tmp = tempDir('xsc-p2p-')
    try {
      const v = testKey('p2p-validator')
      const file = join(tmp.dir, 'p2p.json')
      const p2p = testKey('p2p-file')
      writeKeyFile(file, p2p)
      expect(resolveP2pSeed({ dataDir: tmp.dir, p2pKeyFile: file, validatorKey: v })).toEqual(p2p.secretKey)
      expect(resolveP2pSeed({ dataDir: tmp.dir, validatorKey: v })).toEqual(computeP2pSeed(v.secretKey))
      const first = resolveP2pSeed({ dataDir: tmp.dir })
      expect(resolveP2pSeed({ dataDir: tmp.dir })).toEqual(first)
      expect(first).not.toEqual(computeP2pSeed(v.secretKey))
    } finally {
      tmp.cleanup()
    }
  })
})

describe('what a node listens to and asks for', () => {
  it('a node without a vote is on the commits topic only, never on proposals, proposed blocks or pending txs; validators are not on commits', () => {
    expect(subscribedTopics({ validator: false })).toEqual(['commits', 'evidence'])
    expect(subscribedTopics({ validator: true })).toEqual(['transactions', 'blocks', 'consensus', 'evidence'])
  })

  it('round-state pulls back off while a stall lasts: after 1, 2 and 4 idle intervals, then every 8th', () => {
    const pulls = Array.from({ length: 33 }, (_, i) => i).filter(shouldPullRoundState)
    expect(pulls).toEqual([1, 2, 4, 8, 16, 24, 32])
  })

  it('the stall check spans two slots (at least 1 s): waiting for the next slot is no stall', () => {
    expect(computeRoundStateIntervalMs(500)).toBe(1_000)
    expect(computeRoundStateIntervalMs(250)).toBe(1_000)
    // A 2 s chain made no progress in every other 1 s interval and pulled every peer's round state.
    expect(computeRoundStateIntervalMs(2_000)).toBe(4_000)
  })

  it('the status poll counts the head as stood still only after more than a slot without a block', () => {
    expect(computeStatusStallPolls(3_000, 500)).toBe(1)
    expect(computeStatusStallPolls(3_000, 2_000)).toBe(1)
    // 4 s slots: one 3 s poll without a block is normal (it asked every peer for its status); two (6 s) is a missed slot.
    expect(computeStatusStallPolls(3_000, 4_000)).toBe(2)
    expect(computeStatusStallPolls(3_000, 10_000)).toBe(4)
  })
})
