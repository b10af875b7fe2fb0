import { encode } from '../../../blocks/codec.ts'
import { blockHash } from '../../../blocks/ids.ts'
import { Attestation, Block, type Hash } from '../../../blocks/schema.ts'
import { validateBlockStructure } from '../../../blocks/validateBlock.ts'
import { type BlockNode, signAttestation } from '../../../consensus/finality.ts'
import { verifyProofs } from '../../../consensus/sealBlock.ts'
import { isFromFuture } from '../../../consensus/time.ts'
import type { Chain, ImportedBlock } from '../../chain/chain.ts'
import { ForkChoiceError } from '../../chain/errors.ts'
import { type BranchBlock, ForkChoiceStore, switchBranch } from '../../chain/forkChoice.ts'
import { equalBytes, type KeyPair, toHex } from '../../crypto/index.ts'
import { gossipVerdictOf, type ValidationResult } from '../../net/index.ts'
import type { Logger } from '../logger.ts'

/**
 * The consensus side of a networked node: block intake (import on the head, hold on a competing
 * branch, retry blocks from the future), attestations (sign our own, count others'), fork choice
 * and finality, around one started `Chain`.
 *
 * - A block is accepted only after it was imported through `Chain.importBlock`, or, on a
 *   competing branch, after its structure and consensus proofs checked out.
 * - Every chain mutation (gossip import, range sync, branch switch, the node's own proposals)
 *   runs under one lock (`locked`), so a revert never interleaves with an import.
 * - A validator signs an attestation for every block it imports at a height above its last one
 *   (never two blocks at one height: that would be equivocation) and gossips it.
 */
export interface ConsensusDriverOpts {
  /** Present on validators: signs and gossips attestations. */
  validatorKey?: KeyPair | undefined
  /** The clock (for `isFromFuture` only). */
  now: () => number
}

export interface ConsensusDriverModules {
  chain: Chain
  log: Logger
  publish(topic: 'blocks' | 'attestations', data: Uint8Array): void
  /** A block's parent is unknown: ask the neighbour that sent it for the range. */
  requestSync(peer: string): void
  /** Called (under the lock) after the store's finalized block moved to `height`. */
  onFinalized?: ((height: number) => void | Promise<void>) | undefined
}

const MAX_FUTURE_BLOCKS = 64
/** Slots a validator's own vote keeps it from voting on a conflicting branch (see #blockImported). */
const UNLOCK_SLOTS = 16

export class ConsensusDriver {
  readonly forkChoice: ForkChoiceStore
  readonly #chain: Chain
  readonly #m: ConsensusDriverModules
  readonly #log: Logger
  readonly #key: KeyPair | undefined
  readonly #now: () => number
  /** Blocks on competing branches, checked as far as possible without their parent state. */
  readonly #side = new Map<string, BranchBlock>()
  readonly #future = new Map<string, NodeJS.Timeout>()
  #lock: Promise<unknown> = Promise.resolve()
  #lastAttested: number
  #lockedOn: BlockNode | undefined
  #lockConflictSince: number | undefined
  #validatorsKey = ''
  #settleQueued = false
  #stopped = false
  readonly #onBlock = (imported: ImportedBlock): void => this.#blockImported(imported)

  constructor(opts: ConsensusDriverOpts, modules: ConsensusDriverModules) {
    this.#chain = modules.chain
    this.#m = modules
    this.#log = modules.log
    this.#key = opts.validatorKey
    this.#now = opts.now
    const store = this.#chain.store
    // Votes are not stored: after a restart, do not attest again what was (probably) attested.
    this.#lastAttested = store.head.height
    this.forkChoice = new ForkChoiceStore({ chainId: this.#chain.genesis.chainId, validators: this.#chain.validators(), finalized: { hash: store.finalized.hash, parentHash: new Uint8Array(32), height: store.finalized.height } })
  }

  /** Loads the unfinalized canonical blocks into fork choice and follows the chain's imports. */
  async start(): Promise<void> {
    const store = this.#chain.store
    for (let h = store.finalized.height + 1; h <= store.head.height; h++) {
      const hash = await store.getHashAtHeight(h)
      const block = hash && (await store.getBlock(hash))
      if (!hash || !block) break
      this.forkChoice.addBlock({ hash, parentHash: block.header.prevHash, height: h })
    }
    this.#refreshValidators()
    this.#chain.on('block', this.#onBlock)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const t of this.#future.values()) clearTimeout(t)
    this.#future.clear()
    this.#chain.off('block', this.#onBlock)
    await this.#lock.catch(() => undefined)
  }

  /** Runs `f` under the chain lock (after every mutation queued before it). */
  locked<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(f, f)
    this.#lock = run.catch(() => undefined)
    return run
  }

  /** In fork choice or held as a side block. */
  isKnown(hash: Hash): boolean {
    return this.forkChoice.has(hash) || this.#side.has(toHex(hash))
  }

  validatorCount(): number {
    return this.#chain.validators().length
  }

  // --- blocks ---

  /**
   * Handles a decoded block from gossip (`from` = the neighbour) or range sync (`from`
   * undefined): import on the head, hold on a competing branch and run fork choice, or ignore
   * and sync when its parent is unknown.
   */
  async processBlock(block: Block, bytes: Uint8Array, from?: string): Promise<ValidationResult> {
    const hash = blockHash(block.header)
    const key = toHex(hash)
    const store = this.#chain.store
    if (this.forkChoice.has(hash) || this.#side.has(key) || (await store.getBlockBytes(hash)) !== undefined) return 'ignore'
    if (block.header.height <= store.finalized.height) return 'ignore'
    const now = this.#now()
    if (isFromFuture(block.header, now, this.#chain.genesis.consensus.driftMs)) {
      this.#retryLater(key, block, bytes, Number(block.header.timestamp) - this.#chain.genesis.consensus.driftMs - now)
      return 'ignore'
    }
    return this.locked(async () => {
      if (this.forkChoice.has(hash) || this.#side.has(key)) return 'ignore'
      const parent = block.header.prevHash
      if (equalBytes(parent, store.head.hash)) {
        try {
          await this.#chain.importBlock(block, bytes)
        } catch (e) {
          const verdict = gossipVerdictOf(e, 'blocks')
          this.#log.info({ height: block.header.height, hash: key, from, verdict, err: e instanceof Error ? e.message : String(e) }, 'block not imported')
          return verdict
        }
        await this.settle()
        return 'accept'
      }
      if (this.forkChoice.has(parent)) return this.#addSideBlock({ block, hash, bytes }, from)
      if (from !== undefined && (await store.getBlockBytes(parent)) === undefined) this.#m.requestSync(from)
      return 'ignore'
    })
  }

  /** A block on a competing branch: check what can be checked without its parent's state, then let fork choice decide. */
  async #addSideBlock(b: BranchBlock, from: string | undefined): Promise<ValidationResult> {
    const { block, hash } = b
    const parentKey = toHex(block.header.prevHash)
    const parent = this.#side.get(parentKey)?.block ?? (await this.#chain.store.getBlock(block.header.prevHash))
    if (parent === undefined) return 'ignore'
    try {
      validateBlockStructure(block, this.#chain.genesis.chainId)
      // Stakes as of our head: they only differ from the parent's after a stake tx on this fork.
      verifyProofs({ registry: this.#chain.registry, genesisTime: this.#chain.genesis.genesisTime, slotMs: this.#chain.genesis.slotMs, validators: this.#chain.validators(), parentSlot: parent.header.slot }, block.header)
      this.forkChoice.addBlock({ hash, parentHash: block.header.prevHash, height: block.header.height })
    } catch (e) {
      const verdict = gossipVerdictOf(e, 'blocks')
      this.#log.info({ height: block.header.height, hash: toHex(hash), from, verdict, err: e instanceof Error ? e.message : String(e) }, 'side block refused')
      return verdict
    }
    this.#side.set(toHex(hash), b)
    this.#log.info({ height: block.header.height, hash: toHex(hash), from }, 'block on a competing branch')
    await this.settle()
    return this.forkChoice.has(hash) ? 'accept' : 'reject'
  }

  #retryLater(key: string, block: Block, bytes: Uint8Array, delayMs: number): void {
    if (this.#future.has(key) || this.#future.size >= MAX_FUTURE_BLOCKS || this.#stopped) return
    const timer = setTimeout(() => {
      this.#future.delete(key)
      void this.processBlock(block, bytes).catch(() => undefined)
    }, Math.max(10, delayMs + 10))
    timer.unref()
    this.#future.set(key, timer)
  }

  /** Runs inside every import (the chain's 'block' event): track the block, attest it. */
  #blockImported({ block, hash }: ImportedBlock): void {
    const node: BlockNode = { hash, parentHash: block.header.prevHash, height: block.header.height }
    try {
      this.forkChoice.addBlock(node)
    } catch (e) {
      this.#log.warn({ height: node.height, err: String(e) }, 'imported block not added to fork choice')
    }
    this.#side.delete(toHex(hash))
    this.#refreshValidators()
    const key = this.#key
    if (key === undefined || block.header.height <= this.#lastAttested) return
    // Attestation lock: once our vote for a block may have been counted (towards finality,
    // somewhere), we do not vote for a branch that conflicts with it, which is what let two
    // nodes finalize different blocks. A lock on a block that stayed off the head's chain for
    // UNLOCK_SLOTS is released, so a tie between locked halves cannot stall finality forever
    // (by then every node has exchanged votes, so a block final anywhere is everyone's head).
    const lock = this.#lockedOn
    if (lock && !this.#descendsFrom(node, lock)) {
      this.#lockConflictSince ??= block.header.slot
      if (block.header.slot - this.#lockConflictSince < UNLOCK_SLOTS) return
      this.#log.info({ locked: lock.height, height: node.height }, 'attestation lock released')
    }
    this.#lockConflictSince = undefined
    this.#lockedOn = node
    this.#lastAttested = block.header.height
    const att = signAttestation({ chainId: this.#chain.genesis.chainId, height: block.header.height, blockHash: hash, validator: key.publicKey }, key.secretKey)
    try {
      this.forkChoice.addAttestation(att)
    } catch (e) {
      this.#log.warn({ err: String(e) }, 'own attestation not counted')
    }
    this.#m.publish('attestations', encode(Attestation, att))
  }

  /** Whether `node` is `ancestor` or below it in the block tree (blocks pruned below finality are on the finalized chain). */
  #descendsFrom(node: BlockNode, ancestor: BlockNode): boolean {
    let at: BlockNode | undefined = node
    while (at && at.height > ancestor.height) at = this.forkChoice.get(at.parentHash)
    if (at === undefined) return ancestor.height <= this.#chain.store.finalized.height
    return equalBytes(at.hash, ancestor.hash)
  }

  #refreshValidators(): void {
    const set = this.#chain.validators()
    const k = set.map((v) => `${toHex(v.address)}:${v.stake}`).join(',')
    if (k === this.#validatorsKey) return
    this.#validatorsKey = k
    this.forkChoice.setValidators(set)
  }

  // --- attestations ---

  /** Counts a vote (gossiped or exchanged): 'accept' if it counted, 'ignore' if no news; throws the ConsensusError that says why not. */
  countAttestation(att: Attestation): ValidationResult {
    const { voted } = this.forkChoice.addAttestation(att)
    if (!voted) return 'ignore'
    this.#scheduleSettle()
    return 'accept'
  }

  #scheduleSettle(): void {
    if (this.#settleQueued || this.#stopped) return
    this.#settleQueued = true
    void this.locked(async () => {
      this.#settleQueued = false
      await this.settle()
    }).catch((err: unknown) => this.#log.warn({ err: String(err) }, 'settle failed'))
  }

  // --- fork choice and finality (under the lock) ---

  /** Moves the head to fork choice's head and the store's finality to fork choice's; call under the lock. */
  async settle(): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const switched = await this.#reconcile()
      await this.#applyFinality()
      if (!switched) return
    }
  }

  /** Moves the head to fork choice's head if it differs; true when the head changed. */
  async #reconcile(): Promise<boolean> {
    const store = this.#chain.store
    // Fork choice only moves between blocks it knows; a head it does not know (not started yet,
    // or an import it missed) is never reverted on its account.
    if (!this.forkChoice.has(store.head.hash)) return false
    const target = this.forkChoice.head()
    if (equalBytes(target, store.head.hash)) return false
    const branch: BranchBlock[] = []
    let node = this.forkChoice.get(target)
    while (node !== undefined) {
      const canonical = await store.getHashAtHeight(node.height)
      if (canonical !== undefined && equalBytes(canonical, node.hash)) break
      const b = this.#side.get(toHex(node.hash)) ?? (await this.#storedBranchBlock(node.hash))
      if (b === undefined) return false
      branch.unshift(b)
      node = this.forkChoice.get(node.parentHash)
    }
    // `node` is the common ancestor (our head itself when the target simply extends it).
    if (node === undefined || node.height < store.finalized.height) return false
    const from = { height: store.head.height, hash: toHex(store.head.hash) }
    try {
      const res = await switchBranch(this.#chain, { hash: node.hash, height: node.height }, branch)
      this.#log.info({ from, to: { height: store.head.height, hash: toHex(store.head.hash) }, ancestor: node.height, reverted: res.reverted.length, imported: res.imported.length, readmitted: res.readmitted }, 'switched branch')
      // Reverted blocks stay in the fork-choice tree (and in the store) as a competing branch.
      return true
    } catch (e) {
      if (e instanceof ForkChoiceError && e.code === 'BRANCH_INVALID') {
        const bad = branch.find((b) => toHex(b.hash) === e.details.badHash)
        if (bad) for (const k of this.forkChoice.removeSubtree(bad.hash)) this.#side.delete(k)
        this.#log.warn({ bad: e.details.badHash, err: e.cause instanceof Error ? e.cause.message : String(e.cause) }, 'competing branch is invalid')
        return true
      }
      throw e
    }
  }

  async #storedBranchBlock(hash: Hash): Promise<BranchBlock | undefined> {
    const block = await this.#chain.store.getBlock(hash)
    return block && { block, hash }
  }

  async #applyFinality(): Promise<void> {
    const store = this.#chain.store
    const fin = this.forkChoice.finalized
    if (fin.height <= store.finalized.height) return
    const canonical = await store.getHashAtHeight(fin.height)
    if (canonical === undefined || !equalBytes(canonical, fin.hash)) return
    await store.setFinalized({ hash: fin.hash, height: fin.height })
    for (const k of this.forkChoice.prune()) this.#side.delete(k)
    for (const [k, b] of this.#side) if (b.block.header.height <= fin.height) this.#side.delete(k)
    try {
      await this.#m.onFinalized?.(fin.height)
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'finalized listener failed')
    }
  }
}
