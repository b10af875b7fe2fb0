import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score'

/**
 * Gossipsub peer scoring (v1.1). The one penalty that matters on a small network is P4, invalid
 * message deliveries: each REJECTed message from a peer adds 1 to its counter on that topic, and
 * the topic contributes `weight * counter^2`. With weight -100 and the thresholds below:
 *   7 invalid messages  -> -4,900  < gossipThreshold  (-4,000): no more gossip to/from it
 *   9                   -> -8,100  < publishThreshold (-8,000): we stop publishing to it
 *   13                  -> -16,900 < graylistThreshold (-16,000): all its RPCs are dropped, and
 *                          createNetNode hangs up on it and bans its peer id for `banMs`.
 * Positive score is capped (topicScoreCap 50), so good behaviour cannot bank enough credit to
 * absorb a flood. The counter decays by 0.99 per second (half-life ~69 s).
 * P3 (mesh delivery rate) is off: on a quiet devnet topic every honest peer would be penalised.
 */
export const INVALID_MESSAGE_WEIGHT = -100
export const INVALID_MESSAGE_DECAY = 0.99

export const SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -4_000,
  publishThreshold: -8_000,
  graylistThreshold: -16_000,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 5,
}

export function topicScoreParams(): TopicScoreParams {
  return {
    topicWeight: 1,
    // P1: time in mesh, up to +10 after 5 minutes.
    timeInMeshWeight: 1 / 30,
    timeInMeshQuantum: 1_000,
    timeInMeshCap: 300,
    // P2: first deliveries, up to +20.
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 20,
    // P3/P3b: disabled (see above).
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.9,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 60_000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.9,
    // P4: invalid messages.
    invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
    invalidMessageDeliveriesDecay: INVALID_MESSAGE_DECAY,
  }
}

/** `appScore` is the P5 term: the node's own penalties (PeerPenalties), 0 when not given. */
export function peerScoreParams(topicNames: readonly string[], appScore: (peer: string) => number = () => 0): Partial<PeerScoreParams> {
  const topics: Record<string, TopicScoreParams> = {}
  for (const name of topicNames) topics[name] = topicScoreParams()
  return {
    topics,
    topicScoreCap: 50,
    appSpecificScore: appScore,
    appSpecificWeight: 1,
    // P6: many peers behind one IP. Loopback devnets stay under the threshold of 10.
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: 10,
    // P7: protocol misbehaviour (GRAFT during backoff, broken IWANT promises).
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 0,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1_000,
    decayToZero: 0.01,
    retainScore: 10 * 60_000,
  }
}

/**
 * Penalties for what gossipsub cannot see: answers to our range-sync requests. They are the
 * peer's application-specific score (gossipsub P5, weight 1), in the same units as the rest of
 * the score and decaying like P4 (0.99 per second), so a sync penalty also costs the peer its
 * gossip standing. createNetNode hangs up on and bans a peer whose penalties alone fall below the
 * graylist threshold (-16,000):
 *   a sync session whose answers never advanced us toward a head we still do not
 *   know (timeouts are no answers: a slow peer is not a lying one)              -5,000 (4 drop it)
 *   a status whose head is higher than the clock allows (1 block per ms)         -9,000 (2 drop it)
 *   a range-synced block that can never be valid                                -8,000 (2 drop it)
 */
export const SYNC_PENALTY = {
  noProgress: -5_000,
  implausibleStatus: -9_000,
  invalidBlock: -8_000,
} as const

/**
 * Penalties on a direct stream (a validator link, a commit feed, a receipt push): a message that
 * can never be valid (REJECT) costs `reject` (over gossip the n-th invalid message costs −100·n²:
 * 17 in a short time ban the sender at the graylist's −16,000, while a rare honest race decays
 * away); garbage (an undecodable or oversize frame, a flood) costs `garbage` and ends the stream.
 */
export const DIRECT_STREAM_PENALTY = {
  reject: -1_000,
  garbage: -5_000,
} as const

export class PeerPenalties {
  readonly #scores = new Map<string, { value: number; at: number }>()
  readonly #decayPerSecond: number
  readonly #now: () => number

  constructor(opts: { decayPerSecond?: number; now?: () => number } = {}) {
    this.#decayPerSecond = opts.decayPerSecond ?? INVALID_MESSAGE_DECAY
    this.#now = opts.now ?? Date.now
  }

  /** Adds `points` (negative for a penalty) and returns the peer's decayed total. */
  add(peer: string, points: number): number {
    const value = this.score(peer) + points
    this.#scores.set(peer, { value, at: this.#now() })
    return value
  }

  score(peer: string): number {
    const entry = this.#scores.get(peer)
    if (entry === undefined) return 0
    const value = entry.value * this.#decayPerSecond ** ((this.#now() - entry.at) / 1_000)
    // Forget what has decayed to nothing, so the map does not grow with every peer ever seen.
    if (Math.abs(value) < 1) this.#scores.delete(peer)
    return Math.abs(value) < 1 ? 0 : value
  }
}
