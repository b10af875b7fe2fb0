import { decode, encode, list, str } from '../../blocks/codec.ts'
import { CodecError } from '../../blocks/errors.ts'
import { blockHash } from '../../blocks/ids.ts'
import { Attestation, Block, SignedTx, type Hash } from '../../blocks/schema.ts'
import { BlockError, validateBlockStructure } from '../../blocks/validateBlock.ts'
import { ConsensusError, isTransientConsensusError } from '../../consensus/errors.ts'
import { signAttestation, type BlockNode } from '../../consensus/finality.ts'
import { verifyProofs } from '../../consensus/sealBlock.ts'
import { isFromFuture } from '../../consensus/time.ts'
import type { Chain, ImportedBlock } from '../chain/chain.ts'
import { ForkChoiceError, ForkChoiceStore, switchBranch, type BranchBlock } from '../chain/forkChoice.ts'
import { MempoolError } from '../chain/mempool.ts'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { equalBytes, generateKeyPair, hashParts, toHex, utf8, type KeyPair } from '../crypto/index.ts'
import { requestBlocksByRange, requestStatus, serveBlocksByRange, serveStatus, type NetLogger, type NetNode, type ValidationResult } from '../net/index.ts'
import { StateError, type StateErrorCode } from '../state/errors.ts'
import { readKeyFile, writeKeyFile } from './keyFile.ts'
import type { Logger } from './logger.ts'
import { NodeRpcBackend, type NodeRpcBackendModules } from './rpcBackend.ts'

/**
 * A validator on the network: gossip of txs, blocks and attestations, range sync, fork choice
 * and finality, around one started `Chain` and one `NetNode`.
 *
 * - Gossip validation IS verification: a block is accepted (and forwarded) only after it was
 *   imported through `Chain.importBlock`, or, on a competing branch, after its structure and
 *   consensus proofs checked out. Typed errors map to REJECT (the bytes can never be valid: the
 *   sender is penalised by gossipsub scoring) or IGNORE (not now: unknown parent, from the
 *   future, already known, our own failure).
 * - Every chain mutation (gossip import, range sync, branch switch, the node's own proposals via
 *   `produce`) runs under one lock, so a revert never interleaves with an import.
 * - A validator signs an attestation for every block it imports at a height above its last one
 *   (never two blocks at one height: that would be equivocation) and gossips it.
 */

export interface ValidatorNetworkOpts {
  /** Present on validators: signs and gossips attestations. */
  validatorKey?: KeyPair
  /** Period of the status poll that notices being behind. Default 3 s. */
  syncIntervalMs?: number
  /** The clock (for `isFromFuture` only). */
  now?: () => number
}

export interface ValidatorNetworkModules {
  chain: Chain
  net: NetNode
  log: Logger
  /** Called (under the lock) after the store's finalized block moved to `height`. */
  onFinalized?: (height: number) => void | Promise<void>
}

const TX_IGNORE: ReadonlySet<StateErrorCode> = new Set<StateErrorCode>(['NONCE_TOO_HIGH', 'NONCE_TOO_LOW', 'INSUFFICIENT_FUNDS', 'UNKNOWN_HOST', 'UNKNOWN_ASSET', 'UNKNOWN_EXECUTION', 'UNKNOWN_VALIDATOR', 'HOST_EXISTS', 'STAKE_TOO_LOW'])

/**
 * Gossip verdict for a tx the mempool refused. Reject only what is wrong in the bytes (bad
 * signature, other chain, malformed): a nonce or balance problem depends on the receiver's
 * state and an honest peer may be a block ahead or behind us.
 */
export function computeTxVerdict(error: unknown): ValidationResult {
  if (error instanceof CodecError) return 'reject'
  if (error instanceof MempoolError) return 'ignore'
  if (error instanceof StateError) return TX_IGNORE.has(error.code) ? 'ignore' : 'reject'
  return 'ignore'
}

/**
 * Gossip verdict for a block that failed import or pre-checks. Everything the chain rejects for a
 * reason in the block itself (wrong proposer, bad proof or signature, bad state root or tx) is
 * REJECT; "not yet" and our own failures (store, workers) are IGNORE.
 */
export function computeBlockVerdict(error: unknown): ValidationResult {
  if (error instanceof CodecError) return 'reject'
  if (error instanceof BlockError) return error.code === 'ALREADY_KNOWN' || error.code === 'PARENT_UNKNOWN' ? 'ignore' : 'reject'
  if (error instanceof ConsensusError) return isTransientConsensusError(error) ? 'ignore' : 'reject'
  if (error instanceof StateError) return 'reject'
  if (error instanceof ForkChoiceError && error.code === 'BRANCH_INVALID') return 'reject'
  return 'ignore'
}

/** The libp2p identity of a validator, derived from its key so the peer id is stable across restarts. */
export function computeP2pSeed(validatorSecretKey: Uint8Array): Uint8Array {
  return hashParts(utf8('XSC/p2p-key/v1'), validatorSecretKey)
}

/**
 * The libp2p identity seed: `--p2p-key` if given, else derived from the validator key, else a
 * random key kept in `<dataDir>/p2p-key.json` so a restart keeps the peer id.
 */
export function resolveP2pSeed(opts: { dataDir: string; p2pKeyFile?: string; validatorKey?: KeyPair }): Uint8Array {
  if (opts.p2pKeyFile !== undefined) return readKeyFile(opts.p2pKeyFile).secretKey
  if (opts.validatorKey !== undefined) return computeP2pSeed(opts.validatorKey.secretKey)
  const file = join(opts.dataDir, 'p2p-key.json')
  if (!existsSync(file)) writeKeyFile(file, generateKeyPair())
  return readKeyFile(file).secretKey
}

/** The net layer's logger interface over the node's pino logger. */
export function toNetLogger(log: Logger): NetLogger {
  return {
    debug: (msg, ctx) => log.debug(ctx ?? {}, msg),
    info: (msg, ctx) => log.info(ctx ?? {}, msg),
    warn: (msg, ctx) => log.warn(ctx ?? {}, msg),
  }
}

/** RPC-submitted txs are also gossiped, so the slot's proposer sees them wherever they arrived. */
export class GossipingRpcBackend extends NodeRpcBackend {
  readonly #network: ValidatorNetwork

  constructor(modules: NodeRpcBackendModules, network: ValidatorNetwork) {
    super({ peers: () => network.peerCount(), syncing: () => network.syncing, ...modules })
    this.#network = network
  }

  override async submitTx(tx: SignedTx): Promise<Hash> {
    const id = await super.submitTx(tx)
    this.#network.publishTx(tx)
    return id
  }
}

/**
 * Peer exchange: a node answers with the listen addresses (learnt by identify) of the peers it
 * is connected to, so nodes that only know a bootstrap node find each other and the mesh does
 * not hang on one node.
 */
export const PeerList = list(str(512), 64)
export function peerExchangeProtocol(chainId: string): string {
  return `/xsc/${chainId}/peers/1`
}

/** Vote exchange: a node answers with every validator's latest vote it counted, signed. */
export const VoteList = list(Attestation, 1024)
export function voteExchangeProtocol(chainId: string): string {
  return `/xsc/${chainId}/votes/1`
}

const MAX_FUTURE_BLOCKS = 64
/** Slots a validator's own vote keeps it from voting on a conflicting branch (see #blockImported). */
const UNLOCK_SLOTS = 16
const MAX_PEERS = 32
const SYNC_BATCH = 64

export class ValidatorNetwork {
  readonly chain: Chain
  readonly net: NetNode
  readonly forkChoice: ForkChoiceStore
  readonly #log: Logger
  readonly #key: KeyPair | undefined
  readonly #now: () => number
  readonly #onFinalized: ((height: number) => void | Promise<void>) | undefined
  readonly #syncIntervalMs: number
  /** Blocks on competing branches, checked as far as possible without their parent state. */
  readonly #side = new Map<string, BranchBlock>()
  readonly #future = new Map<string, NodeJS.Timeout>()
  readonly #syncQueue = new Set<string>()
  #lock: Promise<unknown> = Promise.resolve()
  #lastAttested: number
  #lockedOn: BlockNode | undefined
  #lockConflictSince: number | undefined
  #validatorsKey = ''
  #settleQueued = false
  #syncRunning = false
  #downloading = false
  #pollTimer: NodeJS.Timeout | undefined
  #offPeer: (() => void) | undefined
  #stopped = false
  readonly #onBlock = (imported: ImportedBlock): void => this.#blockImported(imported)

  constructor(opts: ValidatorNetworkOpts, modules: ValidatorNetworkModules) {
    this.chain = modules.chain
    this.net = modules.net
    this.#log = modules.log
    this.#key = opts.validatorKey
    this.#now = opts.now ?? Date.now
    this.#onFinalized = modules.onFinalized
    this.#syncIntervalMs = opts.syncIntervalMs ?? 3_000
    const store = this.chain.store
    // Votes are not stored: after a restart, do not attest again what was (probably) attested.
    this.#lastAttested = store.head.height
    this.forkChoice = new ForkChoiceStore({ chainId: this.chain.genesis.chainId, validators: this.chain.validators(), finalized: { hash: store.finalized.hash, parentHash: new Uint8Array(32), height: store.finalized.height } })
  }

  /** Loads the unfinalized canonical blocks, subscribes the topics and serves sync. Call before `net.start()` (or after: both work). */
  async start(): Promise<void> {
    const store = this.chain.store
    for (let h = store.finalized.height + 1; h <= store.head.height; h++) {
      const hash = await store.getHashAtHeight(h)
      const block = hash && (await store.getBlock(hash))
      if (!hash || !block) break
      this.forkChoice.addBlock({ hash, parentHash: block.header.prevHash, height: h })
    }
    this.#refreshValidators()
    this.chain.on('block', this.#onBlock)
    this.net.subscribe('transactions', { validate: (data) => this.#validateTx(data), handle: () => {} })
    // Accepting a block means having imported it (see the class comment): nothing left to handle.
    this.net.subscribe('blocks', { validate: (data, from) => this.processBlock(data, from), handle: () => {} })
    this.net.subscribe('attestations', { validate: (data) => this.#validateAttestation(data), handle: () => {} })
    await serveStatus(this.net, () => {
      const { head, finalized } = this.chain.store
      return { headHeight: head.height, headHash: head.hash, finalizedHeight: finalized.height, finalizedHash: finalized.hash }
    })
    await serveBlocksByRange(this.net, (from, count) => this.#blocksByRange(from, count))
    await this.net.handle(peerExchangeProtocol(this.net.chainId), async () => encode(PeerList, await this.#peerAddrs()), { maxRequestBytes: 0, maxBodyBytes: 0, timeoutMs: 5_000 })
    await this.net.handle(voteExchangeProtocol(this.net.chainId), async () => encode(VoteList, this.forkChoice.latestAttestations()), { maxRequestBytes: 0, maxBodyBytes: 0, timeoutMs: 5_000 })
    this.#offPeer = this.net.onPeer('connect', (peer) => {
      this.requestSync(peer)
      // identify has to run before the peer can tell its own peers' addresses; ask a moment later.
      setTimeout(() => {
        void this.#exchangePeers(peer)
        void this.#exchangeVotes(peer)
      }, 500).unref()
    })
    this.#pollTimer = setInterval(() => {
      for (const peer of this.#peersSafe()) {
        this.requestSync(peer)
        void this.#exchangePeers(peer)
        void this.#exchangeVotes(peer)
      }
    }, this.#syncIntervalMs)
    this.#pollTimer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    for (const t of this.#future.values()) clearTimeout(t)
    this.#future.clear()
    this.#offPeer?.()
    this.chain.off('block', this.#onBlock)
    await this.#lock.catch(() => undefined)
  }

  /** True while blocks are being downloaded by range sync. */
  get syncing(): boolean {
    return this.#downloading
  }

  peerCount(): number {
    return this.#peersSafe().length
  }

  #peersSafe(): string[] {
    try {
      return this.net.peers()
    } catch {
      return []
    }
  }

  /** Proposes in this node's slot (under the lock) and gossips the block. */
  async produce(slot: number, nowMs: number): Promise<ImportedBlock | undefined> {
    // Audit answers wait on the hosts: gathered before the lock, so imports are not held up.
    const prepared = await this.chain.prepareProposal(slot)
    return this.#locked(async () => {
      // Building on a head we know is behind only makes a fork to be reverted.
      if (this.#downloading) return undefined
      const imported = await this.chain.produceBlock(slot, nowMs, prepared)
      if (imported) {
        this.#publish('blocks', encode(Block, imported.block))
        await this.#settle()
      }
      return imported
    })
  }

  /** Gossips a tx this node admitted (from RPC). */
  publishTx(tx: SignedTx): void {
    this.#publish('transactions', encode(SignedTx, tx))
  }

  #publish(topic: 'blocks' | 'transactions' | 'attestations', data: Uint8Array): void {
    this.net.publish(topic, data).catch((err: unknown) => this.#log.debug({ topic, err: String(err) }, 'publish failed'))
  }

  #locked<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(f, f)
    this.#lock = run.catch(() => undefined)
    return run
  }

  async #peerAddrs(): Promise<string[]> {
    const lp = this.net.libp2p
    if (lp === undefined) return []
    const out: string[] = []
    for (const id of lp.getPeers()) {
      try {
        const peer = await lp.peerStore.get(id)
        const addr = peer.addresses.map((a) => a.multiaddr.toString()).find((a) => a.includes('/tcp/'))
        if (addr !== undefined) out.push(addr.includes('/p2p/') ? addr : `${addr}/p2p/${id.toString()}`)
      } catch {
        // not in the peer store (yet)
      }
      if (out.length >= 64) break
    }
    return out
  }

  async #exchangePeers(peer: string): Promise<void> {
    if (this.#stopped) return
    try {
      const res = await this.net.request(peer, peerExchangeProtocol(this.net.chainId), new Uint8Array(0), { timeoutMs: 5_000, maxResponseBytes: 64 * 1024 })
      const connected = new Set(this.#peersSafe())
      for (const addr of decode(PeerList, res)) {
        if (connected.size >= MAX_PEERS) return
        const id = addr.slice(addr.lastIndexOf('/p2p/') + 5)
        if (connected.has(id) || id === this.net.peerId || this.net.isBanned(id)) continue
        connected.add(id)
        this.net.dial(addr).catch((err: unknown) => this.#log.debug({ addr, err: String(err) }, 'peer exchange dial failed'))
      }
    } catch (err) {
      this.#log.debug({ peer, err: String(err) }, 'peer exchange failed')
    }
  }

  // --- transactions ---

  #validateTx(data: Uint8Array): ValidationResult {
    try {
      this.chain.submitTx(decode(SignedTx, data))
      return 'accept'
    } catch (e) {
      return computeTxVerdict(e)
    }
  }

  // --- blocks ---

  /**
   * Handles an encoded block from gossip (`from` = the neighbour) or range sync (`from`
   * undefined): import on the head, hold on a competing branch and run fork choice, or ignore
   * and sync when its parent is unknown.
   */
  async processBlock(bytes: Uint8Array, from?: string): Promise<ValidationResult> {
    let block: Block
    try {
      block = decode(Block, bytes)
    } catch {
      return 'reject'
    }
    const hash = blockHash(block.header)
    const key = toHex(hash)
    const store = this.chain.store
    if (this.forkChoice.has(hash) || this.#side.has(key) || (await store.getBlockBytes(hash)) !== undefined) return 'ignore'
    if (block.header.height <= store.finalized.height) return 'ignore'
    const now = this.#now()
    if (isFromFuture(block.header, now, this.chain.genesis.consensus.driftMs)) {
      this.#retryLater(key, bytes, Number(block.header.timestamp) - this.chain.genesis.consensus.driftMs - now)
      return 'ignore'
    }
    return this.#locked(async () => {
      if (this.forkChoice.has(hash) || this.#side.has(key)) return 'ignore'
      const parent = block.header.prevHash
      if (equalBytes(parent, store.head.hash)) {
        try {
          await this.chain.importBlock(block, bytes)
        } catch (e) {
          const verdict = computeBlockVerdict(e)
          this.#log.info({ height: block.header.height, hash: key, from, verdict, err: e instanceof Error ? e.message : String(e) }, 'block not imported')
          return verdict
        }
        await this.#settle()
        return 'accept'
      }
      if (this.forkChoice.has(parent)) return this.#addSideBlock({ block, hash, bytes }, from)
      if (from !== undefined && (await store.getBlockBytes(parent)) === undefined) this.requestSync(from)
      return 'ignore'
    })
  }

  /** A block on a competing branch: check what can be checked without its parent's state, then let fork choice decide. */
  async #addSideBlock(b: BranchBlock, from: string | undefined): Promise<ValidationResult> {
    const { block, hash } = b
    const parentKey = toHex(block.header.prevHash)
    const parent = this.#side.get(parentKey)?.block ?? (await this.chain.store.getBlock(block.header.prevHash))
    if (parent === undefined) return 'ignore'
    try {
      validateBlockStructure(block, this.chain.genesis.chainId)
      // Stakes as of our head: they only differ from the parent's after a stake tx on this fork.
      verifyProofs({ registry: this.chain.registry, genesisTime: this.chain.genesis.genesisTime, slotMs: this.chain.genesis.slotMs, validators: this.chain.validators(), parentSlot: parent.header.slot }, block.header)
      this.forkChoice.addBlock({ hash, parentHash: block.header.prevHash, height: block.header.height })
    } catch (e) {
      const verdict = computeBlockVerdict(e)
      this.#log.info({ height: block.header.height, hash: toHex(hash), from, verdict, err: e instanceof Error ? e.message : String(e) }, 'side block refused')
      return verdict
    }
    this.#side.set(toHex(hash), b)
    this.#log.info({ height: block.header.height, hash: toHex(hash), from }, 'block on a competing branch')
    await this.#settle()
    return this.forkChoice.has(hash) ? 'accept' : 'reject'
  }

  #retryLater(key: string, bytes: Uint8Array, delayMs: number): void {
    if (this.#future.has(key) || this.#future.size >= MAX_FUTURE_BLOCKS || this.#stopped) return
    const timer = setTimeout(() => {
      this.#future.delete(key)
      void this.processBlock(bytes).catch(() => undefined)
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
    const att = signAttestation({ chainId: this.chain.genesis.chainId, height: block.header.height, blockHash: hash, validator: key.publicKey }, key.secretKey)
    try {
      this.forkChoice.addAttestation(att)
    } catch (e) {
      this.#log.warn({ err: String(e) }, 'own attestation not counted')
    }
    this.#publish('attestations', encode(Attestation, att))
  }

  /** Whether `node` is `ancestor` or below it in the block tree (blocks pruned below finality are on the finalized chain). */
  #descendsFrom(node: BlockNode, ancestor: BlockNode): boolean {
    let at: BlockNode | undefined = node
    while (at && at.height > ancestor.height) at = this.forkChoice.get(at.parentHash)
    if (at === undefined) return ancestor.height <= this.chain.store.finalized.height
    return equalBytes(at.hash, ancestor.hash)
  }

  #refreshValidators(): void {
    const set = this.chain.validators()
    const k = set.map((v) => `${toHex(v.address)}:${v.stake}`).join(',')
    if (k === this.#validatorsKey) return
    this.#validatorsKey = k
    this.forkChoice.setValidators(set)
  }

  // --- attestations ---

  #validateAttestation(data: Uint8Array): ValidationResult {
    let att: Attestation
    try {
      att = decode(Attestation, data)
    } catch {
      return 'reject'
    }
    return this.#acceptAttestation(att)
  }

  /** Pulls a peer's latest votes (the ones gossip may have lost) and counts the new ones. */
  async #exchangeVotes(peer: string): Promise<void> {
    if (this.#stopped) return
    try {
      const res = await this.net.request(peer, voteExchangeProtocol(this.net.chainId), new Uint8Array(0), { timeoutMs: 5_000, maxResponseBytes: 256 * 1024 })
      for (const att of decode(VoteList, res)) this.#acceptAttestation(att)
    } catch (err) {
      this.#log.debug({ peer, err: String(err) }, 'vote exchange failed')
    }
  }

  #acceptAttestation(att: Attestation): ValidationResult {
    try {
      const { voted } = this.forkChoice.addAttestation(att)
      if (!voted) return 'ignore'
    } catch (e) {
      // An equivocating validator's second vote may be relayed by honest peers that never saw its
      // first: not their fault, so IGNORE (as Ethereum's gossip rules do); the vote never counts.
      if (e instanceof ConsensusError && e.code === 'EQUIVOCATION') return 'ignore'
      return isTransientConsensusError(e) || !(e instanceof ConsensusError) ? 'ignore' : 'reject'
    }
    this.#scheduleSettle()
    return 'accept'
  }

  #scheduleSettle(): void {
    if (this.#settleQueued || this.#stopped) return
    this.#settleQueued = true
    void this.#locked(async () => {
      this.#settleQueued = false
      await this.#settle()
    }).catch((err: unknown) => this.#log.warn({ err: String(err) }, 'settle failed'))
  }

  // --- fork choice and finality (under the lock) ---

  async #settle(): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const switched = await this.#reconcile()
      await this.#applyFinality()
      if (!switched) return
    }
  }

  /** Moves the head to fork choice's head if it differs; true when the head changed. */
  async #reconcile(): Promise<boolean> {
    const store = this.chain.store
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
      const res = await switchBranch(this.chain, { hash: node.hash, height: node.height }, branch)
      this.#log.info({ from, to: { height: store.head.height, hash: toHex(store.head.hash) }, ancestor: node.height, reverted: res.reverted.length, imported: res.imported.length, readmitted: res.readmitted }, 'switched branch')
      // Reverted blocks stay in the fork-choice tree (and in the store) as a competing branch.
      return true
    } catch (e) {
      if (e instanceof ForkChoiceError && e.code === 'BRANCH_INVALID') {
        const bad = branch.find((b) => toHex(b.hash) === e.details?.badHash)
        if (bad) for (const k of this.forkChoice.removeSubtree(bad.hash)) this.#side.delete(k)
        this.#log.warn({ bad: e.details?.badHash, err: e.cause instanceof Error ? e.cause.message : String(e.cause) }, 'competing branch is invalid')
        return true
      }
      throw e
    }
  }

  async #storedBranchBlock(hash: Hash): Promise<BranchBlock | undefined> {
    const block = await this.chain.store.getBlock(hash)
    return block && { block, hash }
  }

  async #applyFinality(): Promise<void> {
    const store = this.chain.store
    const fin = this.forkChoice.finalized
    if (fin.height <= store.finalized.height) return
    const canonical = await store.getHashAtHeight(fin.height)
    if (canonical === undefined || !equalBytes(canonical, fin.hash)) return
    await store.setFinalized({ hash: fin.hash, height: fin.height })
    for (const k of this.forkChoice.prune()) this.#side.delete(k)
    for (const [k, b] of this.#side) if (b.block.header.height <= fin.height) this.#side.delete(k)
    try {
      await this.#onFinalized?.(fin.height)
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'finalized listener failed')
    }
  }

  // --- range sync ---

  /** Asks `peer` for its status and downloads what it has beyond us (one sync at a time). */
  requestSync(peer: string): void {
    if (this.#stopped) return
    this.#syncQueue.add(peer)
    if (this.#syncRunning) return
    this.#syncRunning = true
    void (async () => {
      try {
        while (this.#syncQueue.size > 0 && !this.#stopped) {
          const next = this.#syncQueue.values().next().value!
          this.#syncQueue.delete(next)
          try {
            await this.#syncFrom(next)
          } catch (err) {
            this.#log.debug({ peer: next, err: String(err) }, 'sync from peer failed')
          }
        }
      } finally {
        this.#syncRunning = false
        this.#downloading = false
      }
    })()
  }

  #isKnown(hash: Hash): boolean {
    return this.forkChoice.has(hash) || this.#side.has(toHex(hash))
  }

  async #syncFrom(peer: string): Promise<void> {
    const store = this.chain.store
    let status = await requestStatus(this.net, peer)
    if (status.headHeight < store.head.height) return
    if (this.#isKnown(status.headHash) || (await store.getBlockBytes(status.headHash)) !== undefined) return
    let target = status.headHeight
    // Same height, other hash: a fork; start a little below and walk down if needed.
    let from = target > store.head.height ? store.head.height + 1 : Math.max(store.finalized.height + 1, target - 7)
    this.#downloading = true
    try {
      while (from <= target && !this.#stopped) {
        const list = await requestBlocksByRange(this.net, peer, { fromHeight: from, count: Math.min(SYNC_BATCH, target - from + 1) })
        if (list.length === 0) return
        const first = decode(Block, list[0]!)
        // A parent in the store (even below finality: we moved on while asking) is known.
        if (!this.#isKnown(first.header.prevHash) && (await store.getBlockBytes(first.header.prevHash)) === undefined) {
          const floor = store.finalized.height + 1
          if (from <= floor) {
            this.#log.warn({ peer, from }, 'peer chain conflicts with our finalized chain')
            return
          }
          from = Math.max(floor, from - SYNC_BATCH)
          continue
        }
        for (const bytes of list) {
          if ((await this.processBlock(bytes)) === 'reject') {
            this.#log.warn({ peer, from }, 'range sync got an invalid block; stopping')
            return
          }
        }
        from += list.length
        if (from > target) {
          status = await requestStatus(this.net, peer)
          target = status.headHeight
        }
      }
    } finally {
      this.#downloading = false
    }
  }

  async #blocksByRange(from: number, count: number): Promise<Uint8Array[]> {
    const store = this.chain.store
    const out: Uint8Array[] = []
    for (let h = from; h < from + count && h <= store.head.height; h++) {
      const hash = await store.getHashAtHeight(h)
      const bytes = hash && (await store.getBlockBytes(hash))
      if (!bytes) break
      out.push(bytes)
    }
    return out
  }
}
