import { encode } from '../../../blocks/codec.ts'
import { ConsensusMessage, type SignedVote, signVote } from '../../../consensus/bft/messages.ts'
import { hashParts, type KeyPair, utf8 } from '../../crypto/index.ts'
import type { Logger } from '../logger.ts'
import type { SignGuard } from '../signGuard.ts'

export interface OwnMessagesModules {
  log: Logger
  publish(topic: 'blocks' | 'consensus', data: Uint8Array): void
  /** Required with a validator key: the double-sign state on disk. */
  signGuard: SignGuard | undefined
  validatorKey: KeyPair | undefined
  /** A held proposal block's bytes: sent just before the proposal that names it. */
  heldBlockBytes(blockId: Uint8Array): Uint8Array | undefined
  isStopped(): boolean
  /** TEST ONLY: every vote for a block leaves with a conflicting vote for another (see ConsensusDriverOpts.twin). */
  twin: boolean
}

/**
 * What this validator signs leaves only after the sign guard has its position on disk. The
 * guard's verdict is immediate and its write runs off the event loop (admitAllDurably), so a
 * validator keeps handling peers' messages while the disk syncs; messages go out in the order
 * they were signed. `published` remembers what left (round-state serves only these of ours).
 */
export class OwnMessages {
  readonly #m: OwnMessagesModules
  readonly published = new WeakSet<object>()

  constructor(modules: OwnMessagesModules) {
    this.#m = modules
  }

  send(messages: ConsensusMessage[]): void {
    const guard = this.#m.signGuard
    if (guard === undefined) return this.#publish(messages)
    const verdict = guard.admitAllDurably(messages)
    for (const { error } of verdict.refused) this.#m.log.warn({ err: error.message, code: error.code }, 'sign guard refused a message')
    if (verdict.admitted.length === 0) return
    verdict.durable.then(
      () => this.#publish(verdict.admitted),
      (err: unknown) => this.#m.log.error({ err: String(err) }, 'sign guard write failed: nothing more is signed'),
    )
  }

  #publish(messages: readonly ConsensusMessage[]): void {
    if (this.#m.isStopped()) return
    for (const message of messages) {
      if (message.type === 'proposal') {
        this.published.add(message.proposal)
        // Its block first, in the same tick: on a link the block, the proposal and our prevote leave
        // as one write (one wake-up per peer, not two). A fresh value leaves only here; a re-proposed
        // one (validRound >= 0) again, for a validator that missed it (restarted, or not linked then).
        const held = this.#m.heldBlockBytes(message.proposal.body.blockId)
        if (held !== undefined) this.#m.publish('blocks', held)
      } else if (message.type === 'vote') this.published.add(message.vote)
      this.#m.publish('consensus', encode(ConsensusMessage, message))
      const key = this.#m.validatorKey
      if (this.#m.twin && message.type === 'vote' && message.vote.body.blockId !== undefined && key !== undefined) {
        this.#m.publish('consensus', encode(ConsensusMessage, { type: 'vote', vote: twinVote(message.vote, key) }))
      }
    }
  }
}

/** TEST ONLY: the conflicting vote a twin sends beside each vote for a block (bypassing the guard on purpose). */
function twinVote(vote: SignedVote, key: KeyPair): SignedVote {
  const other = hashParts(utf8('XSC/twin/v1'), vote.body.blockId!)
  return signVote({ ...vote.body, blockId: other }, key.secretKey)
}
