import { attestationSigningHash } from '../blocks/ids.ts'
import type { Attestation, AttestationBody, Hash } from '../blocks/schema.ts'
import { equalBytes, sign, toHex, verify } from '../src/crypto/index.ts'
import { ConsensusError } from './errors.ts'
import { computeValidatorSet, type ValidatorSet, type ValidatorStake } from './validatorSet.ts'

/**
 * Finality and fork choice, pure.
 *
 * Votes: each validator's latest attestation (highest height) is its vote; a vote for block X
 * supports X and every ancestor of X. A block is final once the validators whose vote lies in
 * its subtree hold MORE than 2/3 of the total stake (3 * support > 2 * total). One vote per
 * validator makes sibling subtrees' support disjoint, so two conflicting blocks can't both pass
 * 2/3 in one vote set; and finality is sticky: `computeFinalized` only ever moves the finalized
 * block down to a descendant of the current one, never sideways or up.
 *
 * Fork choice: from the finalized block, repeatedly step to the child with the most vote weight
 * in its subtree (GHOST), ties to the child whose subtree reaches the greatest height (longest
 * chain), then to the lowest hash. The head is therefore always a descendant of the finalized
 * block: a finalized block is never reverted.
 */

export interface BlockNode {
  hash: Hash
  parentHash: Hash
  height: number
}

/** Known blocks by hex hash. The finalized block must be in it; older blocks may be pruned. */
export type BlockTree = ReadonlyMap<string, BlockNode>

export interface Vote {
  blockHash: Hash
  height: number
}

/** Latest vote per validator, by hex address. */
export type Votes = ReadonlyMap<string, Vote>

export interface ForkChoiceInput {
  tree: BlockTree
  validators: readonly ValidatorStake[] | ValidatorSet
  votes: Votes
  /** The current finalized block's hash. */
  finalized: Hash
}

export interface AttestationContext {
  chainId: string
  validators: readonly ValidatorStake[] | ValidatorSet
  /** When given, the attested block must be known with the attested height. */
  tree?: BlockTree
}

const FINALITY = { scheme: 'finality' }

function asSet(validators: readonly ValidatorStake[] | ValidatorSet): ValidatorSet {
  return 'byAddress' in validators ? validators : computeValidatorSet(validators)
}

export function signAttestation(body: AttestationBody, secretKey: Uint8Array): Attestation {
  return { body, signature: sign(secretKey, attestationSigningHash(body)) }
}

/**
 * Checks an attestation before it may count: right chain, from a validator with stake, signed by
 * it, and (with a tree) about a known block at its height. Cheap checks first; UNKNOWN_BLOCK is
 * the only transient outcome (the block may still arrive).
 */
export function verifyAttestation(att: Attestation, ctx: AttestationContext): void {
  const { body } = att
  if (body.chainId !== ctx.chainId) {
    throw new ConsensusError('WRONG_CHAIN', 'attestation is for another chain', { ...FINALITY, got: body.chainId, expected: ctx.chainId })
  }
  const stake = asSet(ctx.validators).byAddress.get(toHex(body.validator))
  if (stake === undefined || stake === 0n) {
    throw new ConsensusError('NOT_VALIDATOR', 'attestation from an address that is not a staked validator', { ...FINALITY, validator: toHex(body.validator) })
  }
  if (!verify(body.validator, attestationSigningHash(body), att.signature)) {
    throw new ConsensusError('BAD_ATTESTATION_SIGNATURE', 'attestation signature is not the validator\'s', { ...FINALITY, validator: toHex(body.validator) })
  }
  if (ctx.tree !== undefined) {
    const node = ctx.tree.get(toHex(body.blockHash))
    if (node === undefined) throw new ConsensusError('UNKNOWN_BLOCK', 'attested block is not known (yet)', { ...FINALITY, blockHash: toHex(body.blockHash) })
    if (node.height !== body.height) {
      throw new ConsensusError('HEIGHT_MISMATCH', 'attestation height differs from the block\'s', { ...FINALITY, got: body.height, expected: node.height })
    }
  }
}

/**
 * Records a verified attestation as its validator's vote if it is newer (higher) than the
 * current one; returns the same map when nothing changes. Two different blocks at one height
 * from one validator is equivocation: rejected, the first vote stays.
 */
export function recordVote(votes: Votes, att: Attestation): Votes {
  const key = toHex(att.body.validator)
  const current = votes.get(key)
  if (current !== undefined) {
    if (att.body.height < current.height) return votes
    if (att.body.height === current.height) {
      if (equalBytes(att.body.blockHash, current.blockHash)) return votes
      throw new ConsensusError('EQUIVOCATION', 'validator attested two blocks at one height', {
        ...FINALITY,
        validator: key,
        height: att.body.height,
        first: toHex(current.blockHash),
        second: toHex(att.body.blockHash),
      })
    }
  }
  const next = new Map(votes)
  next.set(key, { blockHash: att.body.blockHash, height: att.body.height })
  return next
}

interface Subtree {
  /** Descendants of the finalized block (itself included), parents before children. */
  order: BlockNode[]
  children: Map<string, BlockNode[]>
  weight: Map<string, bigint>
  maxHeight: Map<string, number>
  totalStake: bigint
}

function computeSubtree(input: ForkChoiceInput): Subtree {
  const rootKey = toHex(input.finalized)
  const root = input.tree.get(rootKey)
  if (root === undefined) throw new ConsensusError('UNKNOWN_BLOCK', 'the finalized block is not in the tree', { ...FINALITY, blockHash: rootKey })
  const children = new Map<string, BlockNode[]>()
  for (const node of input.tree.values()) {
    const parent = toHex(node.parentHash)
    const list = children.get(parent)
    if (list === undefined) children.set(parent, [node])
    else list.push(node)
  }
  const order: BlockNode[] = [root]
  for (let i = 0; i < order.length; i++) {
    for (const c of children.get(toHex(order[i]!.hash)) ?? []) order.push(c)
  }
  const weight = new Map<string, bigint>()
  const maxHeight = new Map<string, number>()
  for (const node of order) {
    const key = toHex(node.hash)
    weight.set(key, 0n)
    maxHeight.set(key, node.height)
  }
  const set = asSet(input.validators)
  for (const [validator, vote] of input.votes) {
    const key = toHex(vote.blockHash)
    const w = weight.get(key)
    const stake = set.byAddress.get(validator) ?? 0n
    if (w !== undefined) weight.set(key, w + stake)
  }
  // Children after parents in `order`: walking it backwards accumulates each subtree into its parent.
  for (let i = order.length - 1; i > 0; i--) {
    const node = order[i]!
    const key = toHex(node.hash)
    const parent = toHex(node.parentHash)
    weight.set(parent, weight.get(parent)! + weight.get(key)!)
    maxHeight.set(parent, Math.max(maxHeight.get(parent)!, maxHeight.get(key)!))
  }
  return { order, children, weight, maxHeight, totalStake: set.totalStake }
}

/** More than 2/3 of the total stake, in integers. */
export function isSupermajority(support: bigint, totalStake: bigint): boolean {
  return totalStake > 0n && 3n * support > 2n * totalStake
}

/**
 * The new finalized block: the deepest descendant of the current finalized block whose subtree
 * holds a supermajority of votes. Never an ancestor of, or a block conflicting with, the
 * current one.
 */
export function computeFinalized(input: ForkChoiceInput): Hash {
  const sub = computeSubtree(input)
  let current = sub.order[0]!
  for (;;) {
    const next = (sub.children.get(toHex(current.hash)) ?? []).find((c) => isSupermajority(sub.weight.get(toHex(c.hash))!, sub.totalStake))
    if (next === undefined) return current.hash
    current = next
  }
}

/** The head to build on: GHOST from the finalized block, ties to the longest branch, then the lowest hash. */
export function chooseHead(input: ForkChoiceInput): Hash {
  const sub = computeSubtree(input)
  let current = sub.order[0]!
  for (;;) {
    const kids = sub.children.get(toHex(current.hash))
    if (kids === undefined || kids.length === 0) return current.hash
    let best = kids[0]!
    for (const c of kids.slice(1)) {
      const [kc, kb] = [toHex(c.hash), toHex(best.hash)]
      const dw = sub.weight.get(kc)! - sub.weight.get(kb)!
      const dh = sub.maxHeight.get(kc)! - sub.maxHeight.get(kb)!
      if (dw > 0n || (dw === 0n && (dh > 0 || (dh === 0 && kc < kb)))) best = c
    }
    current = best
  }
}

/** Is `block` the finalized block or one of its ancestors in the tree? */
export function isFinalized(tree: BlockTree, finalized: Hash, block: Hash): boolean {
  return isAncestorOrSelf(tree, block, finalized)
}

/** Walks parent links from `descendant`; true when it meets `ancestor`. */
export function isAncestorOrSelf(tree: BlockTree, ancestor: Hash, descendant: Hash): boolean {
  const target = toHex(ancestor)
  let key = toHex(descendant)
  // Bounded by the tree size so a malformed parent cycle can't loop forever.
  for (let steps = 0; steps <= tree.size; steps++) {
    if (key === target) return true
    const node = tree.get(key)
    if (node === undefined) return false
    key = toHex(node.parentHash)
  }
  return false
}

/**
 * A small stateful wrapper over the functions above for the node: no I/O, no clock. Blocks must
 * be added parent first; attestations are verified, then recorded.
 */
export class FinalityTracker {
  readonly chainId: string
  private readonly blocks = new Map<string, BlockNode>()
  private votesMap: Votes = new Map()
  private validatorSet: ValidatorSet
  private finalizedHash: Hash

  constructor(opts: { chainId: string; validators: readonly ValidatorStake[]; finalized: BlockNode }) {
    this.chainId = opts.chainId
    this.validatorSet = computeValidatorSet(opts.validators)
    this.blocks.set(toHex(opts.finalized.hash), opts.finalized)
    this.finalizedHash = opts.finalized.hash
  }

  get finalized(): Hash {
    return this.finalizedHash
  }

  get votes(): Votes {
    return this.votesMap
  }

  get tree(): BlockTree {
    return this.blocks
  }

  /** Stakes change with stake/unstake txs; the caller passes the set as of its head. */
  setValidators(validators: readonly ValidatorStake[]): void {
    this.validatorSet = computeValidatorSet(validators)
    this.update()
  }

  addBlock(node: BlockNode): void {
    const parent = this.blocks.get(toHex(node.parentHash))
    if (parent === undefined) throw new ConsensusError('UNKNOWN_BLOCK', 'parent block is not known', { ...FINALITY, blockHash: toHex(node.parentHash) })
    if (node.height !== parent.height + 1) {
      throw new ConsensusError('HEIGHT_MISMATCH', 'block height is not parent height + 1', { ...FINALITY, got: node.height, expected: parent.height + 1 })
    }
    this.blocks.set(toHex(node.hash), node)
  }

  /** Verifies and records; returns true when the finalized block moved. */
  addAttestation(att: Attestation): boolean {
    verifyAttestation(att, { chainId: this.chainId, validators: this.validatorSet, tree: this.blocks })
    const next = recordVote(this.votesMap, att)
    if (next === this.votesMap) return false
    this.votesMap = next
    return this.update()
  }

  head(): Hash {
    return chooseHead(this.input())
  }

  /** For blocks in the tree; after `prune`, older blocks are final iff canonical (ask the store). */
  isFinalized(block: Hash): boolean {
    return isFinalized(this.blocks, this.finalizedHash, block)
  }

  /** Forgets blocks that are not descendants of the finalized block (keeps the finalized block). */
  prune(): void {
    const sub = computeSubtree(this.input())
    const keep = new Set<string>(sub.order.map((n) => toHex(n.hash)))
    for (const key of [...this.blocks.keys()]) if (!keep.has(key)) this.blocks.delete(key)
  }

  private input(): ForkChoiceInput {
    return { tree: this.blocks, validators: this.validatorSet, votes: this.votesMap, finalized: this.finalizedHash }
  }

  private update(): boolean {
    const next = computeFinalized(this.input())
    if (equalBytes(next, this.finalizedHash)) return false
    this.finalizedHash = next
    return true
  }
}
