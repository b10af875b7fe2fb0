import { type Codec, decode, encode, list } from '../../../blocks/codec.ts'
import { ROUND_WINDOW } from '../../../consensus/bft/HeightMessages.ts'
import { type Commit, ConsensusMessage, type SignedProposal, type SignedVote } from '../../../consensus/bft/messages.ts'
import { equalBytes } from '../../crypto/index.ts'
import { GOSSIP_MAX_BYTES, type NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

/**
 * Round-state exchange: gossipsub never re-sends a message it has seen, so a peer that lost
 * ours (it restarted, or connected late) asks for them directly. A node answers with its own
 * proposal and votes of every round of its current height (only those its sign guard let out),
 * the prevotes behind a re-proposed value, every validator's votes it holds of its current round
 * (a restarted validator gets its own back) and the last commit (ConsensusDriver.roundState). The asker feeds each through the same
 * checks as gossip. Bounds follow the validator set: no fixed limit that breaks as it grows.
 */
export function roundStateProtocol(chainId: string): string {
  return `/xsc/${chainId}/round-state/1`
}

/** Messages an answer may hold: own proposal + 2 votes per round (bounded by the machine's window), the POL prevotes, every validator's two votes of the current round and one commit. */
export function computeMaxRoundStateMessages(validatorCount: number): number {
  return 3 * (ROUND_WINDOW + 1) + 3 * validatorCount + 64
}

/** Byte cap of an answer: a commit (one gossip message at most) and small messages. */
export function computeMaxRoundStateBytes(validatorCount: number): number {
  return GOSSIP_MAX_BYTES.consensus + computeMaxRoundStateMessages(validatorCount) * 512
}

const codecs = new Map<number, Codec<ConsensusMessage[]>>()
function messageListCodec(validatorCount: number): Codec<ConsensusMessage[]> {
  const max = computeMaxRoundStateMessages(validatorCount)
  let codec = codecs.get(max)
  if (codec === undefined) {
    codec = list(ConsensusMessage, max)
    codecs.set(max, codec)
  }
  return codec
}

/** A round-state answer's bytes: at most computeMaxRoundStateMessages(validatorCount) messages. */
export function encodeRoundState(messages: readonly ConsensusMessage[], validatorCount: number): Uint8Array {
  return encode(messageListCodec(validatorCount), messages.slice(0, computeMaxRoundStateMessages(validatorCount)))
}

/**
 * A round-state answer: the last commit; our own messages (every round of the height, the current
 * round's snapshot with a re-proposal's proof of lock), only those our sign guard let out
 * (`published`: a message it refused is never shown to anyone); then everyone's votes of the
 * current round we hold (a restarted validator gets its own back, a node that lost messages the
 * rest). Each signed message once.
 */
export function computeRoundStateAnswer(parts: { lastCommit: Commit | undefined; own: readonly ConsensusMessage[]; held: readonly SignedVote[]; self: Uint8Array | undefined; published: WeakSet<object> }): ConsensusMessage[] {
  const { self, published } = parts
  const out: ConsensusMessage[] = parts.lastCommit === undefined ? [] : [{ type: 'commit', commit: parts.lastCommit }]
  const served = new Set<object>()
  const servable = (signed: SignedProposal | SignedVote, signer: Uint8Array): boolean => {
    if (served.has(signed) || (self !== undefined && equalBytes(signer, self) && !published.has(signed))) return false
    served.add(signed)
    return true
  }
  for (const message of parts.own) {
    if (message.type === 'proposal' ? servable(message.proposal, message.proposal.body.proposer) : message.type === 'vote' && servable(message.vote, message.vote.body.validator)) out.push(message)
  }
  for (const vote of parts.held) if (servable(vote, vote.body.validator)) out.push({ type: 'vote', vote })
  return out
}

export interface RoundStateSource {
  roundState(): ConsensusMessage[]
  validatorCount(): number
}

export async function serveRoundState(net: NetNode, source: RoundStateSource): Promise<void> {
  await net.handle(roundStateProtocol(net.chainId), async () => encodeRoundState(source.roundState(), source.validatorCount()), { maxRequestBytes: 0, maxBodyBytes: 0, timeoutMs: 5_000 })
}

/** Pulls `peer`'s round state and hands each message to `handle` (which checks it as gossip would). */
export async function exchangeRoundState(net: NetNode, peer: string, validatorCount: number, handle: (message: ConsensusMessage) => Promise<unknown>, log: Logger): Promise<void> {
  try {
    const res = await net.request(peer, roundStateProtocol(net.chainId), new Uint8Array(0), { timeoutMs: 5_000, maxResponseBytes: computeMaxRoundStateBytes(validatorCount) })
    for (const message of decode(messageListCodec(validatorCount), res)) {
      try {
        await handle(message)
      } catch {
        // an invalid message does not spoil the others (the sender is judged by gossip scoring)
      }
    }
  } catch (err) {
    log.debug({ peer, err: String(err) }, 'round-state exchange failed')
  }
}
