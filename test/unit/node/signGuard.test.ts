import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { type ConsensusMessage, signProposal, signVote, VOTE_STEP } from '../../../consensus/bft/messages.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import { SignGuard, SignGuardError } from '../../../src/node/signGuard.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'

const key = testKey('sign-guard')
const blockA = hash(utf8('block A'))
const blockB = hash(utf8('block B'))

function vote(height: number, round: number, step: 1 | 2, blockId: Uint8Array | undefined): ConsensusMessage {
  return { type: 'vote', vote: signVote({ chainId: 'xsc-test', step, height, round, blockId, validator: key.publicKey }, key.secretKey) }
}

function proposal(height: number, round: number, blockId: Uint8Array): ConsensusMessage {
  return { type: 'proposal', proposal: signProposal({ chainId: 'xsc-test', height, round, blockId, validRound: -1, proposer: key.publicKey }, key.secretKey) }
}

describe('SignGuard: the double-sign state on disk (CometBFT priv_validator_state)', () => {
  it('after a restart, refuses a vote that conflicts with one signed before the crash, and anything below it', () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const before = SignGuard.open(file)
      before.admit(proposal(7, 0, blockA))
      before.admit(vote(7, 0, VOTE_STEP.prevote, blockA))
      // The process dies here. A fresh consensus machine would prevote again at 7/0, maybe for B.
      const after = SignGuard.open(file)
      expect(after.last).toMatchObject({ height: 7, round: 0, step: VOTE_STEP.prevote })
      expect(() => after.admit(vote(7, 0, VOTE_STEP.prevote, blockB))).toThrow(expect.objectContaining({ code: 'CONFLICTING_SIGNATURE' }))
      expect(() => after.admit(vote(7, 0, VOTE_STEP.prevote, undefined))).toThrow(SignGuardError)
      expect(() => after.admit(proposal(7, 0, blockB))).toThrow(expect.objectContaining({ code: 'REGRESSION' }))
      expect(() => after.admit(vote(6, 3, VOTE_STEP.precommit, blockA))).toThrow(expect.objectContaining({ code: 'REGRESSION' }))
      // The same message again is re-gossip, not a new signature.
      expect(() => after.admit(vote(7, 0, VOTE_STEP.prevote, blockA))).not.toThrow()
      // Moving on is allowed, and what is on disk follows.
      after.admit(vote(7, 0, VOTE_STEP.precommit, blockA))
      after.admit(vote(7, 1, VOTE_STEP.prevote, undefined))
      after.admit(vote(8, 0, VOTE_STEP.prevote, blockB))
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ height: 8, round: 0, step: VOTE_STEP.prevote })
      expect(SignGuard.open(file).last).toMatchObject({ height: 8, round: 0, step: VOTE_STEP.prevote })
    } finally {
      tmp.cleanup()
    }
  })

  it('lets commits and evidence through (they carry others\' signatures) and refuses to start on a damaged state file', () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const guard = SignGuard.open(file)
      guard.admit({ type: 'commit', commit: { chainId: 'xsc-test', height: 1, round: 0, blockId: blockA, signatures: [] } })
      expect(guard.last).toBeUndefined()
      writeFileSync(file, '{"height": "seven"}')
      expect(() => SignGuard.open(file)).toThrow(expect.objectContaining({ code: 'CORRUPT_STATE' }))
    } finally {
      tmp.cleanup()
    }
  })
})
