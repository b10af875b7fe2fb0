import { EventEmitter } from 'node:events'

import { encode } from '../../blocks/codec.ts'
import { BlockError, XscError } from '../../blocks/errors.ts'
import { blockHash, noteBlockBytes, txId } from '../../blocks/ids.ts'
import { type Address, Block, type GenesisConfig, type Hash, type KvWrite, type Offence, type Receipt, type SignedHeartbeat, type SignedTx } from '../../blocks/schema.ts'
import { validateBlockParent } from '../../blocks/validateBlock.ts'
import type { Commit, Evidence } from '../../consensus/bft/messages.ts'
import { verifyCommit } from '../../consensus/bft/verifyCommit.ts'
import { createRegistry, type ProofRegistry } from '../../consensus/proofScheme.ts'
import { computeInitialPriorities, computeRoundProposer, type ProposerPriorityState } from '../../consensus/proposerPriority.ts'
import type { BlockContext } from '../../consensus/sealBlock.ts'
import { computeSlot } from '../../consensus/slot.ts'
import { buildPlot } from '../../consensus/space.ts'
import type { ValidatorSet, ValidatorStake } from '../../consensus/validatorSet.ts'
import { verifyBlockProposer } from '../../consensus/verifyBlockProposer.ts'
import { equalBytes, type KeyPair, toHex } from '../crypto/index.ts'
import { HostIndex } from '../router/index.ts'
import { readAccount } from '../state/accounts.ts'
import type { ApplyContext } from '../state/applyContext.ts'
import { checkOffence } from '../state/applyEvidence.ts'
import { computeQuotedBaseFee } from '../state/fees.ts'
import type { Account } from '../state/records.ts'
import { computeTouchedKeys } from '../state/stateTree/computeTouchedKeys.ts'
import type { StateWrite } from '../state/stateView.ts'
import { idOfKey, isKeyOf, scanRows, TABLES } from '../state/tables.ts'
import { applyHostWrites } from './applyHostWrites.ts'
import { BlockJobQueue } from './BlockJobQueue.ts'
import { BlockVerifier, type VerificationCounts } from './BlockVerifier.ts'
import { ChainStore } from './chainStore.ts'
import type { ChainOpts, CheckedBlock, ImportedBlock, OfferedWrites, PreparedProposal, SlowQueueJob, VerifiedWrites } from './chainTypes.ts'
import { computeNextValidators } from './computeNextValidators.ts'
import { computeSelfCommit } from './computeSelfCommit.ts'
import { EvidencePool, toOffence } from './evidencePool.ts'
import { type DroppedTx, Mempool } from './mempool.ts'
import type { AuditResponder } from './produceBlock/buildAuditEntry.ts'
import { HeartbeatPool } from './produceBlock/buildLivenessEntry.ts'
import { buildOnHead, type BuildOnHeadModules } from './produceBlock/buildOnHead.ts'
import type { StorageAckResponder } from './produceBlock/buildStorageAckEntry.ts'
import { computeProposalContext } from './produceBlock/produceBlock.ts'
import { ProposerBeacon } from './produceBlock/ProposerBeacon.ts'
import { ProposalInputs } from './ProposalInputs.ts'
import { ReceiptPool } from './receiptPool.ts'
import { SignatureVerifier } from './signatureVerifier.ts'
import { ValidatorTable } from './ValidatorTable.ts'

export type { ChainOpts, CheckedBlock, ImportedBlock, OfferedWrites, PreparedProposal, QueueJob, SlowQueueJob } from './chainTypes.ts'
export type { AuditResponder } from './produceBlock/buildAuditEntry.ts'

/** What the mempool needs from a block it prunes against: its height, kind, included tx ids and the account rows it wrote (by hex address). */
function computePruneInfo(block: Block, writes: readonly StateWrite[]): { height: number; kind: string; included: Set<string>; accountRows: Map<string, Uint8Array> } {
  const included = new Set<string>()
  for (const e of block.entries) if ('tx' in e) included.add(toHex(txId(e.tx)))
  const accountRows = new Map<string, Uint8Array>()
  for (const w of writes) if (isKeyOf(TABLES.account, w.key)) accountRows.set(toHex(idOfKey(TABLES.account, w.key)), w.key)
  return { height: block.header.height, kind: block.header.kind, included, accountRows }
}

/**
 * The chain of one node: store, mempool, proof registry. Every block, including the ones this
 * node proposes, goes through one verification path (`BlockVerifier`): structure → parent →
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
  readonly #inputs: ProposalInputs
  readonly #verifier: SignatureVerifier
  readonly #key: KeyPair | undefined
  /** A block taken with its verified commit skips its tx and receipt signature checks, and may be applied by an offered write set (ChainOpts.checkCommittedSignatures). */
  readonly trustsCommits: boolean
  readonly #builder: BuildOnHeadModules
  readonly #jobs = new BlockJobQueue((slow) => this.emit('slowJob', { ...slow, height: this.store.head.height }))
  readonly #blocks: BlockVerifier
  readonly #validators: ValidatorTable

  /** What block verification did since start (BlockVerifier.counts). */
  get verificationCounts(): Readonly<VerificationCounts> {
    return this.#blocks.counts
  }

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
    this.trustsCommits = opts.checkCommittedSignatures !== true
    this.#inputs = new ProposalInputs({ store, genesis: opts.genesis, hostIndex: this.hostIndex, key: opts.validatorKey, onError: (err) => this.emit('buildError', err) })
    // The router's index and the validator set follow every state change.
    this.#validators = new ValidatorTable(store.state)
    store.onStateChange = (writes) => {
      this.#validators.noteWrites(writes) // first: it cannot throw, and a stale set would be worse than a stale router index
      applyHostWrites(this.hostIndex, writes)
    }
    const plot = opts.validatorKey && opts.genesis.consensus.schemes.includes('space')
      ? buildPlot(opts.validatorKey.publicKey, opts.genesis.consensus.spacePlotEntries)
      : undefined
    this.#blocks = new BlockVerifier({ store, genesis: opts.genesis, mempool: this.mempool, receipts: this.receipts, hostIndex: this.hostIndex, signatures: this.#verifier, priorities: () => this.priorities(), blockContext: () => this.#blockContext() })
    this.#builder = {
      store, genesis: opts.genesis, mempool: this.mempool, receipts: this.receipts, evidence: this.evidence, heartbeats: this.heartbeats, hostIndex: this.hostIndex,
      beacon: opts.validatorKey === undefined ? undefined : new ProposerBeacon(opts.validatorKey), plot, maxTxs: opts.maxTxsPerBlock ?? 2_000,
      blockContext: () => this.#blockContext(),
      submitTx: (tx) => this.submitTx(tx),
      nextNonce: (address) => this.nextNonce(address),
      nextBaseFee: () => this.nextBaseFee(),
      onBuildError: (err) => this.emit('buildError', err),
    }
  }

  static async open(opts: ChainOpts): Promise<Chain> {
    const store = await ChainStore.open(opts.dataDir, opts.genesis, {
      ...(opts.treeCacheNodes === undefined ? {} : { treeCacheNodes: opts.treeCacheNodes }),
      ...(opts.valueCacheEntries === undefined ? {} : { valueCacheEntries: opts.valueCacheEntries }),
      ...(opts.activityIndex === undefined ? {} : { activityIndex: opts.activityIndex }),
    })
    const chain = new Chain(store, opts)
    await store.initValidatorSet(chain.validators())
    return chain
  }

  get head() {
    return this.store.head
  }

  /** Bonded validators as of the head, in address order (ValidatorTable.ts: read again only after a block writes the table). */
  validators(): ValidatorStake[] {
    return this.#validators.list()
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

  /** The validator set of height head+1 (whose precommits commit it); normalized once per head, with the list it is made of. */
  validatorSet(): ValidatorSet {
    return this.#validators.set()
  }

  /** The hex addresses of `validators()`, made once per head (links and the receipt push look members up by them on every send). */
  validatorAddressesHex(): readonly string[] {
    return this.#validators.hexes()
  }

  /** Proposer priorities of height head+1 (consensus/proposerPriority.ts): depend on the validator-set history only. */
  priorities(): ProposerPriorityState {
    return this.store.priorities ?? computeInitialPriorities(this.validators())
  }

  /** The proposer of `round` at height head+1 (stake-weighted round robin, ungrindable). */
  proposerOf(round = 0): Uint8Array {
    return computeRoundProposer(this.priorities(), round)
  }

  /** How the proposer gathers audit answers (the node asks hosts over the network). */
  setStorageAckResponder(responder: StorageAckResponder): void {
    this.#inputs.setStorageAckResponder(responder)
  }

  setAuditResponder(responder: AuditResponder): void {
    this.#inputs.setAuditResponder(responder)
  }

  /** Admits a host's receipt (with its write set) for a later completion block, or throws ReceiptError. `signedHere`: see ReceiptPool.add. */
  submitReceipt(receipt: Receipt, writeSet: KvWrite[], opts: { signedHere?: boolean } = {}): void {
    this.receipts.add(receipt, writeSet, this.store.state, opts)
    this.emit('work') // a proposer waiting for its slot may build early (pendingWorkKey)
  }

  /** Checks an offence as the next block would apply it and holds it for a block. Returns false when the pool already holds it (or one against the same offender); throws why it does not apply. */
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

  /** Drops held offences that can no longer apply: included (the offender is slashed), expired or invalid. Committed blocks are final, so a slashing is never undone. */
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
    return this.#jobs.run('import', () => this.#import(block, bytes))
  }

  /**
   * Checks a proposed block against the head without applying it (BFT's "valid(v)"); its write set
   * is kept for `commitBlock`. Throws the typed error that says why it is invalid.
   * `forCommitOnly`: the verdict only lets this node apply the block with a commit (it casts no
   * vote: a follower's BFT machine), so the commit will vouch for its signatures (commitBlock) and
   * `writes`, when a peer offered them, may stand for its transition (BlockVerifier.verifiedCommitted).
   */
  checkBlock(block: Block, currentRound?: number, opts: { forCommitOnly?: boolean; writes?: OfferedWrites | undefined } = {}): Promise<void> {
    return this.#jobs.run('check', async () => {
      // The bound first (cheap, not cached with the write set): a block for a later round than the one voted on is refused.
      verifyBlockProposer(this.priorities(), block.header, currentRound)
      const hash = blockHash(block.header)
      if (opts.forCommitOnly === true && this.trustsCommits) await this.#blocks.verifiedCommitted(block, hash, opts.writes)
      else await this.#blocks.verified(block, hash)
    })
  }

  /**
   * Applies a block with its commit: the commit must carry precommits of more than 2/3 of the
   * head's validator set for exactly this block (verifyCommit). The block becomes the head and is
   * final in the same atomic write. `writes`: the block's write set as a peer offered it (BlockVerifier.verifiedCommitted).
   */
  commitBlock(block: Block, commit: Commit, bytes?: Uint8Array, writes?: OfferedWrites): Promise<ImportedBlock> {
    return this.#jobs.run('commit', async () => {
      const hash = blockHash(block.header)
      const head = this.store.head
      // Position first: a block that is no longer (or not yet) next is no fault of its commit.
      if (block.header.height <= head.height) throw new BlockError('ALREADY_KNOWN', `height ${block.header.height} is already committed`, { hash: toHex(hash) })
      if (block.header.height !== head.height + 1 || !equalBytes(block.header.prevHash, head.hash)) {
        throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
      }
      verifyCommit(commit, { chainId: this.genesis.chainId, validators: this.validatorSet(), height: this.store.head.height + 1, blockId: hash })
      verifyBlockProposer(this.priorities(), block.header)
      if (bytes !== undefined) noteBlockBytes(block, bytes) // the block's encoding (stored as is): entry hashes and tx ids from its slices
      const verified = this.trustsCommits ? await this.#blocks.verifiedCommitted(block, hash, writes) : await this.#blocks.verified(block, hash)
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
    this.#blocks.verifyProofsOnce(header)
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
    return this.#jobs.run('build', async () => {
      const head = this.store.head
      const slot = this.currentSlot(nowMs)
      if (BigInt(nowMs) <= head.header.timestamp && head.header.height > 0) return undefined
      const answers = prepared !== undefined && equalBytes(head.hash, prepared.headHash) ? prepared : undefined
      const built = await buildOnHead(this.#builder, { slot, nowMs, key, prepared: answers, round, onlyWithEntries: opts.onlyWithEntries === true })
      if (built === undefined) return undefined
      const { block } = built
      const hash = blockHash(block.header)
      await this.#blocks.verified(block, hash, built.applied)
      return { block, hash, bytes: encode(Block, block) }
    })
  }

  async #import(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    const started = performance.now()
    const hash = blockHash(block.header)
    const verified = await this.#blocks.verified(block, hash)
    return this.#apply(block, hash, verified, { bytes }, started)
  }

  async #apply(block: Block, hash: Hash, verified: VerifiedWrites, extras: { bytes?: Uint8Array | undefined; commit?: Commit }, started = performance.now()): Promise<ImportedBlock> {
    const { writes, treeNodes } = verified
    await this.store.commitBlock(block, hash, writes, { ...extras, treeNodes, ...computeNextValidators(this.validators(), this.priorities(), writes) })
    this.#blocks.committed(verified)
    // The pending senders whose accounts the block wrote are re-checked: loaded first (nothing evicts before the next commit).
    const prune = computePruneInfo(block, writes)
    const senders = [...prune.accountRows].filter(([address]) => this.mempool.hasSender(address)).map(([, key]) => key)
    await this.store.readLoaded(senders, () => this.mempool.prune(this.store.state, { ...prune, accounts: prune.accountRows.keys() }))
    if (block.header.kind === 'completion') this.#offerLeftOutReceipts(block, this.receipts.prune(this.store.state))
    this.#pruneEvidence()
    this.heartbeats.prune(this.store.state)
    const imported: ImportedBlock = { block, hash, writes, seconds: (performance.now() - started) / 1000, ...(extras.commit ? { commit: extras.commit } : {}), ...(extras.bytes ? { bytes: extras.bytes } : {}) }
    this.emit('block', imported)
    return imported
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
    return this.#jobs.run('produce', async () => {
      const head = this.store.head
      if (ready.auditAnswers !== undefined && !equalBytes(head.hash, ready.headHash)) return undefined
      if (slot <= head.header.slot && head.header.height > 0) return undefined
      if (!equalBytes(this.proposerOf(), key.publicKey)) return undefined
      const { block, applied } = (await buildOnHead(this.#builder, { slot, nowMs, key, prepared: ready, round: 0, onlyWithEntries: false }))!
      const started = performance.now()
      const hash = blockHash(block.header)
      const verified = await this.#blocks.verified(block, hash, applied)
      return this.#apply(block, hash, verified, { commit: computeSelfCommit(this.validatorSet(), this.genesis.chainId, block, hash, key) }, started)
    })
  }

  /** What a proposal for `slot` on the current head needs from the network (ProposalInputs.prepare), gathered without any lock. */
  prepareProposal(slot: number, opts: { waitForStorageAcks?: boolean } = {}): Promise<PreparedProposal> {
    return this.#inputs.prepare(slot, opts)
  }

  /** Starts gathering the audit answers a block at `slot` on the head will need (ProposalInputs.prefetchAuditAnswers). */
  prefetchAuditAnswers(slot: number): void {
    this.#inputs.prefetchAuditAnswers(slot)
  }

  /** Whether a block at `slot` on the head is due to carry an audit (a new audit epoch, something stored). */
  isAuditDue(slot: number): boolean {
    return this.#inputs.isAuditDue(slot)
  }

  /** Asks the hosts of waiting placements for their acks in the background (ProposalInputs.prefetchStorageAcks). */
  prefetchStorageAcks(): void {
    this.#inputs.prefetchStorageAcks()
  }

  async close(): Promise<void> {
    await this.#jobs.drain()
    await this.#verifier.close()
    await this.store.close()
  }
}
