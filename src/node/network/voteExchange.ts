import { type Codec, decode, encode, list } from '../../../blocks/codec.ts'
import { Attestation } from '../../../blocks/schema.ts'
import { GOSSIP_MAX_BYTES, type NetNode } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

/**
 * Vote exchange: a node answers with every validator's latest vote it counted, signed; the asker
 * counts the ones gossip lost. The answer holds at most one vote per validator, so its bounds
 * follow the validator set instead of a fixed number: `computeMaxVotes(n)` entries (room for a
 * set that grew on the peer's side) and `computeMaxVoteAnswerBytes(n)` bytes on the wire.
 */
export function voteExchangeProtocol(chainId: string): string {
  return `/xsc/${chainId}/votes/1`
}

/** Entries a vote answer may hold for a set of `validatorCount`: the set plus a quarter (at least 64) for validators that joined on the peer's chain first. */
export function computeMaxVotes(validatorCount: number): number {
  return validatorCount + Math.max(64, validatorCount >> 2)
}

/** Byte cap of a vote answer: each vote is at most one attestation gossip message. */
export function computeMaxVoteAnswerBytes(validatorCount: number): number {
  return computeMaxVotes(validatorCount) * GOSSIP_MAX_BYTES.attestations
}

const codecs = new Map<number, Codec<Attestation[]>>()
/** The vote-list codec bounded for a set of `validatorCount` (one codec per bound, kept). */
export function voteListCodec(validatorCount: number): Codec<Attestation[]> {
  const max = computeMaxVotes(validatorCount)
  let codec = codecs.get(max)
  if (codec === undefined) {
    codec = list(Attestation, max)
    codecs.set(max, codec)
  }
  return codec
}

export interface VoteSource {
  /** Every validator's latest counted vote. */
  latestAttestations(): Attestation[]
  validatorCount(): number
}

/** Peers ask every sync poll and on connect: an answer is encoded at most every ANSWER_CACHE_MS, whoever asks. */
const ANSWER_CACHE_MS = 250

export async function serveVoteExchange(net: NetNode, votes: VoteSource, now: () => number = Date.now): Promise<void> {
  let cached: { at: number; bytes: Uint8Array } | undefined
  await net.handle(voteExchangeProtocol(net.chainId), async () => {
    const t = now()
    if (cached === undefined || t - cached.at >= ANSWER_CACHE_MS) cached = { at: t, bytes: encode(voteListCodec(votes.validatorCount()), votes.latestAttestations()) }
    return cached.bytes
  }, { maxRequestBytes: 0, maxBodyBytes: 0, timeoutMs: 5_000 })
}

/** Pulls `peer`'s latest votes and hands each to `count` (which checks it as gossip would). */
export async function exchangeVotes(net: NetNode, peer: string, validatorCount: number, count: (att: Attestation) => void, log: Logger): Promise<void> {
  try {
    const res = await net.request(peer, voteExchangeProtocol(net.chainId), new Uint8Array(0), { timeoutMs: 5_000, maxResponseBytes: computeMaxVoteAnswerBytes(validatorCount) })
    for (const att of decode(voteListCodec(validatorCount), res)) {
      try {
        count(att)
      } catch {
        // a vote that does not count (unknown block, equivocation, bad signature): the others still do
      }
    }
  } catch (err) {
    log.debug({ peer, err: String(err) }, 'vote exchange failed')
  }
}
