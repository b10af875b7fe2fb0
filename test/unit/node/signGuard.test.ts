import { constants, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
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
      writeFileSync(file, new Uint8Array(512).fill(0x20))
      expect(() => SignGuard.open(file)).toThrow(expect.objectContaining({ code: 'CORRUPT_STATE' }))
    } finally {
      tmp.cleanup()
    }
  })

  it('reads a state file of the earlier format (one JSON object) and keeps guarding from it', () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const signed = vote(9, 1, VOTE_STEP.precommit, blockA)
      const position = SignGuard.open(join(tmp.dir, 'other.json'))
      position.admit(signed)
      writeFileSync(file, JSON.stringify(position.last))
      const guard = SignGuard.open(file)
      expect(guard.last).toEqual(position.last)
      expect(() => guard.admit(vote(9, 1, VOTE_STEP.precommit, blockB))).toThrow(expect.objectContaining({ code: 'CONFLICTING_SIGNATURE' }))
      expect(SignGuard.open(file).last).toEqual(position.last)
    } finally {
      tmp.cleanup()
    }
  })

  it('survives a write torn by a crash: the other slot still holds the position before it', () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const guard = SignGuard.open(file)
      guard.admit(vote(3, 0, VOTE_STEP.prevote, blockA))
      const before = guard.last
      guard.admit(vote(3, 0, VOTE_STEP.precommit, blockA))
      // Tear the slot written last: writes alternate, the first admit (write 1) went to the second slot, this one (write 2) to the first.
      const bytes = new Uint8Array(readFileSync(file))
      expect(new TextDecoder().decode(bytes.subarray(0, 256))).toContain('"step":2')
      const torn = 0
      bytes.fill(0x00, torn + 20, torn + 60)
      writeFileSync(file, bytes)
      expect(SignGuard.open(file).last).toEqual(before)
      // Both slots torn: refuse to start.
      bytes.fill(0x00, 256 - torn + 20, 256 - torn + 60)
      writeFileSync(file, bytes)
      expect(() => SignGuard.open(file)).toThrow(expect.objectContaining({ code: 'CORRUPT_STATE' }))
    } finally {
      tmp.cleanup()
    }
  })

  it('admits a proposal and its prevote with one write, refusing a conflicting one in the same batch', () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const guard = SignGuard.open(file)
      const { admitted, refused } = guard.admitAll([proposal(4, 0, blockA), vote(4, 0, VOTE_STEP.prevote, blockA), vote(4, 0, VOTE_STEP.prevote, blockB)])
      expect(admitted).toHaveLength(2)
      expect(refused.map((r) => r.error.code)).toEqual(['CONFLICTING_SIGNATURE'])
      expect(SignGuard.open(file).last).toMatchObject({ height: 4, round: 0, step: VOTE_STEP.prevote })
    } finally {
      tmp.cleanup()
    }
  })

  it('off the event loop: verdicts at once, each position on disk (in order) when its durable promise resolves', async () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const guard = SignGuard.open(file)
      const first = guard.admitAllDurably([proposal(5, 0, blockA), vote(5, 0, VOTE_STEP.prevote, blockA)])
      // Judged against the position in memory before the first write landed: a conflicting prevote is refused now.
      const conflicting = guard.admitAllDurably([vote(5, 0, VOTE_STEP.prevote, blockB)])
      expect(conflicting.admitted).toEqual([])
      expect(conflicting.refused.map((r) => r.error.code)).toEqual(['CONFLICTING_SIGNATURE'])
      const second = guard.admitAllDurably([vote(5, 0, VOTE_STEP.precommit, blockA)])
      expect(second.refused).toEqual([])
      // Re-sending the precommit (re-gossip) waits for the writes in flight, like a new signature.
      const again = guard.admitAllDurably([vote(5, 0, VOTE_STEP.precommit, blockA)])
      expect(again.refused).toEqual([])
      await first.durable
      // At least the prevote is on disk (the precommit's write may have landed too).
      const afterFirst = SignGuard.open(file).last
      expect(afterFirst).toMatchObject({ height: 5, round: 0 })
      expect(afterFirst!.step).toBeGreaterThanOrEqual(VOTE_STEP.prevote)
      // whenDurable covers every position admitted so far (what a commit carrying our precommit waits for).
      await guard.whenDurable()
      const reopened = SignGuard.open(file)
      expect(reopened.last).toMatchObject({ height: 5, round: 0, step: VOTE_STEP.precommit })
      // After a crash here, the precommit cannot be signed differently.
      expect(() => reopened.admit(vote(5, 0, VOTE_STEP.precommit, blockB))).toThrow(expect.objectContaining({ code: 'CONFLICTING_SIGNATURE' }))
    } finally {
      tmp.cleanup()
    }
  })

  it.runIf(process.platform === 'linux')('keeps its state file open for synchronized data writes (O_DSYNC): a slot is on disk when its write returns', () => {
    const tmp = tempDir('xsc-sign-guard-')
    try {
      const file = join(tmp.dir, 'sign-state.json')
      const flagsOf = (): number[] =>
        readdirSync('/proc/self/fd').flatMap((fd) => {
          try {
            if (readlinkSync(`/proc/self/fd/${fd}`) !== file) return []
            return [parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8)]
          } catch {
            return []
          }
        })
      const created = SignGuard.open(file)
      created.admit(vote(2, 0, VOTE_STEP.prevote, blockA))
      const reopened = SignGuard.open(file)
      const flags = flagsOf()
      expect(flags).toHaveLength(2)
      for (const f of flags) expect(f & constants.O_DSYNC).toBe(constants.O_DSYNC)
      expect(reopened.last).toMatchObject({ height: 2, step: VOTE_STEP.prevote })
    } finally {
      tmp.cleanup()
    }
  })
})
