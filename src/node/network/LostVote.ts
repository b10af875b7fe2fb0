import type { Hash } from '../../../blocks/schema.ts'
import type { SignedVote } from '../../../consensus/bft/messages.ts'
import { type KeyPair, toHex } from '../../crypto/index.ts'
import type { Logger } from '../logger.ts'
import type { SignedPosition } from '../signGuard.ts'
import { computeSignedUpTo, lostVoteAt, recoverLostVote } from './restartPosition.ts'

/**
 * The last vote we signed before a restart may never have left (killed between the guard's write
 * and the send). If it completed a quorum the others wait for it forever (they locked and
 * precommitted; without it nobody reaches a round's "any 2/3" and times out). The consensus
 * driver tries each value it could have named (nil, or a block id seen in that round) until one
 * matches the guard's hash, then counts it and sends it again. One per driver.
 */
export class LostVote {
  readonly #key: KeyPair | undefined
  readonly #chainId: string
  readonly #log: Logger
  /** The guard's position and hash of the lost vote, until it is found again. */
  #lost: SignedPosition | undefined

  constructor(key: KeyPair | undefined, chainId: string, log: Logger) {
    this.#key = key
    this.#chainId = chainId
    this.#log = log
  }

  /**
   * A height starts (`last`: the guard's last position): HeightContext.signedUpTo for it (sign
   * nothing at or below the guard's position after a restart inside it), and the vote to look for.
   */
  startHeight(last: SignedPosition | undefined, height: number): { signedUpTo?: { round: number; step: number } } {
    const signed = computeSignedUpTo(last, height)
    if (signed.signedUpTo !== undefined) this.#log.info({ height, ...signed.signedUpTo }, 'height signed before a restart: nothing signed again at or below that position')
    this.#lost = lostVoteAt(last, height)
    return signed
  }

  /** Whether a message of `round` may name the lost vote's value. */
  isLostIn(round: number): boolean {
    return this.#lost?.round === round
  }

  /** The lost vote if it named `candidate` (undefined = nil) at `height`: found once. */
  find(height: number | undefined, candidate: Hash | undefined): SignedVote | undefined {
    const lost = this.#lost
    const key = this.#key
    if (lost === undefined || key === undefined || height !== lost.height) return undefined
    const vote = recoverLostVote(lost, candidate, key, this.#chainId)
    if (vote === undefined) return undefined
    this.#lost = undefined
    this.#log.info({ height: lost.height, round: lost.round, step: lost.step, blockId: candidate === undefined ? null : toHex(candidate) }, 'our last vote before the restart found again: counted and sent')
    return vote
  }
}
