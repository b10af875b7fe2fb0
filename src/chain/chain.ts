import { EventEmitter } from 'node:events'

import { decode, encode } from '../../blocks/codec.ts'
import { BlockError, XscError } from '../../blocks/errors.ts'
import { blockHash, txId, txSigningHash } from '../../blocks/ids.ts'
import { type Address, Block, type BlockEntry, type GenesisConfig, type Hash, type KvWrite, type Offence, type Receipt, type SignedHeartbeat, type SignedTx, type StorageAck } from '../../blocks/schema.ts'
import { validateBlockParent, validateBlockStructure } from '../../blocks/validateBlock.ts'
import { type Commit, type Evidence, signVote, VOTE_STEP } from '../../consensus/bft/messages.ts'
import { isQuorum } from '../../consensus/bft/quorum.ts'
import { verifyCommit } from '../../consensus/bft/verifyCommit.ts'
import { createRegistry, type ProofRegistry } from '../../consensus/proofScheme.ts'
import { computeInitialPriorities, computeNextHeightPriorities, computeRoundProposer, type ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import { type BlockContext, verifyProofs } from '../../consensus/sealBlock.ts'
import { computeSlot, computeSlotStart } from '../../consensus/slot.ts'
import { buildPlot, type SpacePlot } from '../../consensus/space.ts'
import { computeValidatorSet, type ValidatorSet, type ValidatorStake } from '../../consensus/validatorSet.ts'
import { verifyBlockProposer } from '../../consensus/verifyBlockProposer.ts'
import { equalBytes, type KeyPair, toHex } from '../crypto/index.ts'
import { HostIndex } from '../router/index.ts'
import { readAccount } from '../state/accounts.ts'
import { isAuditDue } from '../state/applyAudit.ts'
import { applyBlock } from '../state/applyBlock.ts'
import type { ApplyContext } from '../state/applyContext.ts'
import { checkOffence } from '../state/applyEvidence.ts'
import { readBeaconMix } from '../state/beaconState.ts'
import { StateError } from '../state/errors.ts'
import { computeQuotedBaseFee, verifyBlockFees } from '../state/fees.ts'
import { type Account, Validator } from '../state/records.ts'
import { computeTouchedKeys } from '../state/stateTree/computeTouchedKeys.ts'
import type { TreeNodeWrite } from '../state/stateTree/index.ts'
import type { StateWrite } from '../state/stateView.ts'
import { computeAuditEpoch } from '../state/storage/deriveAuditChallenges.ts'
import { idOfKey, scanRows, TABLES } from '../state/tables.ts'
import { ChainStore } from './chainStore.ts'
import { EvidencePool, toOffence } from './evidencePool.ts'
import { type DroppedTx, Mempool } from './mempool.ts'
import { type AuditAnswers, type AuditResponder, gatherAuditAnswers } from './produceBlock/buildAuditEntry.ts'
import { HeartbeatPool } from './produceBlock/buildLivenessEntry.ts'
import { gatherStorageAcks, type StorageAckResponder } from './produceBlock/buildStorageAckEntry.ts'
import { chooseEntries } from './produceBlock/chooseEntries.ts'
import { buildBlock, type BuiltBlock, computeBlockTimestamp, computeProposalContext } from './produceBlock/produceBlock.ts'
import { ProposerBeacon } from './produceBlock/ProposerBeacon.ts'
import { ReceiptPool } from './receiptPool.ts'
import { SignatureVerifier } from './signatureVerifier.ts'

export type { AuditResponder } from './produceBlock/buildAuditEntry.ts'

/** What a proposal gathered before taking the lock, bound to the head it was gathered on. */
export interface PreparedProposal { headHash: Hash; auditAnswers: AuditAnswers | undefined; storageAcks?: StorageAck[] }

export interface ChainOpts {
  dataDir: string
  genesis: GenesisConfig
  /** The validator key this node proposes with, if it is a validator. */
  validatorKey?: KeyPair
  signatureWorkers?: number
  maxTxsPerBlock?: number
  mempoolSize?: number
  /** State tree nodes kept in memory (src/chain/stateStore.ts DEFAULT_TREE_CACHE_NODES). */
  treeCacheNodes?: number
  /** Account values kept in memory (src/chain/stateStore.ts DEFAULT_VALUE_CACHE_ENTRIES). */
  valueCacheEntries?: number
}

/** What checking a block against the head yields: its write set and the state tree nodes its root adds. */
interface VerifiedWrites { writes: StateWrite[]; treeNodes: readonly TreeNodeWrite[] }

/** A block built or checked against the head and not committed yet (a BFT proposal). */
export interface CheckedBlock {
  block: Block
  hash: Hash
  bytes: Uint8Array
}

export interface ImportedBlock {
  block: Block
  hash: Hash
  /** The precommits that made the block final (BFT), when it was committed through them. */
  commit?: Commit
  /** The block's encoding, when the importer was given it (a block from the network): never encoded again to pass it on. */
  bytes?: Uint8Array
  /** Wall time the import took (verification to commit), for metrics. */
  seconds?: number
}

/** The block jobs of the chain's queue. */
export type QueueJob = 'import' | 'check' | 'commit' | 'build' | 'produce'

/** A queue job that took long: time waiting behind others, time running, the head height when it ended. */
export interface SlowQueueJob { job: QueueJob; waitedMs: number; ranMs: number; height: number }

/** A job of the chain's queue that waited and ran this long together is reported. */
const SLOW_QUEUE_JOB_MS = 200

/** What the mempool needs from a block it prunes against: its height, kind and included tx ids. */
function computePruneInfo(block: Block): { height: number; kind: string; included: Set<string> } {
  const included = new Set<string>()
  for (const e of block.entries) if ('tx' in e) included.add(toHex(txId(e.tx)))
  return { height: block.header.height, kind: block.header.kind, included }
}

/**
 * The chain of one node: store, mempool, proof registry. Every block, including the ones this
 * node proposes, goes through one verification path (`#verified`): structure → parent →
 * consensus proofs → signatures (all cores) → state transition → state root. On a network a
 * block is checked when proposed (`checkBlock`) and applied only with its commit
 * (`commitBlock`: >2/3 precommits); `importBlock`/`produceBlock` apply without one (a single
 * node, tests). Imports are serialized.
 */
export class Chain extends EventEmitter<{ block: [ImportedBlock]; buildError: [unknown]; dropped: [DroppedTx]; slowJob: [SlowQueueJob]; work: [] }> {
  readonly store: ChainStore
  readonly mempool: Mempool
  readonly registry: ProofRegistry
  readonly genesis: GenesisConfig
  readonly receipts: ReceiptPool
  readonly evidence = new EvidencePool()
  /** Hosts' heartbeats of the open liveness epoch, for this node's blocks. */
  readonly heartbeats = new HeartbeatPool()
  /** The router's view of the hosts as of the head; updated from each block's writes. */
  readonly hostIndex: HostIndex
  #auditResponder: AuditResponder | undefined
  /** Audit answers being gathered ahead of this node's turn, for one (head, audit epoch). */
  #auditAnswers: { key: string; answers: Promise<AuditAnswers | undefined> } | undefined
  #storageAckResponder: StorageAckResponder | undefined
  /** Storage acks asked of the hosts in the background: the latest answers, and the request under way. */
  #storageAcks: { latest: StorageAck[]; asking: Promise<void> | undefined } = { latest: [], asking: undefined }
  readonly #verifier: SignatureVerifier
  readonly #key: KeyPair | undefined
  readonly #beacon: ProposerBeacon | undefined
  readonly #plot: SpacePlot | undefined
  readonly #maxTxs: number
  #queue: Promise<unknown> = Promise.resolve()
  #validatorCache: { head: string; set: ValidatorStake[] } | undefined
  /** Write sets of blocks checked against the current head (proposals), by hash; cleared when the head moves. */
  #checked = new Map<string, { head: string } & VerifiedWrites>()
  /** Tx signatures verified by block import (those the mempool had admitted are not verified again). */
  signaturesCheckedAtImport = 0

  private constructor(store: ChainStore, opts: ChainOpts) {
    super()
    this.store = store
    this.genesis = opts.genesis
    this.registry = createRegistry(opts.genesis.consensus)
    this.mempool = new Mempool({ chainId: opts.genesis.chainId, params: opts.genesis.params, maxSize: opts.mempoolSize ?? 50_000, onDrop: (d) => this.emit('dropped', d) })
    this.receipts = new ReceiptPool(opts.genesis.chainId)
    this.hostIndex = HostIndex.build(
      opts.genesis.params,
      scanRows(store.state, TABLES.host).map((r) => [idOfKey(TABLES.host, r.key), r.row] as const),
    )
    this.#verifier = new SignatureVerifier(opts.signatureWorkers === undefined ? {} : { workers: opts.signatureWorkers })
    this.#key = opts.validatorKey
    this.#beacon = opts.validatorKey === undefined ? undefined : new ProposerBeacon(opts.validatorKey)
    this.#maxTxs = opts.maxTxsPerBlock ?? 2_000
    // The router's index follows every state change.
    store.onStateChange = (writes) => this.#updateHostIndex(writes)
    this.#plot = opts.validatorKey && opts.genesis.consensus.schemes.includes('space')
      ? buildPlot(opts.validatorKey.publicKey, opts.genesis.consensus.spacePlotEntries)
      : undefined
  }

  static async open(opts: ChainOpts): Promise<Chain> {
    const store = await ChainStore.open(opts.dataDir, opts.genesis, {
      ...(opts.treeCacheNodes === undefined ? {} : { treeCacheNodes: opts.treeCacheNodes }),
      ...(opts.valueCacheEntries === undefined ? {} : { valueCacheEntries: opts.valueCacheEntries }),
    })
    const chain = new Chain(store, opts)
    await store.initValidatorSet(chain.validators())
    return chain
  }

  get head() {
    return this.store.head
  }

  /** Bonded validators as of the head, in address order. */
  validators(): ValidatorStake[] {
    const head = toHex(this.store.head.hash)
    if (this.#validatorCache?.head === head) return this.#validatorCache.set
    const set = scanRows(this.store.state, TABLES.validator).map((r) => ({ address: idOfKey(TABLES.validator, r.key), stake: r.row.stake }))
    this.#validatorCache = { head, set }
    return set
  }

  #blockContext(): BlockContext {
    return {
      registry: this.registry,
      genesisTime: this.genesis.genesisTime,
      slotMs: this.genesis.slotMs,
      validators: this.validators(),
      parentSlot: this.store.head.header.slot,
    }
  }

  currentSlot(nowMs: number): number {
    return computeSlot(this.genesis.genesisTime, this.genesis.slotMs, BigInt(nowMs))
  }

  /** The validator set of height head+1 (whose precommits commit it). */
  validatorSet(): ValidatorSet {
    return computeValidatorSet(this.validators())
  }

  /** Proposer priorities of height head+1 (consensus/proposerPriority.ts): depend on the validator-set history only. */
  priorities(): ProposerPriorityState {
    return this.store.priorities ?? computeInitialPriorities(this.validators())
  }

  /** The proposer of `round` at height head+1 (stake-weighted round robin, ungrindable). */
  proposerOf(round = 0): Uint8Array {
    return computeRoundProposer(this.priorities(), round)
  }

  /** The priorities of the next height after a block with `writes` (validator set changes applied). */
  /** The validator set after a block's writes (the next height's) and its proposer priorities. */
  #nextValidators(writes: readonly StateWrite[]): { nextValidators: ValidatorStake[]; priorities: ProposerPriorityState } {
    const byAddress = new Map(this.validators().map((v) => [toHex(v.address), v]))
    for (const w of writes) {
      if (w.key[0] !== TABLES.validator.prefix[0]) continue
      const address = w.key.subarray(1)
      if (w.value === undefined) byAddress.delete(toHex(address))
      else byAddress.set(toHex(address), { address, stake: decode(Validator, w.value).stake })
    }
    const nextValidators = [...byAddress.values()]
    return { nextValidators, priorities: computeNextHeightPriorities(this.priorities(), nextValidators) }
  }

  /** How the proposer gathers audit answers (the node asks hosts over the network). */
  setStorageAckResponder(responder: StorageAckResponder): void {
    this.#storageAckResponder = responder
  }

  setAuditResponder(responder: AuditResponder): void {
    this.#auditResponder = responder
  }

  /** Admits a host's receipt (with its write set) for a later completion block, or throws ReceiptError. `signedHere`: see ReceiptPool.add. */
  submitReceipt(receipt: Receipt, writeSet: KvWrite[], opts: { signedHere?: boolean } = {}): void {
    this.receipts.add(receipt, writeSet, this.store.state, opts)
    this.emit('work') // a proposer waiting for its slot may build early (pendingWorkKey)
  }

  /**
   * Checks an offence as the next block would apply it and holds it for a block. Returns false
   * when the pool already holds it (or one against the same offender); throws why it does not apply.
   */
  submitEvidence(value: Offence | Evidence): boolean {
    const offence = toOffence(value)
    // The state first: evidence against an offender already slashed is refused (ALREADY_SLASHED), even while the pool still holds it.
    checkOffence(this.store.state, offence, this.#nextContext())
    const added = this.evidence.add(offence)
    if (added) this.emit('work')
    return added
  }

  /**
   * Receipts this pool held for executions a completion just settled, that the completion did not
   * carry: one that contradicts the agreed result is evidence against its host, as when it arrives
   * after settlement (storageCoordinator). A receipt can reach the validators while the completion
   * is being decided and be held, then dropped here; only validators take receipts in, so nobody
   * else would see it late.
   */
  #offerLeftOutReceipts(block: Block, settled: readonly Receipt[]): void {
    if (settled.length === 0) return
    const carried = new Set<string>()
    for (const e of block.entries) if (e.type === 'completion') for (const r of e.receipts) carried.add(toHex(r.signature))
    for (const receipt of settled) {
      if (carried.has(toHex(receipt.signature))) continue
      try {
        this.submitEvidence({ type: 'contradictingReceipt', receipt })
      } catch {
        // Agrees with the result, or its host is already slashed: not an offence.
      }
    }
  }

  /** A host's heartbeat from gossip or RPC: held for blocks when it could go on chain now (true: news). Throws why not. */
  submitHeartbeat(heartbeat: SignedHeartbeat): boolean {
    return this.heartbeats.add(this.store.state, this, heartbeat)
  }

  #nextContext(): ApplyContext {
    const head = this.store.head
    return computeProposalContext(this.genesis, head, this.store.state, head.header.slot + 1, head.header.timestamp + BigInt(this.genesis.slotMs), head.header.proposer, this.hostIndex)
  }

  /**
   * Drops held offences that can no longer apply: included (the offender is slashed), expired or
   * invalid. Committed blocks are final, so a slashing is never undone.
   */
  #pruneEvidence(): void {
    if (this.evidence.size === 0) return
    const ctx = this.#nextContext()
    this.evidence.prune((o) => {
      try {
        checkOffence(this.store.state, o, ctx)
        return true
      } catch {
        return false
      }
    })
  }

  /**
   * Admits a tx to the mempool or rejects with a typed error. The accounts it names (sender,
   * recipient) are loaded first: served from disk, they may not be in memory.
   */
  submitTx(tx: SignedTx): Promise<Hash> {
    return this.store.readLoaded(computeTouchedKeys([{ type: 'tx', tx }], tx.body.from), () => this.mempool.add(tx, this.store.state, { height: this.store.head.height, baseFee: this.nextBaseFee() })).then((hash) => {
      this.emit('work')
      return hash
    })
  }

  /** An account as of the head (balance and nonce zero when it does not exist). */
  readAccount(address: Address): Promise<Account> {
    return this.store.readLoaded([TABLES.account.key(address)], () => readAccount(this.store.state, address))
  }

  /** The nonce `address`'s next tx must carry: the account's, past its txs pending here. */
  nextNonce(address: Address): Promise<number> {
    return this.store.readLoaded([TABLES.account.key(address)], () => this.mempool.nextNonce(address, this.store.state))
  }

  /** The base fee per byte of the next block on the head: what a tx sent now must cover (with minFeePerByte). */
  nextBaseFee(): bigint {
    return computeQuotedBaseFee(this.store.head.header, this.genesis.params, this.genesis.slotMs)
  }

  /** `bytes`, when the block arrived encoded, is stored as is (it was checked canonical by decode). */
  importBlock(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    return this.#serialized('import', () => this.#import(block, bytes))
  }

  /**
   * Checks a proposed block against the head without applying it (BFT's "valid(v)"); its write set
   * is kept for `commitBlock`. Throws the typed error that says why it is invalid.
   */
  checkBlock(block: Block, currentRound?: number): Promise<void> {
    return this.#serialized('check', async () => {
      // The bound first (cheap, not cached with the write set): a block for a later round than the one voted on is refused.
      verifyBlockProposer(this.priorities(), block.header, currentRound)
      await this.#verified(block, blockHash(block.header))
    })
  }

  /**
   * Applies a block with its commit: the commit must carry precommits of more than 2/3 of the
   * head's validator set for exactly this block (verifyCommit). The block becomes the head and is
   * final in the same atomic write.
   */
  commitBlock(block: Block, commit: Commit, bytes?: Uint8Array): Promise<ImportedBlock> {
    return this.#serialized('commit', async () => {
      const hash = blockHash(block.header)
      const head = this.store.head
      // Position first: a block that is no longer (or not yet) next is no fault of its commit.
      if (block.header.height <= head.height) throw new BlockError('ALREADY_KNOWN', `height ${block.header.height} is already committed`, { hash: toHex(hash) })
      if (block.header.height !== head.height + 1 || !equalBytes(block.header.prevHash, head.hash)) {
        throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
      }
      verifyCommit(commit, { chainId: this.genesis.chainId, validators: this.validatorSet(), height: this.store.head.height + 1, blockId: hash })
      verifyBlockProposer(this.priorities(), block.header)
      const verified = await this.#verified(block, hash)
      return this.#apply(block, hash, verified, { bytes, commit })
    })
  }

  /**
   * The cheap-to-medium checks of a proposed block's header against the head, without its body:
   * parent linkage, slot order, consensus proofs (time, work, space) and the proposer's
   * signature. Gossip runs them before holding a block, so a block with a bad proof is REJECTed
   * by its first receiver. Throws the typed error.
   */
  verifyProposalHeader(header: Block['header']): void {
    const head = this.store.head
    validateBlockParent(header, head.header, head.hash)
    verifyBlockProposer(this.priorities(), header)
    this.#verifyProofsOnce(header)
  }

  /** Headers whose consensus proofs passed against the current head (gossip checks a proposal's header, import checks it again). */
  readonly #proofsPassed = new Set<string>()
  #verifyProofsOnce(header: Block['header']): void {
    const key = `${toHex(this.store.head.hash)}:${toHex(blockHash(header))}`
    if (this.#proofsPassed.has(key)) return
    verifyProofs(this.#blockContext(), header)
    if (this.#proofsPassed.size >= 64) this.#proofsPassed.clear()
    this.#proofsPassed.add(key)
  }

  /**
   * What the pools hold for a block (txs, receipts, offences), as a key that changes when work
   * arrives; undefined when they are empty. A proposer with work builds before the next slot
   * (docs/consensus.md "Block timing") and tries again only when the key changed.
   */
  pendingWorkKey(): string | undefined {
    const txs = this.mempool.size
    const offences = this.evidence.size
    if (txs === 0 && this.receipts.size === 0 && offences === 0) return undefined
    return `${txs}/${this.receipts.admitted}/${offences}`
  }

  /**
   * Builds this node's proposal on the head at `nowMs` (undefined until `nowMs` is after the head's
   * timestamp). `onlyWithEntries`: undefined instead of a block that would carry nothing but
   * heartbeats (an early proposal is made only for work).
   */
  buildProposal(nowMs: number, prepared?: PreparedProposal, round = 0, opts: { onlyWithEntries?: boolean } = {}): Promise<CheckedBlock | undefined> {
    const key = this.#key
    if (key === undefined) throw new XscError('NOT_A_VALIDATOR', 'this node has no validator key')
    return this.#serialized('build', async () => {
      const head = this.store.head
      const slot = this.currentSlot(nowMs)
      if (BigInt(nowMs) <= head.header.timestamp && head.header.height > 0) return undefined
      const answers = prepared !== undefined && equalBytes(head.hash, prepared.headHash) ? prepared : undefined
      const built = await this.#build(slot, nowMs, key, answers, round, opts.onlyWithEntries === true)
      if (built === undefined) return undefined
      const { block } = built
      const hash = blockHash(block.header)
      await this.#verified(block, hash, built.applied)
      return { block, hash, bytes: encode(Block, block) }
    })
  }

  async #import(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    const started = performance.now()
    const hash = blockHash(block.header)
    const verified = await this.#verified(block, hash)
    return this.#apply(block, hash, verified, { bytes }, started)
  }

  /**
   * The one verification path; the write set of a block checked before on this head is reused.
   * `built`: the transition this node ran building the block on the head, in the same queue job
   * (same state, context and sealing): its structure, fees and proposer are checked; neither its
   * transition nor the proofs and signature this node just made for it (every other node checks them).
   */
  async #verified(block: Block, hash: Hash, built?: VerifiedWrites): Promise<VerifiedWrites> {
    const head = this.store.head
    const cached = this.#checked.get(toHex(hash))
    if (cached !== undefined && cached.head === toHex(head.hash)) return cached
    // Every stored block is at or below the head, so a child of the head is never one: the store
    // is read (a database get per checked block) only for a block that does not extend the head.
    if (!equalBytes(block.header.prevHash, head.hash)) {
      if (equalBytes(hash, head.hash) || (await this.store.getBlockBytes(hash)) !== undefined) {
        throw new BlockError('ALREADY_KNOWN', `block ${toHex(hash)} is already known`, { hash: toHex(hash) })
      }
      throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
    }
    // Signature checks start first, on the workers, and run while this thread checks structure,
    // proofs and the transition; this thread then takes its own share. Nothing is written
    // before every check has passed.
    const signatures = this.#startSignatureCheck(block.entries)
    try {
      validateBlockStructure(block, this.genesis.chainId)
      validateBlockParent(block.header, head.header, head.hash)
      verifyBlockFees(block.header, block.entries, head.header, this.genesis.params, this.genesis.slotMs)
      verifyBlockProposer(this.priorities(), block.header)
      if (built === undefined) this.#verifyProofsOnce(block.header)
    } catch (e) {
      await signatures.finish().catch(() => undefined)
      throw e
    }
    if (built !== undefined) {
      await signatures.finish()
      return this.#remember(hash, head.hash, { writes: built.writes, treeNodes: built.treeNodes })
    }
    // The values and tree paths of the keys the block names are loaded first; what the
    // transition still misses is loaded and the pure run repeated (withLoaded).
    const loading = this.store.load(computeTouchedKeys(block.entries, block.header.proposer))
    // This thread's signature checks run while those reads are under way on libuv's threads.
    const checked = signatures.finish()
    checked.catch(() => undefined)
    const result = await loading
      .then(() => this.store.withLoaded(() => applyBlock(this.store.state, block, head.header.stateRoot, this.#applyContext(block, true))))
      .catch(async (e: unknown) => {
        await checked.catch(() => undefined)
        throw e
      })
    await checked
    if (!equalBytes(result.stateRoot, block.header.stateRoot)) {
      throw new BlockError('BAD_STATE_ROOT', 'state root differs from the recomputed one', { got: toHex(block.header.stateRoot), expected: toHex(result.stateRoot) })
    }
    return this.#remember(hash, head.hash, { writes: result.writes, treeNodes: result.treeNodes })
  }

  /** Keeps a checked block's writes for its commit on this head. */
  #remember(hash: Hash, head: Hash, verified: VerifiedWrites): VerifiedWrites {
    if (this.#checked.size >= 64) this.#checked.clear()
    this.#checked.set(toHex(hash), { head: toHex(head), ...verified })
    return verified
  }

  async #apply(block: Block, hash: Hash, verified: VerifiedWrites, extras: { bytes?: Uint8Array | undefined; commit?: Commit }, started = performance.now()): Promise<ImportedBlock> {
    const { writes, treeNodes } = verified
    await this.store.commitBlock(block, hash, writes, { ...extras, treeNodes, ...this.#nextValidators(writes) })
    this.#checked.clear()
    // Every pending sender's account is re-checked: loaded first (nothing evicts before the next commit).
    const senders = this.mempool.senders().map((address) => TABLES.account.key(address))
    await this.store.readLoaded(senders, () => this.mempool.prune(this.store.state, computePruneInfo(block)))
    if (block.header.kind === 'completion') this.#offerLeftOutReceipts(block, this.receipts.prune(this.store.state))
    this.#pruneEvidence()
    this.heartbeats.prune(this.store.state)
    const imported: ImportedBlock = { block, hash, seconds: (performance.now() - started) / 1000, ...(extras.commit ? { commit: extras.commit } : {}), ...(extras.bytes ? { bytes: extras.bytes } : {}) }
    this.emit('block', imported)
    return imported
  }

  #updateHostIndex(writes: readonly { key: Uint8Array; value: Uint8Array | undefined }[]): void {
    for (const w of writes) {
      if (w.key[0] !== TABLES.host.prefix[0]) continue
      const address = idOfKey(TABLES.host, w.key)
      if (w.value === undefined) this.hostIndex.remove(address)
      else this.hostIndex.upsert(address, TABLES.host.codec.decode(w.value))
    }
  }

  #applyContext(block: Pick<Block, 'header'>, signaturesChecked: boolean): ApplyContext {
    return {
      hostIndex: this.hostIndex,
      genesis: this.genesis,
      height: block.header.height,
      slot: block.header.slot,
      proposer: block.header.proposer,
      prevHash: block.header.prevHash,
      // The head is the block's parent here (both callers checked prevHash).
      beaconMix: readBeaconMix(this.store.state),
      baseFee: block.header.baseFee,
      signaturesChecked,
      receiptChecked: (receipt) => this.receipts.hasChecked(receipt),
    }
  }

  /** Starts checking every tx signature of a block across all cores; `finish` throws naming the first bad one. */
  #startSignatureCheck(entries: readonly BlockEntry[]): { finish(): Promise<void> } {
    // A tx this node's mempool admitted, or whose signature it verified before (admission that
    // failed on state, an earlier proposal), was checked then; its id covers body and signature,
    // so the same bytes need no second check (one verify per tx per node).
    const unchecked: { tx: SignedTx; index: number; id: string }[] = []
    let index = 0
    for (const e of entries) {
      if (!('tx' in e)) continue
      const id = toHex(txId(e.tx))
      if (!this.mempool.hasHex(id) && !this.mempool.isSignatureVerified(id)) unchecked.push({ tx: e.tx, index, id })
      index++
    }
    this.signaturesCheckedAtImport += unchecked.length
    const job = this.#verifier.start(unchecked.map(({ tx }) => ({ publicKey: tx.body.from, message: txSigningHash(tx.body), signature: tx.signature })))
    return {
      finish: async () => {
        const ok = await job.finish()
        const bad = unchecked[ok.indexOf(false)]
        if (bad !== undefined) throw new StateError('BAD_SIGNATURE', `tx ${bad.index} of the block has a bad signature`, { index: bad.index, from: toHex(bad.tx.body.from) })
        for (const { id } of unchecked) this.mempool.rememberSignatureVerified(id)
      },
    }
  }

  /**
   * Proposes a block for `slot` if this node's key is the slot's proposer, and imports it like any
   * other block; undefined when it is not this node's slot. What waits on the network (the hosts'
   * audit answers) is gathered first, without the lock (`prepareProposal`, which the caller may
   * have run already, outside its own locks); then, under the lock, the entries are chosen, the
   * block sealed and imported. If the head moved while answers were gathered, the slot is given up.
   */
  async produceBlock(slot: number, nowMs: number, prepared?: PreparedProposal): Promise<ImportedBlock | undefined> {
    const key = this.#key
    if (key === undefined) throw new XscError('NOT_A_VALIDATOR', 'this node has no validator key')
    const ready = prepared ?? (await this.prepareProposal(slot, { waitForStorageAcks: true }))
    return this.#serialized('produce', async () => {
      const head = this.store.head
      if (ready.auditAnswers !== undefined && !equalBytes(head.hash, ready.headHash)) return undefined
      if (slot <= head.header.slot && head.header.height > 0) return undefined
      if (!equalBytes(this.proposerOf(), key.publicKey)) return undefined
      const { block, applied } = (await this.#build(slot, nowMs, key, ready, 0, false))!
      const started = performance.now()
      const hash = blockHash(block.header)
      const verified = await this.#verified(block, hash, applied)
      return this.#apply(block, hash, verified, { commit: this.#selfCommit(block, hash, key) }, started)
    })
  }

  /**
   * Without a network: when this key alone holds more than 2/3 of the stake its own precommit
   * is a commit, so the block is final at once and stored with it (range sync and clients need
   * it). Otherwise the block is applied without a commit (tests of one process).
   */
  #selfCommit(block: Block, hash: Hash, key: KeyPair): Commit | undefined {
    const set = this.validatorSet()
    const stake = set.byAddress.get(toHex(key.publicKey)) ?? 0n
    if (!isQuorum(stake, set.totalStake)) return undefined
    const body = { chainId: this.genesis.chainId, step: VOTE_STEP.precommit, height: block.header.height, round: 0, blockId: hash, validator: key.publicKey }
    return { chainId: body.chainId, height: body.height, round: 0, blockId: hash, signatures: [{ validator: key.publicKey, signature: signVote(body, key.secretKey).signature }] }
  }

  /**
   * Chooses the entries and seals a block for `slot` on the head (timestamp within the proof
   * schemes' drift of the slot start); undefined when `onlyWithEntries` and nothing but heartbeats was chosen.
   */
  async #build(slot: number, nowMs: number, key: KeyPair, prepared: PreparedProposal | undefined, round: number, onlyWithEntries: boolean): Promise<BuiltBlock | undefined> {
    const head = this.store.head
    const state = this.store.state
    const slotStart = Number(computeSlotStart(this.genesis.genesisTime, this.genesis.slotMs, slot))
    const timestampMs = Math.min(Math.max(nowMs, slotStart), slotStart + this.genesis.consensus.driftMs)
    // Receipts come from the pool, which verified each on admission: not verified again while choosing and sealing.
    const ctx: ApplyContext = { ...computeProposalContext(this.genesis, head, state, slot, computeBlockTimestamp(this.genesis, slot, timestampMs), key.publicKey, this.hostIndex), receiptChecked: (receipt) => this.receipts.hasChecked(receipt) }
    await this.#commitBeaconIfNeeded(key)
    // The accounts the pool's txs name are loaded, so choosing rarely misses; a run that misses
    // anyway (a completion's client, say) is repeated, and only its final run's drops count.
    await this.store.values.load(computeTouchedKeys(this.mempool.pending().map((tx) => ({ type: 'tx', tx })), key.publicKey))
    let drops: Parameters<Mempool['drop']>[] = []
    const mempool = { select: this.mempool.select.bind(this.mempool), isPendingDeploy: this.mempool.isPendingDeploy.bind(this.mempool), drop: (...args: Parameters<Mempool['drop']>) => void drops.push(args) }
    // The entries are tried on the block's own transition (reveal included): sealing only finishes it.
    const beaconReveal = (this.#beacon ?? new ProposerBeacon(key)).nextReveal(state, this.genesis.params.beaconChainLength)
    const chosen = await this.store.withLoaded(() => {
      drops = []
      return chooseEntries({ state, ctx, mempool, receipts: this.receipts, evidence: this.evidence, maxTxs: this.#maxTxs, auditAnswers: prepared?.auditAnswers, storageAcks: prepared?.storageAcks, heartbeats: this.heartbeats, beaconReveal })
    })
    for (const args of drops) this.mempool.drop(...args)
    if (onlyWithEntries && chosen.entries.every((e) => e.type === 'liveness')) return undefined
    const seal = { ...this.#blockContext(), secretKey: key.secretKey, ...(this.#plot ? { plot: this.#plot } : {}) }
    await this.store.load(computeTouchedKeys(chosen.entries, key.publicKey))
    let buildErrors: unknown[] = []
    const built = await this.store.withLoaded(() => {
      buildErrors = []
      return buildBlock({ genesis: this.genesis, head, state, ctx, nowMs: timestampMs, chosen, seal, round, beaconReveal, onBuildError: (err) => void buildErrors.push(err) })
    })
    for (const err of buildErrors) this.emit('buildError', err)
    return built
  }

  /** A validator without a live beacon chain commits to a new one in its own next block (ProposerBeacon.commitmentTx). */
  async #commitBeaconIfNeeded(key: KeyPair): Promise<void> {
    const beacon = this.#beacon ?? new ProposerBeacon(key)
    const state = this.store.state
    const tx = beacon.commitmentTx(state, this.genesis, {
      nonce: await this.nextNonce(key.publicKey),
      feePerByte: 2n * this.nextBaseFee() + this.genesis.params.minFeePerByte,
      isPending: (id) => this.mempool.has(id),
    })
    if (tx === undefined) return
    try {
      await this.submitTx(tx)
    } catch (err) {
      // Already pending (a round that did not commit), or unaffordable: the block goes on without it.
      this.emit('buildError', err)
    }
  }

  /**
   * What a proposal for `slot` on the current head needs from the network, gathered without any
   * lock: the hosts' answers when the block is due to carry an audit (and this node proposes it).
   */
  async prepareProposal(slot: number, opts: { waitForStorageAcks?: boolean } = {}): Promise<PreparedProposal> {
    const head = this.store.head
    if (this.#key === undefined) return { headHash: head.hash, auditAnswers: undefined }
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
      this.emit('buildError', err) // early work only: the proposer gathers again on its turn
    }
  }

  /** Whether a block at `slot` on the head is due to carry an audit (a new audit epoch, something stored). */
  isAuditDue(slot: number): boolean {
    return isAuditDue(this.store.state, slot, this.genesis.params.auditEpochSlots)
  }

  /** Asks the hosts of waiting placements for their acks, unless a request is under way; the answers wait for the next proposal. */
  prefetchStorageAcks(): void {
    const responder = this.#storageAckResponder
    if (responder === undefined || this.#key === undefined || this.#storageAcks.asking !== undefined) return
    const acks = this.#storageAcks
    acks.asking = gatherStorageAcks(this.store.state, responder)
      .then((answers) => { acks.latest = answers }, (err: unknown) => { this.emit('buildError', err) })
      .finally(() => { acks.asking = undefined })
  }

  #gatherAuditAnswers(slot: number): Promise<AuditAnswers | undefined> {
    const responder = this.#auditResponder
    if (responder === undefined || this.#key === undefined) return Promise.resolve(undefined)
    const head = this.store.head
    const key = `${toHex(head.hash)}/${computeAuditEpoch(slot, this.genesis.params.auditEpochSlots)}`
    if (this.#auditAnswers?.key !== key) {
      const ctx = computeProposalContext(this.genesis, head, this.store.state, slot, head.header.timestamp + BigInt(this.genesis.slotMs), this.#key.publicKey, this.hostIndex)
      const answers = gatherAuditAnswers(this.store.state, ctx, responder)
      answers.catch(() => undefined) // handled: whoever awaits it sees the failure
      this.#auditAnswers = { key, answers }
    }
    return this.#auditAnswers.answers
  }

  /**
   * Block jobs (import, check, commit, build) run one at a time. A job that waited or ran longer
   * than SLOW_QUEUE_JOB_MS is reported ('slowJob'): what stalls a round under load shows in the log.
   */
  #serialized<T>(job: QueueJob, f: () => Promise<T>): Promise<T> {
    const queued = performance.now()
    let started = queued
    const timed = async (): Promise<T> => {
      started = performance.now()
      try {
        return await f()
      } finally {
        const ended = performance.now()
        if (ended - queued >= SLOW_QUEUE_JOB_MS) this.emit('slowJob', { job, waitedMs: Math.round(started - queued), ranMs: Math.round(ended - started), height: this.store.head.height })
      }
    }
    const run = this.#queue.then(timed, timed)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async close(): Promise<void> {
    await this.#queue
    await this.#verifier.close()
    await this.store.close()
  }
}
