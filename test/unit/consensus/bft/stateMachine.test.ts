import { describe, expect, it } from 'vitest'

import {
  type BftAction,
  BftError,
  type BftInput,
  computeTimeout,
  type ConsensusMessage,
  type HeightContext,
  signProposal,
  signVote,
  verifyCommit,
  VOTE_STEP,
} from '../../../../consensus/bft/index.ts'
import { toHex } from '../../../../src/crypto/index.ts'
import { blockId, CHAIN, heightContext, KEYS, makeMachine, ofType, proposerIndex, TIMEOUTS } from './harness.ts'

/**
 * A synchronous perfect network for a few machines: every broadcast reaches every other machine,
 * validation requests are answered from `valid`, proposal requests with `value(i)`.
 */
function network(ctx: HeightContext, opts: { unsafe?: boolean; valid?: (id: string) => boolean } = {}) {
  const machines = KEYS.map((_, i) => makeMachine(i, opts.unsafe))
  const decisions: Extract<BftAction, { type: 'decide' }>[][] = machines.map(() => [])
  const timers: Extract<BftAction, { type: 'scheduleTimeout' }>[][] = machines.map(() => [])
  const evidence: Extract<BftAction, { type: 'evidence' }>[] = []
  const queue: { to: number; input: BftInput }[] = []
  const valid = opts.valid ?? (() => true)
  const handleActions = (i: number, actions: BftAction[]): void => {
    for (const a of actions) {
      if (a.type === 'broadcast') for (let j = 0; j < machines.length; j++) if (j !== i) queue.push({ to: j, input: toInput(a.message) })
      if (a.type === 'validate') queue.push({ to: i, input: { type: 'verdict', height: a.height, blockId: a.blockId, valid: valid(toHex(a.blockId)) } })
      if (a.type === 'buildProposal') queue.push({ to: i, input: { type: 'proposalValue', height: a.height, round: a.round, blockId: blockId(`block-${a.height}-${a.round}-${i}`) } })
      if (a.type === 'decide') decisions[i]!.push(a)
      if (a.type === 'scheduleTimeout') timers[i]!.push(a)
      if (a.type === 'evidence') evidence.push(a)
    }
  }
  const drain = (): void => {
    for (let guard = 0; queue.length > 0 && guard < 100_000; guard++) {
      const { to, input } = queue.shift()!
      handleActions(to, machines[to]!.handle(input))
    }
  }
  const start = (): void => {
    machines.forEach((m, i) => handleActions(i, m.startHeight(ctx)))
    drain()
  }
  return { machines, decisions, timers, evidence, queue, handleActions, drain, start }
}

function toInput(message: ConsensusMessage): BftInput {
  if (message.type === 'proposal') return { type: 'proposal', proposal: message.proposal }
  if (message.type === 'vote') return { type: 'vote', vote: message.vote }
  if (message.type === 'commit') return { type: 'commit', commit: message.commit }
  throw new Error('unexpected')
}

function vote(i: number, step: number, round: number, id: Uint8Array | undefined, height = 1) {
  return signVote({ chainId: CHAIN, step, height, round, blockId: id, validator: KEYS[i]!.publicKey }, KEYS[i]!.secretKey)
}

describe('BFT state machine (Tendermint algorithm 1)', () => {
  it('decides in round 0 on a perfect network, every validator the same block, with a commit anyone can verify', () => {
    const ctx = heightContext()
    const net = network(ctx)
    net.start()
    const p = proposerIndex(ctx, 0)
    const expected = toHex(blockId(`block-1-0-${p}`))
    for (const d of net.decisions) {
      expect(d).toHaveLength(1)
      expect(toHex(d[0]!.blockId)).toBe(expected)
      expect(d[0]!.round).toBe(0)
      expect(verifyCommit(d[0]!.commit, { chainId: CHAIN, validators: ctx.validators, height: 1 })).toBeGreaterThan(26n)
    }
  })

  it('prevotes nil for an invalid proposal, so no block is decided in that round', () => {
    const ctx = heightContext()
    const net = network(ctx, { valid: () => false })
    net.start()
    expect(net.decisions.every((d) => d.length === 0)).toBe(true)
    // Every machine ends round 0 in precommit (nil) and sets a precommit timeout.
    for (const m of net.machines) expect(m.step).toBe('precommit')
    for (const t of net.timers) expect(t.some((x) => x.step === 'precommit' && x.round === 0)).toBe(true)
  })

  it('prevotes nil when the propose timeout fires without a proposal; timeouts grow with the round', () => {
    const ctx = heightContext()
    const m = makeMachine(proposerIndex(ctx, 0) === 0 ? 1 : 0)
    const actions = m.startHeight(ctx)
    const timer = ofType(actions, 'scheduleTimeout')[0]!
    expect(timer).toMatchObject({ step: 'propose', round: 0, delayMs: TIMEOUTS.proposeMs })
    const out = m.handle({ type: 'timeout', step: 'propose', height: 1, round: 0 })
    const votes = ofType(out, 'broadcast').map((b) => b.message)
    expect(votes).toHaveLength(1)
    expect(votes[0]).toMatchObject({ type: 'vote', vote: { body: { step: VOTE_STEP.prevote, blockId: undefined } } })
    expect(computeTimeout(TIMEOUTS, 'propose', 5)).toBe(TIMEOUTS.proposeMs + 5 * TIMEOUTS.proposeDeltaMs)
    expect(computeTimeout(TIMEOUTS, 'precommit', 3)).toBeGreaterThan(computeTimeout(TIMEOUTS, 'precommit', 2))
  })

  it('a locked validator prevotes nil for a different fresh value in a later round (the lock rule), unless the unsafe flag drops it', () => {
    for (const unsafe of [false, true]) {
      const ctx = heightContext()
      const me = [0, 1, 2, 3].find((i) => proposerIndex(ctx, 0) !== i && proposerIndex(ctx, 1) !== i)!
      const m = makeMachine(me, unsafe)
      m.startHeight(ctx)
      const p0 = proposerIndex(ctx, 0)
      const a = blockId('A')
      m.handle({ type: 'verdict', height: 1, blockId: a, valid: true })
      m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 0, blockId: a, validRound: -1, proposer: KEYS[p0]!.publicKey }, KEYS[p0]!.secretKey) })
      // Two other prevotes for A: with ours, 3 of 4 (> 2/3): we lock on A and precommit it.
      const others = [0, 1, 2, 3].filter((i) => i !== me)
      let out: BftAction[] = []
      for (const i of others.slice(0, 2)) out = m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.prevote, 0, a) })
      expect(m.lockedRound).toBe(0)
      expect(ofType(out, 'broadcast').some((b) => b.message.type === 'vote' && b.message.vote.body.step === VOTE_STEP.precommit && toHex(b.message.vote.body.blockId!) === toHex(a))).toBe(true)
      // Round 0 fails (precommits nil from the others), round 1 proposes a fresh B.
      for (const i of others) m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.precommit, 0, undefined) })
      m.handle({ type: 'timeout', step: 'precommit', height: 1, round: 0 })
      expect(m.round).toBe(1)
      const p1 = proposerIndex(ctx, 1)
      const b = blockId('B')
      m.handle({ type: 'verdict', height: 1, blockId: b, valid: true })
      out = m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 1, blockId: b, validRound: -1, proposer: KEYS[p1]!.publicKey }, KEYS[p1]!.secretKey) })
      const prevote = ofType(out, 'broadcast').map((x) => x.message).find((x) => x.type === 'vote')
      expect(prevote?.type).toBe('vote')
      const votedFor = prevote?.type === 'vote' ? prevote.vote.body.blockId : undefined
      if (unsafe) expect(toHex(votedFor!)).toBe(toHex(b))
      else expect(votedFor).toBeUndefined()
    }
  })

  it('accepts a re-proposal of the locked value with a proof of lock from a later round (valid round rule, line 28)', () => {
    const ctx = heightContext()
    const me = [0, 1, 2, 3].find((i) => proposerIndex(ctx, 0) !== i && proposerIndex(ctx, 2) !== i)!
    const m = makeMachine(me)
    m.startHeight(ctx)
    const a = blockId('A')
    const b = blockId('B')
    m.handle({ type: 'verdict', height: 1, blockId: a, valid: true })
    m.handle({ type: 'verdict', height: 1, blockId: b, valid: true })
    const others = [0, 1, 2, 3].filter((i) => i !== me)
    const p0 = proposerIndex(ctx, 0)
    m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 0, blockId: a, validRound: -1, proposer: KEYS[p0]!.publicKey }, KEYS[p0]!.secretKey) })
    for (const i of others.slice(0, 2)) m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.prevote, 0, a) })
    expect(m.lockedRound).toBe(0)
    // Round 1: B gets a quorum of prevotes elsewhere (a POL in round 1); we skip to round 2.
    for (const i of others) m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.prevote, 1, b) })
    expect(m.round).toBe(1)
    for (const i of others) m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.precommit, 1, undefined) })
    m.handle({ type: 'timeout', step: 'precommit', height: 1, round: 1 })
    expect(m.round).toBe(2)
    const p2 = proposerIndex(ctx, 2)
    const out = m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 2, blockId: b, validRound: 1, proposer: KEYS[p2]!.publicKey }, KEYS[p2]!.secretKey) })
    const prevote = ofType(out, 'broadcast').map((x) => x.message).find((x) => x.type === 'vote')
    expect(prevote?.type === 'vote' && prevote.vote.body.blockId !== undefined && toHex(prevote.vote.body.blockId) === toHex(b)).toBe(true)
  })

  it('a restarted validator signs nothing at or below its sign guard position, takes its own old votes back from peers, and completes the halted round', () => {
    // The round-0 proposer proposed A and prevoted A, then crashed; two others prevoted and
    // precommitted A; the fourth is gone, so nothing commits without the restarted one.
    const ctx = heightContext()
    const me = proposerIndex(ctx, 0)
    const live = [0, 1, 2, 3].filter((i) => i !== me).slice(0, 2)
    const a = blockId('A')
    const m = makeMachine(me)
    const started = m.startHeight({ ...ctx, signedUpTo: { round: 0, step: VOTE_STEP.prevote } })
    // Not a fresh block nor a prevote of round 0: the guard on disk would refuse them, and the
    // machine would wait for a quorum counting a prevote that never left.
    expect(ofType(started, 'buildProposal')).toEqual([])
    expect(ofType(started, 'broadcast')).toEqual([])
    const out: BftAction[] = []
    out.push(...m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 0, blockId: a, validRound: -1, proposer: KEYS[me]!.publicKey }, KEYS[me]!.secretKey) }))
    out.push(...m.handle({ type: 'timeout', step: 'propose', height: 1, round: 0 }))
    for (const i of live) out.push(...m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.prevote, 0, a) }))
    // Its own prevote of its earlier life, handed back by a peer's round state: counted, not an equivocation.
    out.push(...m.handle({ type: 'vote', vote: vote(me, VOTE_STEP.prevote, 0, a) }))
    for (const i of live) out.push(...m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.precommit, 0, a) }))
    out.push(...m.handle({ type: 'verdict', height: 1, blockId: a, valid: true }))
    expect(ofType(out, 'evidence')).toEqual([])
    const sent = ofType(out, 'broadcast').map((x) => x.message)
    expect(sent.map((x) => (x.type === 'vote' ? `${x.vote.body.round}/${x.vote.body.step}/${x.vote.body.blockId ? toHex(x.vote.body.blockId) : 'nil'}` : x.type))).toEqual([`0/${VOTE_STEP.precommit}/${toHex(a)}`])
    expect(ofType(out, 'decide').map((d) => toHex(d.blockId))).toEqual([toHex(a)])
  })

  it('a validator whose guard is past the whole height (it signed a later height) only observes it', () => {
    const ctx = heightContext()
    const me = proposerIndex(ctx, 0)
    const m = makeMachine(me)
    const started = m.startHeight({ ...ctx, signedUpTo: { round: Number.MAX_SAFE_INTEGER, step: VOTE_STEP.precommit } })
    expect(ofType(started, 'buildProposal')).toEqual([])
    const a = blockId('A')
    const out = [...m.handle({ type: 'verdict', height: 1, blockId: a, valid: true })]
    out.push(...m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 0, blockId: a, validRound: -1, proposer: KEYS[me]!.publicKey }, KEYS[me]!.secretKey) }))
    for (const i of [0, 1, 2, 3].filter((i) => i !== me)) out.push(...m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.prevote, 0, a) }), ...m.handle({ type: 'vote', vote: vote(i, VOTE_STEP.precommit, 0, a) }))
    expect(ofType(out, 'broadcast')).toEqual([])
    expect(ofType(out, 'decide').map((d) => toHex(d.blockId))).toEqual([toHex(a)])
  })

  it('rejects messages that are invalid in themselves with a typed error, and ignores other heights', () => {
    const ctx = heightContext()
    const m = makeMachine(0)
    m.startHeight(ctx)
    const wrong = (proposerIndex(ctx, 0) + 1) % 4
    const expectCode = (f: () => unknown, code: string): void => {
      try {
        f()
        expect.unreachable('should throw')
      } catch (error) {
        expect(error).toBeInstanceOf(BftError)
        expect((error as BftError).code).toBe(code)
      }
    }
    expectCode(() => m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 0, blockId: blockId('X'), validRound: -1, proposer: KEYS[wrong]!.publicKey }, KEYS[wrong]!.secretKey) }), 'WRONG_PROPOSER')
    const good = vote(1, VOTE_STEP.prevote, 0, blockId('X'))
    expectCode(() => m.handle({ type: 'vote', vote: { ...good, signature: vote(2, VOTE_STEP.prevote, 0, blockId('X')).signature } }), 'BAD_SIGNATURE')
    expectCode(() => m.handle({ type: 'vote', vote: { ...good, body: { ...good.body, chainId: 'other' } } }), 'WRONG_CHAIN')
    expectCode(() => m.handle({ type: 'vote', vote: vote(1, 7, 0, undefined) }), 'BAD_STEP')
    const p = proposerIndex(ctx, 1)
    expectCode(() => m.handle({ type: 'proposal', proposal: signProposal({ chainId: CHAIN, height: 1, round: 1, blockId: blockId('X'), validRound: 1, proposer: KEYS[p]!.publicKey }, KEYS[p]!.secretKey) }), 'BAD_VALID_ROUND')
    expect(m.handle({ type: 'vote', vote: vote(1, VOTE_STEP.prevote, 0, blockId('X'), 7) })).toEqual([])
  })

  it('reports a double vote as evidence and counts the equivocator once in the round total', () => {
    const ctx = heightContext()
    const m = makeMachine(0)
    m.startHeight(ctx)
    m.handle({ type: 'vote', vote: vote(1, VOTE_STEP.prevote, 0, blockId('X')) })
    const out = m.handle({ type: 'vote', vote: vote(1, VOTE_STEP.prevote, 0, blockId('Y')) })
    const ev = ofType(out, 'evidence')
    expect(ev).toHaveLength(1)
    expect(ev[0]!.evidence.type).toBe('duplicateVote')
    // A third message from 2 would not reach a 2/3 total with 1 counted twice: no prevote timeout yet.
    expect(ofType(m.handle({ type: 'vote', vote: vote(1, VOTE_STEP.prevote, 0, undefined) }), 'scheduleTimeout')).toHaveLength(0)
  })

  it('joins a later round once more than 1/3 of the stake is seen there (line 55)', () => {
    const ctx = heightContext()
    const m = makeMachine(0)
    m.startHeight(ctx)
    m.handle({ type: 'vote', vote: vote(1, VOTE_STEP.prevote, 5, undefined) })
    expect(m.round).toBe(0) // 1/4 of the stake
    m.handle({ type: 'vote', vote: vote(2, VOTE_STEP.precommit, 5, undefined) })
    expect(m.round).toBe(5) // 2/4 > 1/3
  })

  it('decides from a gossiped commit without having seen the proposal (catch-up), after validating the block', () => {
    const ctx = heightContext()
    const net = network(ctx)
    net.start()
    const commit = net.decisions[0]![0]!.commit
    const late = makeMachine(0)
    late.startHeight(ctx)
    const out = late.handle({ type: 'commit', commit })
    const validate = ofType(out, 'validate')
    expect(validate).toHaveLength(1)
    const decided = ofType(late.handle({ type: 'verdict', height: 1, blockId: commit.blockId, valid: true }), 'decide')
    expect(decided).toHaveLength(1)
    expect(toHex(decided[0]!.blockId)).toBe(toHex(commit.blockId))
  })

  it('buffers messages of the next height and replays them when that height starts', () => {
    const ctx = heightContext()
    const m = makeMachine(0)
    m.startHeight(ctx)
    const ctx2 = heightContext(undefined, 2)
    expect(m.handle({ type: 'vote', vote: vote(1, VOTE_STEP.prevote, 3, undefined, 2) })).toEqual([])
    m.handle({ type: 'vote', vote: vote(2, VOTE_STEP.prevote, 3, undefined, 2) })
    m.startHeight(ctx2)
    expect(m.round).toBe(3)
  })
})

describe('verifyCommit', () => {
  const ctx = heightContext([10n, 10n, 10n, 10n])
  const net = network(ctx)
  net.start()
  const commit = net.decisions[0]![0]!.commit
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f()
      return undefined
    } catch (error) {
      return error instanceof BftError ? error.code : 'other'
    }
  }
  it('accepts the real commit', () => {
    expect(codeOf(() => verifyCommit(commit, { chainId: CHAIN, validators: ctx.validators, height: 1, blockId: commit.blockId }))).toBeUndefined()
  })
  it('refuses a commit without a quorum, a forged signature, a repeated signer, a stranger, another block', () => {
    const c = { chainId: CHAIN, validators: ctx.validators }
    expect(codeOf(() => verifyCommit({ ...commit, signatures: commit.signatures.slice(0, 2) }, c))).toBe('NO_QUORUM')
    const forged = commit.signatures.map((s, i) => (i === 0 ? { ...s, signature: commit.signatures[1]!.signature } : s))
    expect(codeOf(() => verifyCommit({ ...commit, signatures: forged }, c))).toBe('BAD_SIGNATURE')
    expect(codeOf(() => verifyCommit({ ...commit, signatures: [commit.signatures[0]!, ...commit.signatures] }, c))).toBe('DUPLICATE_SIGNER')
    const other = heightContext([10n, 10n, 10n, 0n])
    const withZero = commit.signatures.some((s) => toHex(s.validator) === toHex(KEYS[3]!.publicKey))
    if (withZero) expect(codeOf(() => verifyCommit(commit, { chainId: CHAIN, validators: other.validators }))).toBe('NOT_VALIDATOR')
    expect(codeOf(() => verifyCommit({ ...commit, blockId: blockId('other') }, c))).toBe('BAD_SIGNATURE')
    expect(codeOf(() => verifyCommit(commit, { ...c, blockId: blockId('other') }))).toBe('COMMIT_MISMATCH')
    expect(codeOf(() => verifyCommit(commit, { ...c, chainId: 'xsc-other' }))).toBe('WRONG_CHAIN')
  })
})

