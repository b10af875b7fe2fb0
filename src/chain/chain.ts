import { EventEmitter } from 'node:events'

import { decode, decodeTrusted } from '../../blocks/codec.ts'
import { BlockError, XscError } from '../../blocks/errors.ts'
import { blockHash, txId, txSigningHash } from '../../blocks/ids.ts'
import type { Block, BlockEntry, GenesisConfig, Hash, KvWrite, Offence, Receipt, SignedTx } from '../../blocks/schema.ts'
import { validateBlockParent, validateBlockStructure } from '../../blocks/validateBlock.ts'
import { BftError } from '../../consensus/bft/errors.ts'
import type { Evidence } from '../../consensus/bft/messages.ts'
import { createRegistry, type ProofRegistry } from '../../consensus/proofScheme.ts'
import { type BlockContext, verifyProofs } from '../../consensus/sealBlock.ts'
import { computeSlot } from '../../consensus/slot.ts'
import { buildPlot, type SpacePlot } from '../../consensus/space.ts'
import { computeProposer } from '../../consensus/stake.ts'
import type { ValidatorStake } from '../../consensus/validatorSet.ts'
import { equalBytes, type KeyPair, toHex } from '../crypto/index.ts'
import { HostIndex } from '../router/index.ts'
import { applyBlock } from '../state/applyBlock.ts'
import type { ApplyContext } from '../state/applyContext.ts'
import { checkOffence } from '../state/applyEvidence.ts'
import { StateError } from '../state/errors.ts'
import { HostRecord, Validator } from '../state/records.ts'
import { STATE_PREFIX } from '../state/stateKeys.ts'
import { computeTouchedKeys } from '../state/stateTree/computeTouchedKeys.ts'
import { ChainStore } from './chainStore.ts'
import { EvidencePool, toOffence } from './evidencePool.ts'
import { type DroppedTx, Mempool } from './mempool.ts'
import { type AuditAnswers, type AuditResponder, gatherAuditAnswers } from './produceBlock/buildAuditEntry.ts'
import { chooseEntries } from './produceBlock/chooseEntries.ts'
import { buildBlock, computeProposalContext } from './produceBlock/produceBlock.ts'
import { ReceiptPool } from './receiptPool.ts'
import { SignatureVerifier } from './signatureVerifier.ts'

export type { AuditResponder } from './produceBlock/buildAuditEntry.ts'

/** What a proposal gathered before taking the lock, bound to the head it was gathered on. */
export interface PreparedProposal { headHash: Hash; auditAnswers: AuditAnswers | undefined }

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
}

export interface ImportedBlock {
  block: Block
  hash: Hash
  /** Wall time the import took (verification to commit), for metrics. */
  seconds?: number
}

/** What the mempool needs from a block it prunes against: its height, kind and included tx ids. */
function computePruneInfo(block: Block): { height: number; kind: string; included: Set<string> } {
  const included = new Set<string>()
  for (const e of block.entries) if ('tx' in e) included.add(toHex(txId(e.tx)))
  return { height: block.header.height, kind: block.header.kind, included }
}

/**
 * The chain of one node: store, mempool, proof registry. Every block, including the ones this
 * node proposes, enters through `importBlock` and its one verification path: structure →
 * parent → consensus proofs → signatures (all cores) → state transition → state root → one
 * atomic commit. Imports are serialized.
 */
export class Chain extends EventEmitter<{ block: [ImportedBlock]; buildError: [unknown]; dropped: [DroppedTx] }> {
  readonly store: ChainStore
  readonly mempool: Mempool
  readonly registry: ProofRegistry
  readonly genesis: GenesisConfig
  readonly receipts: ReceiptPool
  readonly evidence = new EvidencePool()
  /** The router's view of the hosts as of the head; updated from each block's writes. */
  readonly hostIndex: HostIndex
  #auditResponder: AuditResponder | undefined
  readonly #verifier: SignatureVerifier
  readonly #key: KeyPair | undefined
  readonly #plot: SpacePlot | undefined
  readonly #maxTxs: number
  #queue: Promise<unknown> = Promise.resolve()
  #validatorCache: { head: string; set: ValidatorStake[] } | undefined
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
      store.state.scan(new Uint8Array([STATE_PREFIX.host])).map((w) => [w.key.subarray(1), decodeTrusted(HostRecord, w.value!)] as const),
    )
    this.#verifier = new SignatureVerifier(opts.signatureWorkers === undefined ? {} : { workers: opts.signatureWorkers })
    this.#key = opts.validatorKey
    this.#maxTxs = opts.maxTxsPerBlock ?? 2_000
    // The router's index follows every state change, including reverts by fork choice.
    store.onStateChange = (writes) => this.#updateHostIndex(writes)
    this.#plot = opts.validatorKey && opts.genesis.consensus.schemes.includes('space')
      ? buildPlot(opts.validatorKey.publicKey, opts.genesis.consensus.spacePlotEntries)
      : undefined
  }

  static async open(opts: ChainOpts): Promise<Chain> {
    const store = await ChainStore.open(opts.dataDir, opts.genesis, opts.treeCacheNodes === undefined ? {} : { treeCacheNodes: opts.treeCacheNodes })
    return new Chain(store, opts)
  }

  get head() {
    return this.store.head
  }

  /** Bonded validators as of the head, in address order. */
  validators(): ValidatorStake[] {
    const head = toHex(this.store.head.hash)
    if (this.#validatorCache?.head === head) return this.#validatorCache.set
    const set = this.store.state.scan(new Uint8Array([STATE_PREFIX.validator])).map((w) => ({
      address: w.key.subarray(1),
      stake: decode(Validator, w.value!).stake,
    }))
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

  proposerOf(slot: number): Uint8Array {
    return computeProposer(this.validators(), this.store.head.hash, slot)
  }

  /** How the proposer gathers audit answers (the node asks hosts over the network). */
  setAuditResponder(responder: AuditResponder): void {
    this.#auditResponder = responder
  }

  /** Admits a host's receipt (with its write set) for a later completion block, or throws ReceiptError. */
  submitReceipt(receipt: Receipt, writeSet: KvWrite[]): void {
    this.receipts.add(receipt, writeSet, this.store.state)
  }

  /**
   * Checks an offence as the next block would apply it and holds it for a block. Returns false
   * when the pool already holds it (or one against the same offender); throws why it does not apply.
   */
  submitEvidence(value: Offence | Evidence): boolean {
    const offence = toOffence(value)
    // The state first: evidence against an offender already slashed is refused (ALREADY_SLASHED), even while the pool still holds it.
    checkOffence(this.store.state, offence, this.#nextContext())
    return this.evidence.add(offence)
  }

  #nextContext(): ApplyContext {
    const head = this.store.head
    return computeProposalContext(this.genesis, head, head.header.slot + 1, head.header.proposer, this.hostIndex)
  }

  /**
   * Drops held offences that can no longer apply (expired, invalid). One whose offender is
   * already slashed stays until it expires: the block that slashed it may still be reverted.
   */
  #pruneEvidence(): void {
    if (this.evidence.size === 0) return
    const ctx = this.#nextContext()
    this.evidence.prune((o) => {
      try {
        checkOffence(this.store.state, o, ctx)
        return true
      } catch (err) {
        return err instanceof BftError && err.code === 'ALREADY_SLASHED'
      }
    })
  }

  /** Admits a tx to the mempool or throws a typed error. */
  submitTx(tx: SignedTx): Hash {
    return this.mempool.add(tx, this.store.state, { height: this.store.head.height })
  }

  /** `bytes`, when the block arrived encoded, is stored as is (it was checked canonical by decode). */
  importBlock(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    return this.#serialized(() => this.#import(block, bytes))
  }

  async #import(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    const started = performance.now()
    const hash = blockHash(block.header)
    const head = this.store.head
    if (equalBytes(hash, head.hash) || (await this.store.getBlockBytes(hash)) !== undefined) {
      throw new BlockError('ALREADY_KNOWN', `block ${toHex(hash)} is already known`, { hash: toHex(hash) })
    }
    if (!equalBytes(block.header.prevHash, head.hash)) {
      throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
    }
    // Signature checks start first, on the workers, and run while this thread checks structure,
    // proofs and the transition; this thread then takes its own share. Nothing is written
    // before every check has passed.
    const signatures = this.#startSignatureCheck(block.entries)
    validateBlockStructure(block, this.genesis.chainId)
    validateBlockParent(block.header, head.header, head.hash)
    verifyProofs(this.#blockContext(), block.header)
    await this.store.tree.load(head.header.stateRoot, computeTouchedKeys(block.entries, block.header.proposer))
    const result = await this.store.tree.withLoaded(() => applyBlock(this.store.state, block, head.header.stateRoot, this.#applyContext(block, true)))
    await signatures.finish()
    if (!equalBytes(result.stateRoot, block.header.stateRoot)) {
      throw new BlockError('BAD_STATE_ROOT', 'state root differs from the recomputed one', { got: toHex(block.header.stateRoot), expected: toHex(result.stateRoot) })
    }
    await this.store.commitBlock(block, hash, result.writes, bytes, result.treeNodes)
    this.mempool.prune(this.store.state, computePruneInfo(block))
    if (block.header.kind === 'completion') this.receipts.prune(this.store.state)
    this.#pruneEvidence()
    const imported = { block, hash, seconds: (performance.now() - started) / 1000 }
    this.emit('block', imported)
    return imported
  }

  /**
   * Re-applies a block this node verified and committed before and has since reverted (fork
   * choice switching back): its proofs and signatures were checked at first import; the
   * transition is re-run and its state root re-checked before the commit.
   */
  reapplyKnownBlock(block: Block, hash: Hash): Promise<ImportedBlock> {
    return this.#serialized(async () => {
      const head = this.store.head
      if (!equalBytes(block.header.prevHash, head.hash)) {
        throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
      }
      const result = await this.store.tree.withLoaded(() => applyBlock(this.store.state, block, head.header.stateRoot, this.#applyContext(block, true)))
      if (!equalBytes(result.stateRoot, block.header.stateRoot)) {
        throw new BlockError('BAD_STATE_ROOT', 'state root differs from the recomputed one', { got: toHex(block.header.stateRoot), expected: toHex(result.stateRoot) })
      }
      await this.store.commitBlock(block, hash, result.writes, await this.store.getBlockBytes(hash), result.treeNodes)
      this.mempool.prune(this.store.state, computePruneInfo(block))
      if (block.header.kind === 'completion') this.receipts.prune(this.store.state)
    this.#pruneEvidence()
      const imported = { block, hash }
      this.emit('block', imported)
      return imported
    })
  }

  #updateHostIndex(writes: readonly { key: Uint8Array; value: Uint8Array | undefined }[]): void {
    for (const w of writes) {
      if (w.key[0] !== STATE_PREFIX.host) continue
      const address = w.key.subarray(1)
      if (w.value === undefined) this.hostIndex.remove(address)
      else this.hostIndex.upsert(address, decodeTrusted(HostRecord, w.value))
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
      signaturesChecked,
    }
  }

  /** Starts checking every tx signature of a block across all cores; `finish` throws naming the first bad one. */
  #startSignatureCheck(entries: readonly BlockEntry[]): { finish(): Promise<void> } {
    // A tx this node's mempool admitted had its signature checked then; its id covers body and
    // signature, so the same bytes need no second check (one verify per tx per node).
    const unchecked: { tx: SignedTx; index: number }[] = []
    let index = 0
    for (const e of entries) {
      if (!('tx' in e)) continue
      if (!this.mempool.has(txId(e.tx))) unchecked.push({ tx: e.tx, index })
      index++
    }
    this.signaturesCheckedAtImport += unchecked.length
    const job = this.#verifier.start(unchecked.map(({ tx }) => ({ publicKey: tx.body.from, message: txSigningHash(tx.body), signature: tx.signature })))
    return {
      finish: async () => {
        const ok = await job.finish()
        const bad = unchecked[ok.indexOf(false)]
        if (bad !== undefined) throw new StateError('BAD_SIGNATURE', `tx ${bad.index} of the block has a bad signature`, { index: bad.index, from: toHex(bad.tx.body.from) })
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
    const ready = prepared ?? (await this.prepareProposal(slot))
    return this.#serialized(async () => {
      const head = this.store.head
      if (ready.auditAnswers !== undefined && !equalBytes(head.hash, ready.headHash)) return undefined
      if (slot <= head.header.slot && head.header.height > 0) return undefined
      if (!equalBytes(this.proposerOf(slot), key.publicKey)) return undefined
      const state = this.store.state
      const ctx = computeProposalContext(this.genesis, head, slot, key.publicKey, this.hostIndex)
      const chosen = chooseEntries({ state, ctx, mempool: this.mempool, receipts: this.receipts, evidence: this.evidence, maxTxs: this.#maxTxs, auditAnswers: ready.auditAnswers })
      const seal = { ...this.#blockContext(), secretKey: key.secretKey, ...(this.#plot ? { plot: this.#plot } : {}) }
      await this.store.tree.load(head.header.stateRoot, computeTouchedKeys(chosen.entries, key.publicKey))
      const block = await this.store.tree.withLoaded(() => buildBlock({ genesis: this.genesis, head, state, ctx, nowMs, chosen, seal, onBuildError: (err) => this.emit('buildError', err) }))
      return this.#import(block)
    })
  }

  /**
   * What a proposal for `slot` on the current head needs from the network, gathered without any
   * lock: the hosts' answers when the block is due to carry an audit (and this node proposes it).
   */
  async prepareProposal(slot: number): Promise<PreparedProposal> {
    const head = this.store.head
    const key = this.#key
    if (key === undefined || this.#auditResponder === undefined || !equalBytes(this.proposerOf(slot), key.publicKey)) return { headHash: head.hash, auditAnswers: undefined }
    const ctx = computeProposalContext(this.genesis, head, slot, key.publicKey, this.hostIndex)
    return { headHash: head.hash, auditAnswers: await gatherAuditAnswers(this.store.state, ctx, this.#auditResponder) }
  }

  #serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(f, f)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async close(): Promise<void> {
    await this.#queue
    await this.#verifier.close()
    await this.store.close()
  }
}
