import { txId } from '../../blocks/ids.ts'
import type { Attestation, Block, Hash, SignedTx } from '../../blocks/schema.ts'
import { ConsensusError } from '../../consensus/errors.ts'
import { type BlockNode, chooseHead, computeFinalized, type ForkChoiceInput, recordVote, verifyAttestation, type Votes } from '../../consensus/finality.ts'
import { computeValidatorSet, type ValidatorSet, type ValidatorStake } from '../../consensus/validatorSet.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import type { Chain, ImportedBlock } from './chain.ts'
import { ForkChoiceError } from './errors.ts'

/**
 * Switching the head between branches below finality. The decision (which head) is the pure
 * `chooseHead` in consensus/finality.ts; this file carries it out on the store: undo blocks down
 * to the common ancestor with `store.revertHead()` (which refuses to go below the finalized
 * block), import the other branch through the chain's verification path, and put the txs of the
 * undone blocks back into the mempool. A branch block that fails verification rolls the whole
 * switch back, so the node ends on the branch it started on.
 *
 * Callers must serialize these calls with every other import and with block production (the
 * validator network runs them under its own lock, which also wraps `produceBlock`).
 */

export interface BranchBlock {
  block: Block
  hash: Hash
  /** The block's encoding as received (stored as is). */
  bytes?: Uint8Array
}

export interface BranchSwitch {
  /** Blocks taken off the old branch, highest first. */
  reverted: ImportedBlock[]
  /** Blocks of the new branch now on top of the ancestor, lowest first. */
  imported: ImportedBlock[]
  /** Txs of reverted blocks re-admitted to the mempool (not in the new branch, still valid). */
  readmitted: number
}

/**
 * Re-applies a block this node verified and committed before and has since reverted (its bytes
 * are still in the block bucket, so `importBlock` would call it ALREADY_KNOWN). Its proofs and
 * signatures were checked at its first import; the transition is re-run and its state root
 * re-checked before the commit, so a wrong store can't slip in. Emits the chain's 'block' event
 * like an import.
 */
export function reapplyKnownBlock(chain: Chain, block: Block, hash: Hash): Promise<ImportedBlock> {
  return chain.reapplyKnownBlock(block, hash)
}

/** Imports a block on the head: the full verification path, or a re-apply if this node had verified it before. */
export async function importOnHead(chain: Chain, b: BranchBlock): Promise<ImportedBlock> {
  if ((await chain.store.getBlockBytes(b.hash)) !== undefined) return reapplyKnownBlock(chain, b.block, b.hash)
  return chain.importBlock(b.block, b.bytes)
}

/** Undoes head blocks until the head is `ancestor`; returns them with their hashes, highest first. */
export async function revertTo(chain: Chain, ancestor: { hash: Hash; height: number }): Promise<ImportedBlock[]> {
  const store = chain.store
  if (ancestor.height < store.finalized.height) {
    throw new ForkChoiceError('BELOW_FINALIZED', `cannot revert to ${ancestor.height}: block ${store.finalized.height} is final`, { got: ancestor.height, expected: store.finalized.height })
  }
  const canonical = await store.getHashAtHeight(ancestor.height)
  if (canonical === undefined || !equalBytes(canonical, ancestor.hash)) {
    throw new ForkChoiceError('NOT_AN_ANCESTOR', `block ${toHex(ancestor.hash)} is not on the current chain`, { hash: toHex(ancestor.hash), height: ancestor.height })
  }
  const reverted: ImportedBlock[] = []
  while (store.head.height > ancestor.height) {
    const hash = store.head.hash
    reverted.push({ block: await store.revertHead(), hash })
  }
  return reverted
}

/**
 * Moves the head from its branch to `branch` (blocks descending from `ancestor`, lowest first;
 * `ancestor` must be on the current chain, at or above the finalized block). If a branch block is
 * invalid, restores the old branch and throws BRANCH_INVALID with `details.badHash` and the
 * verification error as `cause`.
 */
export async function switchBranch(chain: Chain, ancestor: { hash: Hash; height: number }, branch: readonly BranchBlock[]): Promise<BranchSwitch> {
  // Each import prunes the mempool against the new state; pending txs that follow a reverted
  // tx's nonce would be cut as gapped. Keep them to re-admit after the reverted ones.
  const pending = chain.mempool.pending()
  const reverted = await revertTo(chain, ancestor)
  const imported: ImportedBlock[] = []
  for (const b of branch) {
    try {
      imported.push(await importOnHead(chain, b))
    } catch (cause) {
      // Roll back to the branch we came from: every one of its blocks was verified here before.
      await revertTo(chain, ancestor)
      for (const r of [...reverted].reverse()) await reapplyKnownBlock(chain, r.block, r.hash)
      readmitTxs(chain, [], [], pending)
      throw new ForkChoiceError('BRANCH_INVALID', `branch block ${toHex(b.hash)} is invalid`, { badHash: toHex(b.hash), height: b.block.header.height }, { cause })
    }
  }
  return { reverted, imported, readmitted: readmitTxs(chain, reverted, imported, pending) }
}

/**
 * Txs of reverted blocks that the new branch did not include go back into the mempool, followed
 * by the txs that were pending before the switch (if they still apply to the new head's state;
 * the others are dropped, as any client would see from a reorg). Returns how many txs of
 * reverted blocks were re-admitted.
 */
export function readmitTxs(chain: Chain, reverted: readonly ImportedBlock[], imported: readonly ImportedBlock[], pendingBefore: readonly SignedTx[] = []): number {
  const included = new Set<string>()
  for (const { block } of imported) for (const e of block.entries) if ('tx' in e) included.add(toHex(txId(e.tx)))
  const tryAdd = (tx: SignedTx): boolean => {
    try {
      chain.submitTx(tx)
      return true
    } catch {
      // no longer valid on the new branch (nonce used, funds spent) or already pending
      return false
    }
  }
  let readmitted = 0
  // Oldest block first, then the old pool in arrival order: each sender's txs in nonce order.
  for (const { block } of [...reverted].reverse()) {
    for (const e of block.entries) if ('tx' in e && !included.has(toHex(txId(e.tx))) && tryAdd(e.tx)) readmitted++
  }
  for (const tx of pendingBefore) if (!chain.mempool.has(txId(tx))) tryAdd(tx)
  return readmitted
}

/**
 * The node's view for fork choice and finality: every known block since the finalized one
 * (canonical and competing branches), each validator's latest vote, the finalized block. Like
 * consensus/finality.ts's FinalityTracker (same pure rules: `verifyAttestation`, `recordVote`,
 * `computeFinalized`, `chooseHead`), plus what a node on a network needs: a block found invalid
 * when its branch is imported can be removed with its subtree, and attestations for blocks not
 * seen yet are held (bounded) and counted when the block arrives. No I/O, no clock.
 */
export class ForkChoiceStore {
  readonly chainId: string
  readonly #blocks = new Map<string, BlockNode>()
  readonly #pending = new Map<string, Attestation[]>()
  readonly #maxPending: number
  #pendingCount = 0
  #votes: Votes = new Map()
  readonly #signed = new Map<string, Attestation>()
  #set: ValidatorSet
  #finalized: BlockNode

  constructor(opts: { chainId: string; validators: readonly ValidatorStake[]; finalized: BlockNode; maxPendingAttestations?: number }) {
    this.chainId = opts.chainId
    this.#set = computeValidatorSet(opts.validators)
    this.#finalized = opts.finalized
    this.#blocks.set(toHex(opts.finalized.hash), opts.finalized)
    this.#maxPending = opts.maxPendingAttestations ?? 4096
  }

  get finalized(): BlockNode {
    return this.#finalized
  }

  get votes(): Votes {
    return this.#votes
  }

  get size(): number {
    return this.#blocks.size
  }

  has(hash: Hash): boolean {
    return this.#blocks.has(toHex(hash))
  }

  get(hash: Hash): BlockNode | undefined {
    return this.#blocks.get(toHex(hash))
  }

  /** The validator set as of the head (stakes change with stake/unstake txs). */
  setValidators(validators: readonly ValidatorStake[]): boolean {
    this.#set = computeValidatorSet(validators)
    return this.#updateFinalized()
  }

  /**
   * Adds a block whose parent is known; counts the held attestations for it. Returns true when
   * that moved the finalized block.
   */
  addBlock(node: BlockNode): boolean {
    const key = toHex(node.hash)
    if (this.#blocks.has(key)) return false
    const parent = this.#blocks.get(toHex(node.parentHash))
    if (parent === undefined) throw new ConsensusError('UNKNOWN_BLOCK', 'parent block is not known', { scheme: 'finality', blockHash: toHex(node.parentHash) })
    if (node.height !== parent.height + 1) {
      throw new ConsensusError('HEIGHT_MISMATCH', 'block height is not parent height + 1', { scheme: 'finality', got: node.height, expected: parent.height + 1 })
    }
    this.#blocks.set(key, node)
    const held = this.#pending.get(key)
    if (held === undefined) return false
    this.#pending.delete(key)
    this.#pendingCount -= held.length
    let moved = false
    for (const att of held) {
      try {
        moved = this.addAttestation(att).finalizedMoved || moved
      } catch {
        // an equivocation or a height mismatch found now: the vote just doesn't count
      }
    }
    return moved
  }

  /** Forgets a block found invalid and every block built on it; returns their hex hashes. */
  removeSubtree(hash: Hash): string[] {
    const root = toHex(hash)
    if (root === toHex(this.#finalized.hash)) throw new ConsensusError('BAD_CONFIG', 'cannot remove the finalized block', { scheme: 'finality' })
    const removed = new Set<string>([root])
    // Parents come before children only by height: sweep in height order.
    const nodes = [...this.#blocks.values()].sort((a, b) => a.height - b.height)
    for (const n of nodes) if (removed.has(toHex(n.parentHash))) removed.add(toHex(n.hash))
    for (const key of removed) this.#blocks.delete(key)
    return [...removed]
  }

  /**
   * Verifies an attestation and records it as its validator's vote if newer. An attestation for a
   * block not known yet is held until the block arrives (then UNKNOWN_BLOCK is still thrown, so
   * gossip ignores it). Other failures throw the ConsensusError (gossip rejects).
   */
  addAttestation(att: Attestation): { voted: boolean; finalizedMoved: boolean } {
    try {
      verifyAttestation(att, { chainId: this.chainId, validators: this.#set, tree: this.#blocks })
    } catch (e) {
      if (e instanceof ConsensusError && e.code === 'UNKNOWN_BLOCK' && att.body.height > this.#finalized.height) this.#hold(att)
      throw e
    }
    const next = recordVote(this.#votes, att)
    if (next === this.#votes) return { voted: false, finalizedMoved: false }
    this.#votes = next
    this.#signed.set(toHex(att.body.validator), att)
    return { voted: true, finalizedMoved: this.#updateFinalized() }
  }

  /**
   * Each validator's latest counted vote, signed, to hand to peers: votes gossiped before a
   * peer's mesh formed are otherwise lost to it, and nodes that count different votes can
   * finalize different branches.
   */
  latestAttestations(): Attestation[] {
    return [...this.#signed.values()]
  }

  #hold(att: Attestation): void {
    if (this.#pendingCount >= this.#maxPending) {
      // Drop the held attestations for the lowest block: the oldest news.
      let low: string | undefined
      let lowHeight = Infinity
      for (const [k, list] of this.#pending) if (list[0]!.body.height < lowHeight) [low, lowHeight] = [k, list[0]!.body.height]
      if (low !== undefined) {
        this.#pendingCount -= this.#pending.get(low)!.length
        this.#pending.delete(low)
      }
    }
    const key = toHex(att.body.blockHash)
    const list = this.#pending.get(key) ?? []
    if (list.some((a) => equalBytes(a.body.validator, att.body.validator))) return
    list.push(att)
    this.#pending.set(key, list)
    this.#pendingCount++
  }

  /** The head to build on (GHOST from the finalized block). */
  head(): Hash {
    return chooseHead(this.#input())
  }

  /** Forgets blocks that are not descendants of the finalized block and held votes at or below it. */
  prune(): string[] {
    const keep = new Set<string>([toHex(this.#finalized.hash)])
    const nodes = [...this.#blocks.values()].sort((a, b) => a.height - b.height)
    for (const n of nodes) if (n.height > this.#finalized.height && keep.has(toHex(n.parentHash))) keep.add(toHex(n.hash))
    const removed: string[] = []
    for (const key of [...this.#blocks.keys()]) {
      if (!keep.has(key)) {
        this.#blocks.delete(key)
        removed.push(key)
      }
    }
    for (const [key, list] of this.#pending) {
      if (list[0]!.body.height <= this.#finalized.height) {
        this.#pending.delete(key)
        this.#pendingCount -= list.length
      }
    }
    return removed
  }

  #input(): ForkChoiceInput {
    return { tree: this.#blocks, validators: this.#set, votes: this.#votes, finalized: this.#finalized.hash }
  }

  #updateFinalized(): boolean {
    const next = computeFinalized(this.#input())
    if (equalBytes(next, this.#finalized.hash)) return false
    this.#finalized = this.#blocks.get(toHex(next))!
    return true
  }
}
