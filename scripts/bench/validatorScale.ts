/**
 * One node's consensus work per height as the validator set grows: 4 (the baseline, same run)
 * and 1000 validators (or `--validators N`). Every other validator's proposal, prevote and
 * precommit is signed beforehand (their cost, not ours), then fed to one node the way gossip
 * does: bytes → `ConsensusMessage` decode → `BftMachine.handle` (which checks each signature),
 * until the machine decides. Also the sizes that must not hit a hard limit as n grows: the commit
 * against the consensus topic's gossip cap, and the round-state answer against its own cap.
 *
 *   npm run bench:validator-scale [-- --validators 1000 --heights 3]
 *
 * Last line: one JSON object (`msPerHeight1000`, `usPerVote1000`, `perVoteRatio` = per-vote cost
 * at n ÷ at 4, `commitBytes1000`, `commitFitsGossip`, `roundStateBytes1000`, `verifyCommitMs1000`).
 */
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { type Commit, ConsensusMessage, signProposal, signVote, VOTE_STEP } from '../../consensus/bft/messages.ts'
import { BftMachine } from '../../consensus/bft/stateMachine.ts'
import { DEFAULT_TIMEOUTS } from '../../consensus/bft/timeouts.ts'
import { verifyCommit } from '../../consensus/bft/verifyCommit.ts'
import { computeInitialPriorities, computeRoundProposer } from '../../consensus/proposerPriority.ts'
import { computeValidatorSet } from '../../consensus/validatorSet.ts'
import { equalBytes, hash, hashParts, type KeyPair, keyPairFromSecret, u32be, utf8 } from '../../src/crypto/index.ts'
import { GOSSIP_MAX_BYTES } from '../../src/net/topics.ts'
import { computeMaxRoundStateBytes, encodeRoundState } from '../../src/node/network/roundStateExchange.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { validators: { type: 'string', default: '1000' }, heights: { type: 'string', default: '3' } } })
const N = Number(values.validators)
const HEIGHTS = Number(values.heights)
const CHAIN_ID = 'xsc-bench'

interface Measured { msPerHeight: number; usPerVote: number; commitBytes: number; roundStateBytes: number; verifyCommitMs: number }

function measure(n: number, heights: number): Measured {
  const keys: KeyPair[] = Array.from({ length: n }, (_, i) => keyPairFromSecret(hash(utf8(`bench-validator-scale/${i}`))))
  const set = computeValidatorSet(keys.map((k) => ({ address: k.publicKey, stake: 1_000n })))
  const priorities = computeInitialPriorities(set.validators)
  const proposer = computeRoundProposer(priorities, 0)
  const us = keys.find((k) => !equalBytes(k.publicKey, proposer))!
  const times: number[] = []
  let commit: Commit | undefined
  let roundStateBytes = 0
  for (let height = 1; height <= heights; height++) {
    const blockId = hashParts(utf8('bench-block'), u32be(height))
    const proposerKey = keys.find((k) => equalBytes(k.publicKey, proposer))!
    const others = keys.filter((k) => k !== us)
    const wire = (m: ConsensusMessage): Uint8Array => encode(ConsensusMessage, m)
    const proposal = wire({ type: 'proposal', proposal: signProposal({ chainId: CHAIN_ID, height, round: 0, blockId, validRound: -1, proposer }, proposerKey.secretKey) })
    const votes = (step: number): Uint8Array[] => others.map((k) => wire({ type: 'vote', vote: signVote({ chainId: CHAIN_ID, step, height, round: 0, blockId, validator: k.publicKey }, k.secretKey) }))
    const prevotes = votes(VOTE_STEP.prevote)
    const precommits = votes(VOTE_STEP.precommit)

    const machine = new BftMachine({ chainId: CHAIN_ID, secretKey: us.secretKey, timeouts: DEFAULT_TIMEOUTS })
    const t0 = performance.now()
    machine.startHeight({ height, validators: set, priorities })
    const feed = (bytes: Uint8Array): void => {
      const m = decode(ConsensusMessage, bytes)
      for (const a of machine.handle(m)) if (a.type === 'decide') commit = a.commit
    }
    feed(proposal)
    for (const a of machine.handle({ type: 'verdict', height, blockId, valid: true })) if (a.type === 'decide') commit = a.commit
    for (const v of prevotes) feed(v)
    if (height === 1) roundStateBytes = encodeRoundState(machine.gossipSnapshot(), n).length
    for (const v of precommits) feed(v)
    times.push(performance.now() - t0)
    if (commit === undefined || commit.height !== height) throw new Error(`no decision at height ${height} with ${n} validators`)
  }
  const t1 = performance.now()
  verifyCommit(commit!, { chainId: CHAIN_ID, validators: set, height: heights, blockId: commit!.blockId })
  const verifyCommitMs = performance.now() - t1
  const msPerHeight = median(times)
  return { msPerHeight, usPerVote: (msPerHeight * 1000) / (2 * n + 1), commitBytes: encode(ConsensusMessage, { type: 'commit', commit: commit! }).length, roundStateBytes, verifyCommitMs }
}

measure(4, 2) // warm-up: JIT and the signature memo paths
const base = measure(4, HEIGHTS)
console.log(JSON.stringify({ phase: 'baseline', validators: 4, ...base }))
const big = measure(N, HEIGHTS)
console.log(JSON.stringify({ phase: 'measured', validators: N, ...big }))
console.log(JSON.stringify({
  validators: N,
  [`msPerHeight${N}`]: round(big.msPerHeight, 1),
  [`usPerVote${N}`]: round(big.usPerVote, 1),
  msPerHeight4: round(base.msPerHeight, 2),
  usPerVote4: round(base.usPerVote, 1),
  /** Per-vote cost at N over at 4: ~1 means a node's work per height grows linearly with n. */
  perVoteRatio: round(big.usPerVote / base.usPerVote, 2),
  [`commitBytes${N}`]: big.commitBytes,
  consensusGossipMaxBytes: GOSSIP_MAX_BYTES.consensus,
  commitFitsGossip: big.commitBytes <= GOSSIP_MAX_BYTES.consensus,
  [`roundStateBytes${N}`]: big.roundStateBytes,
  roundStateMaxBytes: computeMaxRoundStateBytes(N),
  [`verifyCommitMs${N}`]: round(big.verifyCommitMs, 1),
}))
