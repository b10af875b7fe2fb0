import type { GenesisConfig, StorageAck } from '../../blocks/schema.ts'
import { type KeyPair, toHex } from '../crypto/index.ts'
import type { HostIndex } from '../router/index.ts'
import { isAuditDue } from '../state/applyAudit.ts'
import { computeAuditEpoch } from '../state/storage/deriveAuditChallenges.ts'
import type { ChainStore } from './chainStore.ts'
import type { PreparedProposal } from './chainTypes.ts'
import { type AuditAnswers, type AuditResponder, gatherAuditAnswers } from './produceBlock/buildAuditEntry.ts'
import { gatherStorageAcks, type StorageAckResponder } from './produceBlock/buildStorageAckEntry.ts'
import { computeProposalContext } from './produceBlock/produceBlock.ts'

export interface ProposalInputsOpts {
  store: ChainStore
  genesis: GenesisConfig
  hostIndex: HostIndex
  /** The validator key; without one nothing is gathered. */
  key: KeyPair | undefined
  /** Early work failed: the proposer gathers again on its turn. */
  onError: (err: unknown) => void
}

/**
 * What a proposal needs from the network, gathered ahead of and outside the chain's lock: the
 * hosts' audit answers when a block is due to carry an audit, and their storage acks otherwise.
 */
export class ProposalInputs {
  readonly #opts: ProposalInputsOpts
  #auditResponder: AuditResponder | undefined
  /** Audit answers being gathered ahead of this node's turn, for one (head, audit epoch). */
  #auditAnswers: { key: string; answers: Promise<AuditAnswers | undefined> } | undefined
  #storageAckResponder: StorageAckResponder | undefined
  /** Storage acks asked of the hosts in the background: the latest answers, and the request under way. */
  #storageAcks: { latest: StorageAck[]; asking: Promise<void> | undefined } = { latest: [], asking: undefined }

  constructor(opts: ProposalInputsOpts) {
    this.#opts = opts
  }

  setAuditResponder(responder: AuditResponder): void {
    this.#auditResponder = responder
  }

  setStorageAckResponder(responder: StorageAckResponder): void {
    this.#storageAckResponder = responder
  }

  /**
   * What a proposal for `slot` on the current head needs from the network, gathered without any
   * lock: the hosts' answers when the block is due to carry an audit (and this node proposes it).
   */
  async prepare(slot: number, opts: { waitForStorageAcks?: boolean } = {}): Promise<PreparedProposal> {
    const head = this.#opts.store.head
    if (this.#opts.key === undefined) return { headHash: head.hash, auditAnswers: undefined }
    const auditAnswers = await this.#gatherAuditAnswers(slot)
    // Acks ride only when no audit takes the block; the entry keeps those that still apply. The
    // hosts are asked in the background and a proposal takes the latest answers without waiting:
    // asked in the proposal's path, the round trip to every host of a waiting placement delayed
    // every block while a placement waited (0.3-1.9 s each under load).
    // Without a network (produceBlock: one node, tests) the answers are awaited.
    this.prefetchStorageAcks()
    if (opts.waitForStorageAcks === true) await this.#storageAcks.asking
    const storageAcks = auditAnswers === undefined && this.#storageAckResponder ? this.#storageAcks.latest : undefined
    return { headHash: head.hash, auditAnswers, storageAcks }
  }

  /**
   * Starts gathering the hosts' audit answers a block at `slot` on the current head will need, so
   * that whichever validator proposes (this one in any round) has them at once. The challenges
   * depend only on the head's state and the audit epoch, so answers gathered early are the ones
   * the block needs; gathering them only when this node's turn came made an audit block miss its
   * propose timeout behind busy hosts, and the next round's proposer gathered again.
   */
  prefetchAuditAnswers(slot: number): void {
    try {
      void this.#gatherAuditAnswers(slot)
    } catch (err) {
      this.#opts.onError(err)
    }
  }

  /** Whether a block at `slot` on the head is due to carry an audit (a new audit epoch, something stored). */
  isAuditDue(slot: number): boolean {
    return isAuditDue(this.#opts.store.state, slot, this.#opts.genesis.params.auditEpochSlots)
  }

  /** Asks the hosts of waiting placements for their acks, unless a request is under way; the answers wait for the next proposal. */
  prefetchStorageAcks(): void {
    const responder = this.#storageAckResponder
    if (responder === undefined || this.#opts.key === undefined || this.#storageAcks.asking !== undefined) return
    const acks = this.#storageAcks
    acks.asking = gatherStorageAcks(this.#opts.store.state, responder)
      .then((answers) => { acks.latest = answers }, (err: unknown) => { this.#opts.onError(err) })
      .finally(() => { acks.asking = undefined })
  }

  #gatherAuditAnswers(slot: number): Promise<AuditAnswers | undefined> {
    const responder = this.#auditResponder
    const { store, genesis, key: validatorKey, hostIndex } = this.#opts
    if (responder === undefined || validatorKey === undefined) return Promise.resolve(undefined)
    const head = store.head
    const key = `${toHex(head.hash)}/${computeAuditEpoch(slot, genesis.params.auditEpochSlots)}`
    if (this.#auditAnswers?.key !== key) {
      const ctx = computeProposalContext(genesis, head, store.state, slot, head.header.timestamp + BigInt(genesis.slotMs), validatorKey.publicKey, hostIndex)
      const answers = gatherAuditAnswers(store.state, ctx, responder)
      answers.catch(() => undefined) // handled: whoever awaits it sees the failure
      this.#auditAnswers = { key, answers }
    }
    return this.#auditAnswers.answers
  }
}
