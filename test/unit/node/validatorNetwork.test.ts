import { describe, expect, it } from 'vitest'
import { CodecError } from '../../../blocks/errors.ts'
import { BlockError } from '../../../blocks/validateBlock.ts'
import { ConsensusError } from '../../../consensus/errors.ts'
import { ChainStoreError } from '../../../src/chain/chainStore.ts'
import { ForkChoiceError } from '../../../src/chain/forkChoice.ts'
import { MempoolError } from '../../../src/chain/mempool.ts'
import { writeKeyFile } from '../../../src/node/keyFile.ts'
import { computeBlockVerdict, computeTxVerdict } from '../../../src/node/network/gossipVerdict.ts'
import { computeP2pSeed, resolveP2pSeed } from '../../../src/node/network/p2pIdentity.ts'
import { StateError } from '../../../src/state/errors.ts'
import { join } from 'node:path'
import { tempDir, testKey } from '../../support/chainFixtures.ts'

describe('gossip verdicts for blocks', () => {
  it('rejects what is wrong in the block itself: wrong proposer, bad proofs and signatures, bad state root, bad txs, bad bytes', () => {
    for (const e of [
      new ConsensusError('WRONG_PROPOSER', 'x', { scheme: 'stake' }),
      new ConsensusError('BAD_PROOF', 'x', { scheme: 'time' }),
      new ConsensusError('BAD_SIGNATURE', 'x', { scheme: 'stake' }),
      new ConsensusError('MISSING_PROOF', 'x', { scheme: 'work' }),
      new BlockError('BAD_STATE_ROOT', 'x'),
      new BlockError('BAD_BODY_ROOT', 'x'),
      new StateError('BAD_SIGNATURE', 'x'),
      new StateError('INSUFFICIENT_FUNDS', 'x'),
      new CodecError('TRAILING_BYTES', 'x'),
      new ForkChoiceError('BRANCH_INVALID', 'x'),
    ]) expect(computeBlockVerdict(e), e.code).toBe('reject')
  })

  it('ignores what may become valid or is our own failure: unknown parent or block, already known, store and other errors', () => {
    for (const e of [
      new BlockError('PARENT_UNKNOWN', 'x'),
      new BlockError('ALREADY_KNOWN', 'x'),
      new ConsensusError('UNKNOWN_BLOCK', 'x', { scheme: 'finality' }),
      new ChainStoreError('CORRUPT', 'x'),
      new Error('worker died'),
    ]) expect(computeBlockVerdict(e)).toBe('ignore')
  })
})

describe('gossip verdicts for txs', () => {
  it('rejects bad signatures, other chains and malformed txs; ignores state-dependent and pool-limit refusals', () => {
    expect(computeTxVerdict(new StateError('BAD_SIGNATURE', 'x'))).toBe('reject')
    expect(computeTxVerdict(new StateError('WRONG_CHAIN', 'x'))).toBe('reject')
    expect(computeTxVerdict(new StateError('INVALID_TX', 'x'))).toBe('reject')
    expect(computeTxVerdict(new CodecError('MALFORMED', 'x'))).toBe('reject')
    expect(computeTxVerdict(new StateError('NONCE_TOO_HIGH', 'x'))).toBe('ignore')
    expect(computeTxVerdict(new StateError('NONCE_TOO_LOW', 'x'))).toBe('ignore')
    expect(computeTxVerdict(new StateError('INSUFFICIENT_FUNDS', 'x'))).toBe('ignore')
    expect(computeTxVerdict(new MempoolError('ALREADY_KNOWN', 'x'))).toBe('ignore')
    expect(computeTxVerdict(new MempoolError('MEMPOOL_FULL', 'x'))).toBe('ignore')
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
