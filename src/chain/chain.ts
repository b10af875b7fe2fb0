import { EventEmitter } from 'node:events'
import { decode } from '../../blocks/codec.ts'
import { XscError } from '../../blocks/errors.ts'
import { blockHash, computeBodyRoot, txSigningHash } from '../../blocks/ids.ts'
import type { Block, BlockEntry, GenesisConfig, Hash, SealFields, SignedTx } from '../../blocks/schema.ts'
import { BlockError, validateBlockParent, validateBlockStructure } from '../../blocks/validateBlock.ts'
import { createRegistry, type ProofRegistry } from '../../consensus/proofScheme.ts'
import { sealBlock, verifyProofs, type BlockContext } from '../../consensus/sealBlock.ts'
import { computeProposer } from '../../consensus/stake.ts'
import { buildPlot, type SpacePlot } from '../../consensus/space.ts'
import { computeSlot, computeSlotStart } from '../../consensus/slot.ts'
import type { ValidatorStake } from '../../consensus/validatorSet.ts'
import { equalBytes, toHex, type KeyPair } from '../crypto/index.ts'
import { applyBlock } from '../state/applyBlock.ts'
import type { ApplyContext } from '../state/applyContext.ts'
import { applyLedgerTx } from '../state/applyLedger.ts'
import { StateError } from '../state/errors.ts'
import { Validator } from '../state/records.ts'
import { STATE_PREFIX } from '../state/stateKeys.ts'
import { StateOverlay } from '../state/stateView.ts'
import { ChainStore } from './chainStore.ts'
import { Mempool } from './mempool.ts'
import { SignatureVerifier } from './signatureVerifier.ts'

export interface ChainOpts {
  dataDir: string
  genesis: GenesisConfig
  /** The validator key this node proposes with, if it is a validator. */
  validatorKey?: KeyPair
  signatureWorkers?: number
  maxTxsPerBlock?: number
  mempoolSize?: number
}

export interface ImportedBlock { block: Block; hash: Hash }

/**
 * The chain of one node: store, mempool, proof registry. Every block, including the ones this
 * node proposes, enters through `importBlock` and its one verification path: structure →
 * parent → consensus proofs → signatures (all cores) → state transition → state root → one
 * atomic commit. Imports are serialized.
 */
export class Chain extends EventEmitter<{ block: [ImportedBlock] }> {
  readonly store: ChainStore
  readonly mempool: Mempool
  readonly registry: ProofRegistry
  readonly genesis: GenesisConfig
  readonly #verifier: SignatureVerifier
  readonly #key: KeyPair | undefined
  readonly #plot: SpacePlot | undefined
  readonly #maxTxs: number
  #queue: Promise<unknown> = Promise.resolve()
  #validatorCache: { head: string; set: ValidatorStake[] } | undefined

  private constructor(store: ChainStore, opts: ChainOpts) {
    super()
    this.store = store
    this.genesis = opts.genesis
    this.registry = createRegistry(opts.genesis.consensus)
    this.mempool = new Mempool({ chainId: opts.genesis.chainId, maxSize: opts.mempoolSize ?? 50_000 })
    this.#verifier = new SignatureVerifier(opts.signatureWorkers === undefined ? {} : { workers: opts.signatureWorkers })
    this.#key = opts.validatorKey
    this.#maxTxs = opts.maxTxsPerBlock ?? 2_000
    this.#plot = opts.validatorKey && opts.genesis.consensus.schemes.includes('space')
      ? buildPlot(opts.validatorKey.publicKey, opts.genesis.consensus.spacePlotEntries)
      : undefined
  }

  static async open(opts: ChainOpts): Promise<Chain> {
    const store = await ChainStore.open(opts.dataDir, opts.genesis)
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

  /** Admits a tx to the mempool or throws a typed error. */
  submitTx(tx: SignedTx): Hash {
    return this.mempool.add(tx, this.store.state)
  }

  /** `bytes`, when the block arrived encoded, is stored as is (it was checked canonical by decode). */
  importBlock(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    return this.#serialized(() => this.#import(block, bytes))
  }

  async #import(block: Block, bytes?: Uint8Array): Promise<ImportedBlock> {
    const hash = blockHash(block.header)
    const head = this.store.head
    if (equalBytes(hash, head.hash) || (await this.store.getBlockBytes(hash)) !== undefined) {
      throw new BlockError('ALREADY_KNOWN', `block ${toHex(hash)} is already known`, { hash: toHex(hash) })
    }
    validateBlockStructure(block, this.genesis.chainId)
    if (!equalBytes(block.header.prevHash, head.hash)) {
      throw new BlockError('PARENT_UNKNOWN', `block ${toHex(hash)} does not extend the head ${toHex(head.hash)}`, { hash: toHex(hash), parent: toHex(block.header.prevHash) })
    }
    validateBlockParent(block.header, head.header, head.hash)
    verifyProofs(this.#blockContext(), block.header)
    // Signatures are checked on the worker threads while this thread runs the transition; the
    // block is rejected afterwards if any failed, and nothing was written before that.
    const signatures = this.#checkSignatures(block.entries)
    signatures.catch(() => undefined)
    const ctx = this.#applyContext(block, true)
    let result: ReturnType<typeof applyBlock>
    try {
      result = applyBlock(this.store.state, block, head.header.stateRoot, ctx)
    } finally {
      await signatures
    }
    if (!equalBytes(result.stateRoot, block.header.stateRoot)) {
      throw new BlockError('BAD_STATE_ROOT', 'state root differs from the recomputed one', { got: toHex(block.header.stateRoot), expected: toHex(result.stateRoot) })
    }
    await this.store.commitBlock(block, hash, result.writes, bytes)
    this.mempool.prune(this.store.state)
    const imported = { block, hash }
    this.emit('block', imported)
    return imported
  }

  #applyContext(block: Pick<Block, 'header'>, signaturesChecked: boolean): ApplyContext {
    return {
      genesis: this.genesis,
      height: block.header.height,
      slot: block.header.slot,
      proposer: block.header.proposer,
      prevHash: block.header.prevHash,
      signaturesChecked,
    }
  }

  /** Checks every tx signature of a block across all cores; throws naming the first bad one. */
  async #checkSignatures(entries: readonly BlockEntry[]): Promise<void> {
    const txs: SignedTx[] = []
    for (const e of entries) if ('tx' in e) txs.push(e.tx)
    if (txs.length === 0) return
    const ok = await this.#verifier.verifyAll(txs.map((tx) => ({ publicKey: tx.body.from, message: txSigningHash(tx.body), signature: tx.signature })), { offload: true })
    const bad = ok.indexOf(false)
    if (bad >= 0) throw new StateError('BAD_SIGNATURE', `tx ${bad} of the block has a bad signature`, { index: bad, from: toHex(txs[bad]!.body.from) })
  }

  /**
   * Proposes a block for `slot` if this node's key is the slot's proposer: picks txs from the
   * mempool (skipping any that no longer apply), seals it with every required proof, and
   * imports it like any other block. Returns undefined when it is not this node's slot.
   */
  produceBlock(slot: number, nowMs: number): Promise<ImportedBlock | undefined> {
    return this.#serialized(async () => {
      const key = this.#key
      if (key === undefined) throw new XscError('NOT_A_VALIDATOR', 'this node has no validator key')
      const head = this.store.head
      if (slot <= head.header.slot && head.header.height > 0) return undefined
      if (!equalBytes(this.proposerOf(slot), key.publicKey)) return undefined
      const block = this.#buildBlock(slot, nowMs, key)
      return this.#import(block)
    })
  }

  #buildBlock(slot: number, nowMs: number, key: KeyPair): Block {
    const head = this.store.head
    const slotStart = computeSlotStart(this.genesis.genesisTime, this.genesis.slotMs, slot)
    const now = BigInt(nowMs)
    const timestamp = now >= slotStart && now < slotStart + BigInt(this.genesis.slotMs) ? now : slotStart
    const header0 = { header: { height: head.height + 1, slot, proposer: key.publicKey, prevHash: head.hash } }
    const ctx = this.#applyContext(header0 as unknown as Block, true)
    const picked = this.mempool.select(this.#maxTxs)
    const entries: BlockEntry[] = []
    // Producer side: keep only txs that still apply, in order (a tx may depend on an earlier one).
    const overlay = new StateOverlay(this.store.state)
    if (picked?.kind === 'ledger' || picked === undefined) {
      for (const tx of picked?.txs ?? []) {
        try {
          applyLedgerTx(overlay, tx, ctx)
          entries.push({ type: 'tx', tx })
        } catch {
          // dropped from this block; prune() removes it from the pool if it can never apply
        }
      }
    }
    const kind = 'ledger' as const
    const draft: Block = { header: { chainId: this.genesis.chainId, height: head.height + 1, prevHash: head.hash, kind, slot, timestamp, proposer: key.publicKey, bodyRoot: computeBodyRoot(entries), stateRoot: new Uint8Array(32), proofs: [], signature: new Uint8Array(64) }, entries }
    const { stateRoot } = applyBlock(this.store.state, draft, head.header.stateRoot, ctx)
    const fields: SealFields = { ...draft.header, stateRoot }
    const sealCtx = { ...this.#blockContext(), secretKey: key.secretKey, ...(this.#plot ? { plot: this.#plot } : {}) }
    return { header: sealBlock(sealCtx, fields), entries }
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
