import { decodeTrusted } from '../../../blocks/codec.ts'
import { blockHash, decodeCommittedBlock } from '../../../blocks/ids.ts'
import { Block, type Hash } from '../../../blocks/schema.ts'
import { validateBlockStructure } from '../../../blocks/validateBlock.ts'
import { BftError } from '../../../consensus/bft/errors.ts'
import type { Commit } from '../../../consensus/bft/messages.ts'
import { verifyCommit } from '../../../consensus/bft/verifyCommit.ts'
import { verifyHeaderSignature } from '../../../consensus/stake.ts'
import type { Chain, OfferedWrites } from '../../chain/chain.ts'
import { toHex } from '../../crypto/index.ts'
import type { ValidationResult } from '../../net/index.ts'

/** Proposal blocks held per height: a proposer may gossip a few (re-proposals, rounds); more is spam. */
const MAX_PENDING_BLOCKS = 64

/** `writes`: the block's write set, as the peer that sent it with its commit offered it (commit feed). */
export interface HeldBlock { block: Block; bytes: Uint8Array; writes?: OfferedWrites }

export interface ProposalBlocksModules {
  chain: Chain
  /** A block the machine asked a verdict for has arrived: check it now. */
  onAwaited(block: Block, blockId: Hash): void
}

/**
 * The proposal values of the consensus driver (consensusDriver.ts): blocks of the current and
 * next height by hash (gossiped, carried by a commit, or our own), the ids whose verdict waits
 * for its block, and the latest round each id was proposed in (which bounds the block's own
 * round, verifyBlockProposer). Called under the driver's lock.
 */
export class ProposalBlocks {
  readonly #chain: Chain
  readonly #onAwaited: (block: Block, blockId: Hash) => void
  readonly #blocks = new Map<string, HeldBlock>()
  /** Values the machine asked us to validate whose block has not arrived. */
  readonly #awaiting = new Set<string>()
  /** Per proposed block id (this height): the latest round a valid proposal named it in. */
  readonly #proposedInRound = new Map<string, number>()

  constructor(modules: ProposalBlocksModules) {
    this.#chain = modules.chain
    this.#onAwaited = modules.onAwaited
  }

  get(blockId: Hash): HeldBlock | undefined {
    return this.#blocks.get(toHex(blockId))
  }

  has(blockId: Hash): boolean {
    return this.#blocks.has(toHex(blockId))
  }

  /** The machine asks for a verdict: the block if held, else it is awaited (onAwaited when it comes). */
  request(blockId: Hash): HeldBlock | undefined {
    const key = toHex(blockId)
    const held = this.#blocks.get(key)
    if (held === undefined) this.#awaiting.add(key)
    return held
  }

  /** The round to check a block against: ours, or a later one it was proposed (or committed) in. */
  roundFor(blockId: Hash, machineRound: number): number {
    return Math.max(machineRound, this.#proposedInRound.get(toHex(blockId)) ?? 0)
  }

  /**
   * Notes that a proposal named `blockId` in `round` (before the machine sees it: it may ask for
   * the verdict at once); returns the undo for when the machine refuses the proposal.
   */
  noteProposed(blockId: Hash, round: number): () => void {
    const key = toHex(blockId)
    const before = this.#proposedInRound.get(key)
    this.#proposedInRound.set(key, Math.max(before ?? 0, round))
    return () => {
      if (before === undefined) this.#proposedInRound.delete(key)
      else this.#proposedInRound.set(key, before)
    }
  }

  /** Our own block for `round` (built by ProposalScheduler). */
  holdOwn(hash: Hash, held: HeldBlock, round: number): void {
    this.#blocks.set(toHex(hash), held)
    this.#proposedInRound.set(toHex(hash), round)
  }

  /**
   * The block a commit carries (CommittedBlock), held only once the commit proves it (a quorum of
   * precommits for exactly its hash at this height), so a peer cannot fill the held blocks with
   * blocks nobody committed. Throws when it does not. `writes`: its write set as the sender offered it.
   */
  holdCommitted(commit: Commit, bytes: Uint8Array, writes?: OfferedWrites): true {
    const key = toHex(commit.blockId)
    const verify = (): void => void verifyCommit(commit, { chainId: this.#chain.genesis.chainId, validators: this.#chain.validatorSet(), height: commit.height, blockId: commit.blockId })
    const held = this.#blocks.get(key)
    if (held !== undefined) {
      // Held already (an earlier copy of the commit): an offer is taken only with the commit checked for it.
      if (writes !== undefined && held.writes === undefined) {
        verify()
        held.writes = writes
      }
      return true
    }
    verify()
    // Canonical without a re-encode of the whole block, its entry hashes and tx ids from its slices (a follower never saw them).
    const block = decodeCommittedBlock(bytes, commit.blockId)
    if (block === undefined) throw new BftError('COMMIT_MISMATCH', 'the carried block is not the one the commit decides', { got: toHex(blockHash(decodeTrusted(Block, bytes).header)), expected: key })
    validateBlockStructure(block, this.#chain.genesis.chainId)
    this.#blocks.set(key, writes === undefined ? { block, bytes } : { block, bytes, writes })
    // The commit proves the round the block was decided in. A node off the vote topic saw no
    // proposal, and checked against round 0 a block of a later round's proposer is refused
    // (verifyBlockProposer): it would never decide and wait for range sync a height later.
    this.#proposedInRound.set(key, Math.max(this.#proposedInRound.get(key) ?? 0, commit.round))
    if (this.#awaiting.delete(key)) this.#onAwaited(block, commit.blockId)
    return true
  }

  /**
   * A gossiped block of this height or the next (`height`: the machine's). Checked cheaply here
   * (structure, a staked proposer's signature) and held; fully checked when the machine asks.
   */
  holdGossiped(block: Block, bytes: Uint8Array, height: number): ValidationResult {
    const hash = blockHash(block.header)
    const key = toHex(hash)
    if (this.#blocks.has(key)) return 'ignore'
    validateBlockStructure(block, this.#chain.genesis.chainId)
    // Our head is final: a block for the next height that does not extend it, or whose proofs
    // fail, is invalid for every honest node (REJECT). One a height ahead is held unchecked.
    if (block.header.height === height) this.#chain.verifyProposalHeader(block.header)
    else verifyHeaderSignature(block.header)
    if (this.#blocks.size >= MAX_PENDING_BLOCKS) return 'ignore'
    this.#blocks.set(key, { block, bytes })
    if (this.#awaiting.delete(key)) this.#onAwaited(block, hash)
    return 'accept'
  }

  /** A new height: blocks below it go, and what was awaited or proposed at the last one. */
  startHeight(height: number): void {
    for (const [k, b] of this.#blocks) if (b.block.header.height < height) this.#blocks.delete(k)
    this.#awaiting.clear()
    this.#proposedInRound.clear()
  }
}
