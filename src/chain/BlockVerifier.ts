import { BlockError } from '../../blocks/errors.ts'
import { blockHash } from '../../blocks/ids.ts'
import type { Block, GenesisConfig, Hash } from '../../blocks/schema.ts'
import { validateBlockParent, validateBlockStructure } from '../../blocks/validateBlock.ts'
import type { ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import { type BlockContext, verifyProofs } from '../../consensus/sealBlock.ts'
import { verifyBlockProposer } from '../../consensus/verifyBlockProposer.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import type { HostIndex } from '../router/index.ts'
import { applyBlock } from '../state/applyBlock.ts'
import type { ApplyContext } from '../state/applyContext.ts'
import { readBeaconMix } from '../state/beaconState.ts'
import { verifyBlockFees } from '../state/fees.ts'
import { computeTouchedKeys } from '../state/stateTree/computeTouchedKeys.ts'
import { computeStateRoot, type StateWrite } from '../state/stateView.ts'
import type { ChainStore } from './chainStore.ts'
import type { OfferedWrites, VerifiedWrites } from './chainTypes.ts'
import type { Mempool } from './mempool.ts'
import type { ReceiptPool } from './receiptPool.ts'
import type { SignatureVerifier } from './signatureVerifier.ts'
import { startTxSignatureCheck } from './startTxSignatureCheck.ts'

/** A committed block's signature check: nothing to verify (its commit vouches for its signatures). */
const NONE_TO_CHECK = { checked: 0, finish: (): Promise<void> => Promise.resolve() }

export interface VerificationCounts {
  /** Tx signatures verified by block import (those the mempool had admitted are not verified again). */
  signaturesCheckedAtImport: number
  /** Committed blocks verified by an offered write set instead of their transition. */
  appliedByWrites: number
  /** Offered write sets refused (not the header's state root, or padded) while the block's own run gave the root: the offering peer's fault. */
  writeSetsRefused: number
}

/** What the verification path reads: the chain's store, pools and head-derived consensus state. */
export interface BlockVerifierModules {
  store: ChainStore
  genesis: GenesisConfig
  mempool: Mempool
  receipts: ReceiptPool
  hostIndex: HostIndex
  signatures: SignatureVerifier
  /** Proposer priorities of height head+1. */
  priorities(): ProposerPriorityState
  /** The proof schemes' context on the head. */
  blockContext(): BlockContext
}

/**
 * The chain's one verification path: structure → parent → fees → proposer → consensus proofs →
 * signatures (all cores) → state transition → state root. What a block's check yields (its write
 * set and tree nodes) is kept for its commit on the same head; proofs that passed for a header
 * (gossip checks a proposal's header, import checks it again) are not checked twice.
 */
export class BlockVerifier {
  readonly #m: BlockVerifierModules
  /** Write sets of blocks checked against the current head (proposals), by hash; cleared when the head moves. */
  readonly #checked = new Map<string, { head: string; onCommitsWord: boolean } & VerifiedWrites>()
  /** Headers whose consensus proofs passed against the current head. */
  readonly #proofsPassed = new Set<string>()
  readonly counts: VerificationCounts = { signaturesCheckedAtImport: 0, appliedByWrites: 0, writeSetsRefused: 0 }

  constructor(modules: BlockVerifierModules) {
    this.#m = modules
  }

  verifyProofsOnce(header: Block['header']): void {
    const key = `${toHex(this.#m.store.head.hash)}:${toHex(blockHash(header))}`
    if (this.#proofsPassed.has(key)) return
    verifyProofs(this.#m.blockContext(), header)
    if (this.#proofsPassed.size >= 64) this.#proofsPassed.clear()
    this.#proofsPassed.add(key)
  }

  /** `verified` was committed: the head moved, so no write set checked on the old head applies. */
  committed(verified: VerifiedWrites): void {
    this.#checked.clear()
    if (verified.byWrites === true) this.counts.appliedByWrites++
  }

  /**
   * Verifies `block` against the head; the write set of a block checked before on this head is
   * reused. `built`: the transition this node ran building the block on the head, in the same
   * queue job (same state, context and sealing): its structure, fees and proposer are checked;
   * neither its transition nor the proofs and signature this node just made for it (every other
   * node checks them). `committed`: the block comes with a commit this node verified (> 2/3 of
   * the stake precommitted exactly this block, each precommit after checking it in full): its
   * tx and receipt signatures are taken as checked (docs/consensus.md "What a commit vouches
   * for"); structure, proposer, proofs, the transition and its state root are still checked.
   */
  async verified(block: Block, hash: Hash, built?: VerifiedWrites, committed = false): Promise<VerifiedWrites> {
    const { store } = this.#m
    const head = store.head
    const cached = this.#cached(hash, committed)
    if (cached !== undefined) return cached
    await this.#checkExtendsHead(block, hash)
    // Signature checks start first, on the workers, and run while this thread checks structure,
    // proofs and the transition; this thread then takes its own share. Nothing is written
    // before every check has passed.
    const signatures = committed ? NONE_TO_CHECK : startTxSignatureCheck(this.#m.signatures, this.#m.mempool, block.entries)
    this.counts.signaturesCheckedAtImport += signatures.checked
    try {
      this.#checkAgainstHead(block, built === undefined)
    } catch (e) {
      await signatures.finish().catch(() => undefined)
      throw e
    }
    if (built !== undefined) {
      await signatures.finish()
      return this.#remember(hash, head.hash, { writes: built.writes, treeNodes: built.treeNodes }, false)
    }
    // The values and tree paths of the keys the block names are loaded first; what the
    // transition still misses is loaded and the pure run repeated (withLoaded).
    const loading = store.load(computeTouchedKeys(block.entries, block.header.proposer))
    // This thread's signature checks run while those reads are under way on libuv's threads.
    const checked = signatures.finish()
    checked.catch(() => undefined)
    const result = await loading
      .then(() => store.withLoaded(() => applyBlock(store.state, block, head.header.stateRoot, this.#applyContext(block, committed))))
      .catch(async (e: unknown) => {
        await checked.catch(() => undefined)
        throw e
      })
    await checked
    if (!equalBytes(result.stateRoot, block.header.stateRoot)) {
      throw new BlockError('BAD_STATE_ROOT', 'state root differs from the recomputed one', { got: toHex(block.header.stateRoot), expected: toHex(result.stateRoot) })
    }
    return this.#remember(hash, head.hash, { writes: result.writes, treeNodes: result.treeNodes }, committed)
  }

  /**
   * Verifies a committed block against the head by its write set instead of its transition (the
   * commit feed's offer, docs/consensus.md "A committed block applied by its write set"): every check of
   * `verified(…, committed)` except the entries' run; the writes applied to the head's tree must
   * give the header's state root and each change something (BlockError BAD_WRITE_SET otherwise:
   * nothing is kept). Only for a block whose commit the caller verified; kept as a check on a
   * commit's word.
   */
  async verifiedByWrites(block: Block, hash: Hash, writes: StateWrite[]): Promise<VerifiedWrites> {
    const { store } = this.#m
    const head = store.head
    const cached = this.#cached(hash, true)
    if (cached !== undefined) return cached
    await this.#checkExtendsHead(block, hash)
    this.#checkAgainstHead(block, true)
    // Only the tree paths: the values the writes replace are never read (the commit caches the new ones).
    await store.tree.load(head.header.stateRoot, writes.map((w) => w.key))
    const update = await store.withLoaded(() => computeStateRoot(store.state.treeNodes, head.header.stateRoot, writes))
    if (!equalBytes(update.stateRoot, block.header.stateRoot)) {
      throw new BlockError('BAD_WRITE_SET', 'the offered write set does not give the header\'s state root', { got: toHex(update.stateRoot), expected: toHex(block.header.stateRoot) })
    }
    // A block's own write set holds no write that changes nothing (finishBlock): such rows are padding, work for nothing.
    if (update.unchanged.length > 0) {
      throw new BlockError('BAD_WRITE_SET', `the offered write set holds ${update.unchanged.length} writes that change nothing`, { got: toHex(update.unchanged[0]!), expected: 'a change' })
    }
    return this.#remember(hash, head.hash, { writes, treeNodes: update.treeNodes, byWrites: true }, true)
  }

  /**
   * A block with a commit (verified by the caller, or required before it is applied): by the write
   * set a peer offered when that gives the header's state root, else by its transition; an offer
   * refused while the transition gives the root is the offering peer's fault (`refused`).
   */
  async verifiedCommitted(block: Block, hash: Hash, offered: OfferedWrites | undefined): Promise<VerifiedWrites> {
    if (offered !== undefined) {
      try {
        return await this.verifiedByWrites(block, hash, offered.writes)
      } catch (e) {
        if (!(e instanceof BlockError && e.code === 'BAD_WRITE_SET')) throw e
        const verified = await this.verified(block, hash, undefined, true)
        this.counts.writeSetsRefused++
        offered.refused()
        return verified
      }
    }
    return this.verified(block, hash, undefined, true)
  }

  /** The write set of a block checked before on this head; a check on a commit's word (signatures vouched for, or the run replaced by an offered write set) does not stand for a full one. */
  #cached(hash: Hash, committed: boolean): VerifiedWrites | undefined {
    const cached = this.#checked.get(toHex(hash))
    return cached !== undefined && cached.head === toHex(this.#m.store.head.hash) && (committed || !cached.onCommitsWord) ? cached : undefined
  }

  /** Throws unless the block is the head's child. */
  async #checkExtendsHead(block: Block, hash: Hash): Promise<void> {
    const { store } = this.#m
    const head = store.head
    if (equalBytes(block.header.prevHash, head.hash)) return
    // Every stored block is at or below the head, so a child of the head is never one: the store
    // is read (a database get per checked block) only for a block that does not extend the head.
    if (equalBytes(hash, head.hash) || (await store.getBlockBytes(hash)) !== undefined) {
      throw new BlockError('ALREADY_KNOWN', `block ${toHex(hash)} is already known`, { hash: toHex(hash) })
    }
    throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
  }

  /** Structure, parent, fees, proposer and (unless this node just made them) the consensus proofs. */
  #checkAgainstHead(block: Block, proofs: boolean): void {
    const { store, genesis } = this.#m
    const head = store.head
    validateBlockStructure(block, genesis.chainId)
    validateBlockParent(block.header, head.header, head.hash)
    verifyBlockFees(block.header, block.entries, head.header, genesis.params, genesis.slotMs)
    verifyBlockProposer(this.#m.priorities(), block.header)
    if (proofs) this.verifyProofsOnce(block.header)
  }

  /** Keeps a checked block's writes for its commit on this head. */
  #remember(hash: Hash, head: Hash, verified: VerifiedWrites, onCommitsWord: boolean): VerifiedWrites {
    if (this.#checked.size >= 64) this.#checked.clear()
    this.#checked.set(toHex(hash), { head: toHex(head), onCommitsWord, ...verified })
    return verified
  }

  /** The context a block on the head is applied in; its tx signatures were checked (startTxSignatureCheck) or vouched for by its commit. */
  #applyContext(block: Pick<Block, 'header'>, committed: boolean): ApplyContext {
    return {
      hostIndex: this.#m.hostIndex,
      genesis: this.#m.genesis,
      height: block.header.height,
      slot: block.header.slot,
      proposer: block.header.proposer,
      prevHash: block.header.prevHash,
      // The head is the block's parent here (the caller checked prevHash).
      beaconMix: readBeaconMix(this.#m.store.state),
      baseFee: block.header.baseFee,
      signaturesChecked: true,
      receiptChecked: committed ? () => true : (receipt) => this.#m.receipts.hasChecked(receipt),
    }
  }
}
