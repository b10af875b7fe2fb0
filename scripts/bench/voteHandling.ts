/**
 * CPU of one validator handling a peer's vote from link bytes to the state machine, in process:
 * the link payload's kind byte, `createLinkReceive` (the gossip handler table: decode with its
 * canonical check, the per-neighbour vote cap), the driver's height checks and `isSettledVote`,
 * and `BftMachine.handle` (validator lookup, tally, the signature check, the rules). A real
 * 4-validator set with equal stake; the receiver is an observer (signs nothing), so no own votes
 * are counted here. Each height the three other validators' prevotes and precommits for one block
 * arrive (6 votes, each a fresh signature: all 6 are verified, as on an idle validator).
 *
 * Arms, alternated over `--rounds` (medians): `handle` the whole path above, `decode` the link
 * decode with its canonical check and the vote's signing hash as `decode(ConsensusMessage)` gives
 * them, `decodeInPlace` the same through `decodeConsensusMessage` (the body re-encoded and compared
 * in place, its bytes reused for the signing hash), `verify` the ed25519 verify alone on the same
 * votes (node:crypto). `handle − verify` is what our code adds per vote.
 *
 *   npx tsx scripts/bench/voteHandling.ts --heights 300 --rounds 5 [--only handle]
 */
import '../../src/polyfill.ts'

import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'

import { decode, encode } from '../../blocks/codec.ts'
import { BftMachine, computeInitialPriorities, type TimeoutParams } from '../../consensus/bft/index.ts'
import { ConsensusMessage, decodeConsensusMessage, type SignedVote, VOTE_STEP, voteSigningHash } from '../../consensus/bft/messages.ts'
import { computeValidatorSet } from '../../consensus/validatorSet.ts'
import { hash, type KeyPair, keyPairFromSecret, sign, u32be, verify } from '../../src/crypto/index.ts'
import { PeerRateLimit } from '../../src/net/peerRateLimit.ts'
import { createLinkReceive } from '../../src/node/network/createLinkReceive.ts'
import { median, round } from './support/stats.ts'

const { values } = parseArgs({ options: { heights: { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' }, only: { type: 'string' }, repeat: { type: 'string', default: '10' } } })
const heights = Number(values.heights)
const rounds = Number(values.rounds)
const repeat = Number(values.repeat)
const CHAIN = 'xsc-vote-bench'
const TIMEOUTS: TimeoutParams = { proposeMs: 60_000, proposeDeltaMs: 0, prevoteMs: 60_000, prevoteDeltaMs: 0, precommitMs: 60_000, precommitDeltaMs: 0 }
const keys: KeyPair[] = [1, 2, 3, 4].map((i) => keyPairFromSecret(hash(u32be(7000 + i))))
const stakes = keys.map((k) => ({ address: k.publicKey, stake: 10n }))
const validators = computeValidatorSet(stakes)
const priorities = computeInitialPriorities(stakes)
const peers = keys.map((_, i) => `12D3KooWLWgXL73ZNzcXk6xtApdoNXwd6DQ9b4WyzUHz7FYeqhx${i}`)

/** Link payloads ([kind][ConsensusMessage]) of the other three validators' votes at `height` (fresh signatures: distinct per height). */
function votesAt(height: number): { from: string; bytes: Uint8Array; vote: SignedVote }[] {
  const blockId = hash(u32be(height))
  const out: { from: string; bytes: Uint8Array; vote: SignedVote }[] = []
  for (const step of [VOTE_STEP.prevote, VOTE_STEP.precommit]) {
    for (let i = 1; i < 4; i++) {
      // Signed directly, not with signVote: that remembers the verdict of a signature it makes.
      const body = { chainId: CHAIN, step, height, round: 0, blockId, validator: keys[i]!.publicKey }
      const vote: SignedVote = { body, signature: sign(keys[i]!.secretKey, voteSigningHash(body)) }
      out.push({ from: peers[i]!, bytes: encode(ConsensusMessage, { type: 'vote', vote }), vote })
    }
  }
  return out
}

// Every arm of every round gets heights of its own: the process-wide verdict cache never hits.
const arms = (['handle', 'decode', 'decodeInPlace', 'verify'] as const).filter((a) => values.only === undefined || a === values.only)
let nextHeight = 1
const plan = Array.from({ length: rounds }, () => Object.fromEntries(arms.map((a) => [a, Array.from({ length: heights }, () => votesAt(nextHeight++))])) as Record<(typeof arms)[number], ReturnType<typeof votesAt>[]>)

const cpuUs = (): number => {
  const u = process.cpuUsage()
  return u.user + u.system
}
const usPerVote: Record<string, number[]> = { handle: [], decode: [], decodeInPlace: [], verify: [] }
let accepted = 0
for (const r of plan) {
  for (const arm of arms) {
    const batches = r[arm]
    if (arm === 'handle') {
      const machine = new BftMachine({ chainId: CHAIN, secretKey: undefined, timeouts: TIMEOUTS })
      const cap = new PeerRateLimit({ perSecond: () => 64_000, burst: () => 64_000 })
      const receive = createLinkReceive({
        admitTx: async () => undefined,
        processBlock: async () => 'ignore',
        handleCommitted: async () => 'ignore',
        submitEvidence: () => false,
        withinEvidenceCap: () => true,
        withinVoteCap: (from) => from === undefined || cap.take(from),
        // As ConsensusDriver.#handleMessage does for a vote of the current height.
        handleConsensus: async (message) => {
          if (message.type !== 'vote') return 'ignore'
          const settled = machine.isSettledVote(message.vote)
          machine.handle({ type: 'vote', vote: message.vote })
          return settled ? 'ignore' : 'accept'
        },
      })
      const start = cpuUs()
      for (const votes of batches) {
        machine.startHeight({ height: votes[0]!.vote.body.height, validators, priorities })
        for (const v of votes) if ((await receive('consensus', v.bytes, v.from)) === 'accept') accepted++
      }
      usPerVote.handle!.push((cpuUs() - start) / (heights * 6))
    } else if (arm === 'decode' || arm === 'decodeInPlace') {
      // The link decode and the signing hash the verify needs (each decode gives a fresh body: no memo hit).
      // Repeated (nothing here is cached across decodes): a few µs need more votes than the verify arms to rise above the noise.
      const start = cpuUs()
      for (let k = 0; k < repeat; k++) {
        for (const votes of batches) {
          for (const v of votes) {
            const m = arm === 'decode' ? decode(ConsensusMessage, v.bytes) : decodeConsensusMessage(v.bytes)
            if (m.type === 'vote') voteSigningHash(m.vote.body)
          }
        }
      }
      usPerVote[arm]!.push((cpuUs() - start) / (heights * 6 * repeat))
    } else {
      const hashes = batches.map((votes) => votes.map((v) => voteSigningHash(v.vote.body)))
      const start = cpuUs()
      batches.forEach((votes, h) => votes.forEach((v, i) => verify(v.vote.body.validator, hashes[h]![i]!, v.vote.signature) || accepted--))
      usPerVote.verify!.push((cpuUs() - start) / (heights * 6))
    }
  }
}
const med = (a: string): number => median(usPerVote[a]!)
console.log(JSON.stringify({
  heights, rounds, votes: heights * 6 * rounds,
  handleUsPerVote: round(med('handle'), 1),
  verifyUsPerVote: round(med('verify'), 1),
  addedUsPerVote: round(med('handle') - med('verify'), 1),
  decodeAndSigningHashUsPerVote: round(med('decode'), 2),
  decodeInPlaceAndSigningHashUsPerVote: round(med('decodeInPlace'), 2),
  accepted,
  rounds_: usPerVote,
  load1: round(loadavg()[0]!, 1),
}))
