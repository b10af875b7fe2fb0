import { describe, expect, it } from 'vitest'

import { decode, encode } from '../../../../blocks/codec.ts'
import { type Commit, ConsensusMessage, signProposal, signVote, VOTE_STEP } from '../../../../consensus/bft/messages.ts'
import { BftMachine } from '../../../../consensus/bft/stateMachine.ts'
import { DEFAULT_TIMEOUTS } from '../../../../consensus/bft/timeouts.ts'
import { verifyCommit } from '../../../../consensus/bft/verifyCommit.ts'
import { computeInitialPriorities, computeRoundProposer } from '../../../../consensus/proposerPriority.ts'
import { computeValidatorSet } from '../../../../consensus/validatorSet.ts'
import { equalBytes, hash, keyPairFromSecret, utf8 } from '../../../../src/crypto/index.ts'
import { GOSSIP_MAX_BYTES } from '../../../../src/net/topics.ts'

/** No hard limit breaks as the set grows: one node decides a height of 1000 validators from gossip bytes. */
describe('a height with 1000 validators', () => {
  it('decides from wire-decoded votes, and its commit fits one consensus gossip message and verifies', () => {
    const n = 1000
    const keys = Array.from({ length: n }, (_, i) => keyPairFromSecret(hash(utf8(`thousand-validators/${i}`))))
    const set = computeValidatorSet(keys.map((k) => ({ address: k.publicKey, stake: 10n })))
    const priorities = computeInitialPriorities(set.validators)
    const proposer = computeRoundProposer(priorities, 0)
    const me = keys.find((k) => !equalBytes(k.publicKey, proposer))!
    const blockId = hash(utf8('the block'))
    const machine = new BftMachine({ chainId: 'xsc-test', secretKey: me.secretKey, timeouts: DEFAULT_TIMEOUTS })
    machine.startHeight({ height: 1, validators: set, priorities })
    let commit: Commit | undefined
    const feed = (m: ConsensusMessage): void => {
      for (const a of machine.handle(decode(ConsensusMessage, encode(ConsensusMessage, m)))) if (a.type === 'decide') commit = a.commit
    }
    feed({ type: 'proposal', proposal: signProposal({ chainId: 'xsc-test', height: 1, round: 0, blockId, validRound: -1, proposer }, keys.find((k) => equalBytes(k.publicKey, proposer))!.secretKey) })
    machine.handle({ type: 'verdict', height: 1, blockId, valid: true })
    // Exactly the votes a quorum needs (667 of 1000 equal stakes, ours included): one fewer must not decide.
    const others = keys.filter((k) => k !== me).slice(0, 666)
    for (const step of [VOTE_STEP.prevote, VOTE_STEP.precommit]) {
      for (const [i, k] of others.entries()) {
        if (step === VOTE_STEP.precommit && i === others.length - 1) expect(commit).toBeUndefined()
        feed({ type: 'vote', vote: signVote({ chainId: 'xsc-test', step, height: 1, round: 0, blockId, validator: k.publicKey }, k.secretKey) })
      }
    }
    expect(commit).toBeDefined()
    expect(commit!.signatures.length).toBeGreaterThanOrEqual(667)
    const bytes = encode(ConsensusMessage, { type: 'commit', commit: commit! })
    expect(bytes.length).toBeLessThan(GOSSIP_MAX_BYTES.consensus)
    expect(verifyCommit(commit!, { chainId: 'xsc-test', validators: set, height: 1, blockId })).toBeGreaterThan((set.totalStake * 2n) / 3n)
  }, 60_000)
})
