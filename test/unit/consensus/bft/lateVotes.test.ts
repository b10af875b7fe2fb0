import { describe, expect, it, vi } from 'vitest'

import { signVote, VOTE_STEP } from '../../../../consensus/bft/index.ts'
import * as crypto from '../../../../src/crypto/index.ts'
import { blockId, CHAIN, heightContext, KEYS, makeMachine, ofType } from './harness.ts'

// The one verifier, counted (the real one runs).
vi.mock('../../../../src/crypto/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../../src/crypto/index.ts')>()
  return { ...real, verify: vi.fn(real.verify) }
})

function prevote(i: number, id: Uint8Array | undefined, round = 0) {
  return signVote({ chainId: CHAIN, step: VOTE_STEP.prevote, height: 1, round, blockId: id, validator: KEYS[i]!.publicKey }, KEYS[i]!.secretKey)
}

/** A machine of validator 0 that holds a prevote quorum for X in round 0 from validators 1 and 2 (stakes 1, 10, 10, 1: 20 of 22). */
function withQuorumForX() {
  const m = makeMachine(0)
  m.startHeight(heightContext([1n, 10n, 10n, 1n]))
  m.handle({ type: 'vote', vote: prevote(1, blockId('X')) })
  m.handle({ type: 'vote', vote: prevote(2, blockId('X')) })
  return m
}

describe('late votes: a vote for a value that already has a quorum in its round and step', () => {
  const verify = vi.mocked(crypto.verify)

  it('is neither verified nor counted, so a forged one costs no signature check and is not an error', () => {
    const m = withQuorumForX()
    const forged = { ...prevote(3, blockId('X')), signature: prevote(1, blockId('X')).signature }
    // The driver asks first, so gossip does not relay it (it may be forged, as here).
    expect(m.isSettledVote(forged)).toBe(true)
    expect(m.isSettledVote(prevote(3, blockId('Y')))).toBe(false)
    verify.mockClear()
    expect(m.handle({ type: 'vote', vote: forged })).toEqual([])
    expect(verify).not.toHaveBeenCalled()
    // Before the quorum the same forged vote is checked and refused.
    const fresh = makeMachine(0)
    fresh.startHeight(heightContext([1n, 10n, 10n, 1n]))
    expect(fresh.isSettledVote(forged)).toBe(false)
    expect(() => fresh.handle({ type: 'vote', vote: forged })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }))
  })

  it('is held: when its validator then signs another value, the pair is reported as a double vote', () => {
    const m = withQuorumForX()
    const late = prevote(3, blockId('X'))
    expect(m.handle({ type: 'vote', vote: late })).toEqual([])
    const ev = ofType(m.handle({ type: 'vote', vote: prevote(3, blockId('Y')) }), 'evidence')
    expect(ev).toHaveLength(1)
    expect(ev[0]!.evidence.type).toBe('duplicateVote')
    const pair = [ev[0]!.evidence.first, ev[0]!.evidence.second].map((v) => crypto.toHex(v.signature))
    expect(pair).toContain(crypto.toHex(late.signature))
  })

  it('a held forged vote followed by a genuine vote for another value is no evidence; the genuine one counts', () => {
    const m = withQuorumForX()
    m.handle({ type: 'vote', vote: { ...prevote(3, blockId('X')), signature: prevote(1, blockId('X')).signature } })
    expect(ofType(m.handle({ type: 'vote', vote: prevote(3, blockId('Y')) }), 'evidence')).toHaveLength(0)
    // Validator 3 is counted once now: another vote of its for Y is a repeat, for Z an equivocation.
    expect(ofType(m.handle({ type: 'vote', vote: prevote(3, blockId('Y')) }), 'evidence')).toHaveLength(0)
    expect(ofType(m.handle({ type: 'vote', vote: prevote(3, blockId('Z')) }), 'evidence')).toHaveLength(1)
  })
})
