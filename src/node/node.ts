import { join } from 'node:path'

import { XscError } from '../../blocks/errors.ts'
import type { ExecutionKeys, GenesisConfig } from '../../blocks/schema.ts'
import { AUDIT_OUTCOME, CAPABILITY, COMPLETION_STATUS, type HostParams, OUTCOME } from '../../blocks/schema.ts'
import type { TimeoutParams } from '../../consensus/bft/timeouts.ts'
import type { ImportedBlock } from '../chain/chain.ts'
import { Chain } from '../chain/chain.ts'
import { ChainStore } from '../chain/chainStore.ts'
import type { EvidencePool } from '../chain/evidencePool.ts'
import { type ComputePool, createComputePool } from '../compute/computePool.ts'
import { DEFAULT_LIMITS } from '../compute/executeModule.ts'
import { equalBytes, type KeyPair, toHex } from '../crypto/index.ts'
import { deriveHostEncryptionKey } from '../crypto/x25519.ts'
import { createExplorerRoute } from '../explorer/explorerRoute.ts'
import { subscribeHeartbeats } from '../net/heartbeatGossip.ts'
import { createNetNode, type NetNode } from '../net/index.ts'
import type { AssetSource } from '../rpc/assetRoute.ts'
import type { EstimateRequest } from '../rpc/backend.ts'
import { createMetrics, type Metrics } from '../rpc/metrics.ts'
import { type RpcServer, type RpcServerOpts, startRpcServer } from '../rpc/server.ts'
import { ShardStore } from '../storage/ShardStore.ts'
import { type AssetQueries, createAssetQueries } from './assetQueries.ts'
import { createAssetSource } from './assetReader.ts'
import { BlobStore } from './blobStore.ts'
import { ChainEvents } from './chainEvents.ts'
import { ExecutionKeyIntake } from './executionKeyIntake.ts'
import { HostDirectory } from './hostDirectory.ts'
import { HostRole } from './hostRole.ts'
import { createLogger, type Logger } from './logger.ts'
import { GossipingRpcBackend } from './network/gossipingRpcBackend.ts'
import { resolveP2pSeed, toNetLogger } from './network/p2pIdentity.ts'
import type { ReceiptPushClient, ReceiptPushServer } from './network/receiptPush.ts'
import { receiptPushClient, startReceiptPushServer } from './network/receiptPushRoles.ts'
import { SlotTicker } from './network/slotTicker.ts'
import { runStateSync, type StateSyncOpts,StateSyncServer } from './network/stateSync.ts'
import { registerOperatorMetrics } from './operatorMetrics.ts'
import { NodeRpcBackend } from './rpcBackend.ts'
import { SignGuard } from './signGuard.ts'
import { StorageCoordinator } from './storageCoordinator.ts'
import { ValidatorNetwork } from './validatorNetwork.ts'

interface Roles { keys?: ExecutionKeyIntake; host?: HostRole; pushServer?: ReceiptPushServer; pushClient?: ReceiptPushClient; store?: ShardStore; pool?: ComputePool; queries?: AssetQueries; assets?: AssetSource }

const OUTCOME_NAMES = Object.fromEntries(Object.entries(OUTCOME).map(([k, v]) => [v, k])) as Record<number, string>
const AUDIT_NAMES = Object.fromEntries(Object.entries(AUDIT_OUTCOME).map(([k, v]) => [v, k])) as Record<number, string>

/** The node's Prometheus figures, updated from each imported block (units in the names). */
function recordBlockMetrics(metrics: Metrics, chain: Chain, imported: ImportedBlock, network: ValidatorNetwork | undefined): void {
  if (imported.seconds !== undefined) metrics.node.blockImportSeconds.observe(imported.seconds)
  metrics.node.mempoolSize.set(chain.mempool.size)
  metrics.node.peers.set(network?.peerCount() ?? 0)
  for (const e of imported.block.entries) {
    if (e.type === 'completion') metrics.node.executions.inc({ outcome: e.status === COMPLETION_STATUS.agreed ? (OUTCOME_NAMES[e.outcome] ?? 'unknown') : 'failed' })
    if (e.type === 'audit') for (const r of e.results) metrics.node.audits.inc({ outcome: AUDIT_NAMES[r.outcome] ?? 'unknown' })
  }
}

export interface NodeOpts {
  dataDir: string
  genesis: GenesisConfig
  /** Present when this node is a validator. */
  validatorKey?: KeyPair
  rpc?: Partial<RpcServerOpts>
  /** Propose in this node's slots (default: when it has a validator key). */
  produce?: boolean
  /** Produce empty heartbeat blocks when nothing is pending (default true). */
  heartbeat?: boolean
  logLevel?: string
  /** libp2p networking (on unless `enabled: false`). */
  p2p?: P2pOpts
  /** Run the host role (needs p2p). */
  host?: HostOpts
  /** BFT timeouts (default: from the genesis slot length, `computeDefaultTimeouts`). */
  timeouts?: TimeoutParams
  /**
   * TEST ONLY: this validator equivocates (sends a conflicting vote beside each vote). Refused
   * unless the chain is a test chain (chain id `xsc-test…`). Also set by XSC_TEST_TWIN=1.
   */
  twin?: boolean
  /** Validators: proposals and votes over direct validator links instead of gossip (default on; `xsc node --no-validator-links` turns them off). */
  validatorLinks?: boolean
  /** Followers: take committed blocks from one validator's commit feed, leaving the commits gossip topic while it is up (default on; false: gossip only). */
  commitFeed?: boolean
  /** Hosts push receipt batches straight to the validators (receiptPush.ts), gossip only when that misses one (default on; false or XSC_RECEIPT_PUSH=0: gossip only). */
  receiptPush?: boolean
  /** Keep the bodies of only the last this-many blocks (headers, commits and state stay; `xsc node --prune`). */
  pruneKeepBlocks?: number
  /** On an empty data dir, state-sync from peers before starting (`xsc node --state-sync`). */
  stateSync?: StateSyncOpts
  /** Check every tx and receipt signature of committed blocks too (`xsc node --check-committed-signatures`; docs/consensus.md "What a commit vouches for"). */
  checkCommittedSignatures?: boolean
  /**
   * Keep the explorer's activity index (`xsc node --activity-index`; src/chain/activityIndex.ts).
   * Default: kept, except on a host without a validator key (no explorer is served there; its RPC
   * answers the index's reads with ACTIVITY_INDEX_OFF).
   */
  activityIndex?: boolean
}

/** The activity index is kept unless set off, or by default on a host without a validator key (NodeOpts.activityIndex). */
export function keepsActivityIndex(opts: Pick<NodeOpts, 'activityIndex' | 'host' | 'validatorKey'>): boolean {
  return opts.activityIndex ?? !(opts.host !== undefined && opts.validatorKey === undefined)
}

/** The fewest recent block bodies a pruning node keeps (range sync serves them to peers catching up). */
export const MIN_PRUNE_KEEP_BLOCKS = 128
/** Prune when this many more bodies than kept have piled up (one batch of work, not one per block). */
const PRUNE_EVERY_BLOCKS = 64

/**
 * BFT timeouts for a chain with `slotMs` slots: a proposer waits for the next slot and gathers
 * audit answers before it proposes, so the propose timeout spans a few slots; votes travel
 * in well under a slot. Every timeout grows by its delta per round (liveness after GST).
 */
export function computeDefaultTimeouts(slotMs: number): TimeoutParams {
  return {
    proposeMs: 3 * slotMs + 1_000,
    proposeDeltaMs: slotMs,
    prevoteMs: slotMs,
    prevoteDeltaMs: Math.ceil(slotMs / 2),
    precommitMs: slotMs,
    precommitDeltaMs: Math.ceil(slotMs / 2),
  }
}

export interface P2pOpts {
  enabled?: boolean
  /** Default /ip4/127.0.0.1/tcp/0. */
  listen?: string[]
  /** What peers and the chain see (a host's on-chain multiaddr); default: the listen addresses. */
  announce?: string[]
  /** Multiaddrs with /p2p/<peer id> to dial at start (and re-dial while disconnected). */
  bootstrap?: string[]
  /** Key file for the libp2p identity; default: derived from the validator key. */
  keyFile?: string
}

/**
 * A host role in this process: it joins with these parameters (its peerId is filled in with the
 * node's own multiaddr), stores shards, runs executions.
 */
export type HostOpts = Omit<HostParams, 'peerId' | 'memoryBytes' | 'encryptionKey'> & {
  key: KeyPair
  /** Memory offered to one guest (default: the runtime's own cap, DEFAULT_LIMITS.maxMemoryPages). */
  memoryBytes?: bigint
  /** Execution worker threads (default 1). */
  computeWorkers?: number
  /** Where shard windows are served over HTTP (default 127.0.0.1, a free port); false: not at all. */
  shardHttp?: { host: string; port: number } | false
}

export interface NodeModules {
  log?: Logger
  /** The host role's WASM runtime (default: a worker pool); injected by fault tests to play a dishonest host. */
  computePool?: ComputePool
  /** The clock; injected so tests can drive slots. */
  now?: () => number
}

/**
 * The composition root: chain, then RPC, each handed a child logger (Lodestar's layout). Owns
 * the slot ticker that asks the chain to propose in this validator's slots.
 */
export class XscNode {
  readonly chain: Chain
  readonly rpc: RpcServer
  readonly log: Logger
  readonly events: ChainEvents
  readonly net: NetNode | undefined
  /** Equivocations seen by consensus: the seam where evidence inclusion and slashing take over. */
  readonly evidence: EvidencePool
  readonly #network: ValidatorNetwork | undefined
  readonly #roles: Roles
  readonly #opts: NodeOpts
  readonly #now: () => number
  readonly #ticker: SlotTicker
  #stopped = false

  private constructor(chain: Chain, rpc: RpcServer, events: ChainEvents, network: ValidatorNetwork | undefined, evidence: EvidencePool, roles: Roles, opts: NodeOpts, modules: NodeModules, log: Logger) {
    this.chain = chain
    this.evidence = evidence
    this.#roles = roles
    this.net = network?.net
    this.#network = network
    this.rpc = rpc
    this.events = events
    this.#opts = opts
    this.#now = modules.now ?? Date.now
    this.log = log
    this.#ticker = new SlotTicker({ genesisTime: opts.genesis.genesisTime, slotMs: opts.genesis.slotMs, now: this.#now, onSlot: (now) => this.#onSlot(now) })
  }

  static async start(opts: NodeOpts, modules: NodeModules = {}): Promise<XscNode> {
    const log = modules.log ?? createLogger({ level: opts.logLevel ?? 'info' })
    if (opts.pruneKeepBlocks !== undefined && opts.pruneKeepBlocks !== 0 && !(Number.isSafeInteger(opts.pruneKeepBlocks) && opts.pruneKeepBlocks >= MIN_PRUNE_KEEP_BLOCKS)) {
      throw new XscError('BAD_CONFIG', `prune keeps 0 (everything) or at least ${MIN_PRUNE_KEEP_BLOCKS} blocks, got ${opts.pruneKeepBlocks}`)
    }
    if (opts.stateSync !== undefined) await XscNode.#stateSync(opts, opts.stateSync, log)
    const chain = await Chain.open({ dataDir: join(opts.dataDir, 'chain'), genesis: opts.genesis, ...(opts.validatorKey ? { validatorKey: opts.validatorKey } : {}), checkCommittedSignatures: opts.checkCommittedSignatures === true, activityIndex: keepsActivityIndex(opts) })
    const events = new ChainEvents(chain)
    let network: ValidatorNetwork | undefined
    let rpc: RpcServer
    // Uploads no deployment names are deleted an hour after upload (checked every minute).
    const blobs = new BlobStore(join(opts.dataDir, 'blobs'), { sweepIntervalMs: 60_000 })
    const metrics = createMetrics({ defaultMetrics: true })
    const roles: Roles = {}
    const evidence = chain.evidence
    try {
      network = await XscNode.#startNetwork(chain, events, evidence, opts, modules, log, (net, validatorNet) => XscNode.#startRoles(roles, chain, net, validatorNet, blobs, opts, modules, log))
      const queries = (roles.queries = createAssetQueries({ chain, blobs, net: network?.net, pool: roles.pool, self: roles.host?.address }))
      const keys = roles.keys
      const backendModules = { chain, events, blobs, queries, estimate: (req: EstimateRequest) => queries.estimate(req), ...(keys ? { deliverExecutionKeys: (k: ExecutionKeys) => keys.deliver(k) } : {}) }
      const backend = network ? new GossipingRpcBackend(backendModules, network) : new NodeRpcBackend(backendModules)
      rpc = await startRpcServer(opts.rpc ?? {}, { backend, metrics, log: log.child({ module: 'rpc' }), staticFiles: createExplorerRoute(), ...(roles.assets ? { assets: roles.assets } : {}) })
    } catch (e) {
      await network?.stop()
      await network?.net.stop()
      await XscNode.#stopRoles(roles)
      await chain.close()
      throw e
    }
    const node = new XscNode(chain, rpc, events, network, evidence, roles, opts, modules, log)
    chain.on('buildError', (err) => log.error({ err }, 'block building failed; proposed an empty block instead'))
    chain.on('block', (imported) => recordBlockMetrics(metrics, chain, imported, network))
    registerOperatorMetrics(metrics.registry, { chain, network, host: roles.host, store: roles.store })
    chain.on('block', ({ block, hash }) => {
      log.info({ height: block.header.height, hash: toHex(hash), kind: block.header.kind, entries: block.entries.length }, 'imported block')
      void node.#advanceFinality()
      node.#maybePrune()
    })
    log.info({ chainId: opts.genesis.chainId, head: chain.head.height, rpc: rpc.url, validator: opts.validatorKey ? toHex(opts.validatorKey.publicKey) : null, p2p: node.net?.multiaddrs() ?? [] }, 'node started')
    // Without a network a validator proposes on its slot clock; on one, the BFT driver does.
    if (opts.validatorKey && opts.produce !== false && network === undefined) node.#ticker.start()
    if (roles.host && opts.host) void node.#joinAsHost(roles.host, opts.host)
    return node
  }

  /**
   * State sync before the node starts: on a store still at genesis, a short-lived libp2p node
   * with this node's identity downloads a trusted state (src/node/network/stateSync.ts); the
   * chain then opens on it as on any data dir. A store past genesis is used as it is.
   */
  static async #stateSync(opts: NodeOpts, sync: StateSyncOpts, log: Logger): Promise<void> {
    const store = await ChainStore.open(join(opts.dataDir, 'chain'), opts.genesis, { activityIndex: keepsActivityIndex(opts) })
    if (store.head.height > 0) {
      log.info({ head: store.head.height }, 'the data dir already holds a chain: state sync skipped')
      await store.close()
      return
    }
    const p2p = opts.p2p ?? {}
    if (p2p.enabled === false) {
      await store.close()
      throw new XscError('BAD_CONFIG', 'state sync needs p2p')
    }
    const secretKey = resolveP2pSeed({ dataDir: opts.dataDir, ...(p2p.keyFile ? { p2pKeyFile: p2p.keyFile } : {}), ...(opts.validatorKey ? { validatorKey: opts.validatorKey } : {}) })
    const net = createNetNode({ secretKey, chainId: opts.genesis.chainId, listen: p2p.listen ?? ['/ip4/127.0.0.1/tcp/0'], bootstrap: p2p.bootstrap ?? [], logger: toNetLogger(log.child({ module: 'net' })) })
    await net.start()
    try {
      await runStateSync({ store, net, log: log.child({ module: 'statesync' }) }, sync)
    } catch (e) {
      await store.close().catch(() => undefined)
      throw e
    } finally {
      await net.stop()
    }
  }

  #pruning = false
  /** Drops old block bodies past `pruneKeepBlocks`, one batch at a time, off the import path. */
  #maybePrune(): void {
    const keep = this.#opts.pruneKeepBlocks
    const store = this.chain.store
    if (keep === undefined || keep === 0 || this.#pruning) return
    const keepFrom = store.head.height - keep + 1
    if (keepFrom - store.prunedBelow < PRUNE_EVERY_BLOCKS) return
    this.#pruning = true
    store.pruneBodies(keepFrom)
      .then((below) => this.log.info({ prunedBelow: below }, 'pruned old block bodies'))
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'pruning failed'))
      .finally(() => { this.#pruning = false })
  }

  /** The host role, when this node runs one. */
  get host(): HostRole | undefined {
    return this.#roles.host
  }

  /**
   * Storage coordination on every networked node (hand-off of uploaded blobs, audits; receipt intake
   * on validators); the host role when asked. Registered before libp2p starts so its protocols and
   * topics are there from the first connection.
   */
  static async #startRoles(roles: Roles, chain: Chain, net: NetNode, network: ValidatorNetwork, blobs: BlobStore, opts: NodeOpts, modules: NodeModules, log: Logger): Promise<void> {
    await new StateSyncServer(chain).start(net)
    const hosts = new HostDirectory(chain, net)
    const coordinator = new StorageCoordinator({ chain, net, blobs, hosts, log: log.child({ module: 'storage' }), handoffDir: join(opts.dataDir, 'handoff') })
    // Receipts feed block building, which only validators do. Hosts and RPC nodes no longer take every
    // host's receipts in (decode, verify, relay); a host publishes its own to the validators (fanout).
    // Validators also take the batches hosts push to them (receiptPush.ts): judged the same, relayed nowhere.
    const push = opts.receiptPush ?? process.env.XSC_RECEIPT_PUSH !== '0'
    if (opts.validatorKey !== undefined && opts.produce !== false) {
      net.subscribe('receipts', { validate: (bytes) => coordinator.acceptReceipts(bytes), handle: () => undefined })
      roles.pushServer = await startReceiptPushServer({ net, log: log.child({ module: 'storage' }), chain, coordinator, validatorKey: opts.validatorKey })
    }
    roles.keys = new ExecutionKeyIntake({ chain, net })
    roles.keys.subscribe()
    subscribeHeartbeats(net, (h) => chain.submitHeartbeat(h))
    roles.assets = createAssetSource({ chain, net, hosts, log: log.child({ module: 'assets' }) })
    if (!opts.host) return
    roles.store = await ShardStore.open(join(opts.dataDir, 'shards'), { capacityBytes: opts.host.capacityBytes })
    roles.assets = createAssetSource({ chain, net, hosts, log: log.child({ module: 'assets' }), store: roles.store })
    roles.pool = modules.computePool ?? createComputePool({ workers: opts.host.computeWorkers ?? 1 })
    if (push) roles.pushClient = receiptPushClient({ net, log: log.child({ module: 'host' }), chain, self: opts.validatorKey?.publicKey })
    roles.host = await HostRole.start({
      chain,
      net,
      store: roles.store,
      pool: roles.pool,
      hosts,
      key: opts.host.key,
      shardHttp: opts.host.shardHttp ?? { host: '127.0.0.1', port: 0 },
      log: log.child({ module: 'host' }),
      submitTx: async (tx) => void (await network.admitAndGossip(tx)),
      ...(roles.pushClient ? { receiptPush: roles.pushClient } : {}),
    })
    const host = roles.host
    roles.keys.onKeys = (keys, rec) => host.takeExecutionKeys(keys, rec)
  }

  static async #stopRoles(roles: Roles): Promise<void> {
    roles.pushClient?.stop()
    await roles.pushServer?.stop()
    await roles.host?.stop()
    roles.assets?.close?.()
    await roles.queries?.close()
    await roles.pool?.close()
    await roles.store?.close()
  }

  /**
   * Joins (or updates) once the node has caught up (so the nonce is current) and its gossip mesh
   * for transactions has formed (a tx published before that reaches nobody). If the join has not
   * landed after a while, it is sent again from the current state.
   */
  async #joinAsHost(role: HostRole, host: HostOpts): Promise<void> {
    const slotMs = this.#opts.genesis.slotMs
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    const ready = () => (this.#network?.peerCount() ?? 0) > 0 && !this.#network?.syncing && (this.net?.topicPeers('transactions').length ?? 0) > 0
    const { key: _key, computeWorkers: _workers, shardHttp: _http, memoryBytes, ...advertised } = host
    // The X25519 key clients wrap private executions' keys to, derived from the host key (src/crypto/x25519.ts).
    const encryptionKey = (advertised.capabilities & CAPABILITY.private) !== 0 ? deriveHostEncryptionKey(host.key.secretKey).publicKey : undefined
    const params = (): HostParams => ({ ...advertised, peerId: this.net?.multiaddrs()[0] ?? '', memoryBytes: memoryBytes ?? BigInt(DEFAULT_LIMITS.maxMemoryPages) * 65_536n, encryptionKey })
    for (let attempt = 0; attempt < 5 && !this.#stopped; attempt++) {
      const deadline = this.#now() + 30_000
      while (!this.#stopped && this.#now() < deadline && !ready()) await sleep(100)
      await sleep(2 * slotMs)
      if (this.#stopped) return
      try {
        for (const tx of this.chain.mempool.pending()) if (equalBytes(tx.body.from, role.address)) this.chain.mempool.remove(tx)
        const id = await role.join(params())
        this.log.info({ host: toHex(role.address), tx: id ? toHex(id) : null, attempt }, id ? 'host join sent' : 'host already joined')
        if (!id) return
      } catch (err) {
        this.log.warn({ err, attempt }, 'host join failed')
      }
      const landed = this.#now() + 20 * slotMs
      while (!this.#stopped && this.#now() < landed) {
        if (role.record()?.params.peerId === params().peerId) return
        await sleep(slotMs)
      }
    }
  }

  static async #startNetwork(chain: Chain, events: ChainEvents, evidence: EvidencePool, opts: NodeOpts, modules: NodeModules, log: Logger, beforeStart: (net: NetNode, network: ValidatorNetwork) => Promise<void>): Promise<ValidatorNetwork | undefined> {
    const p2p = opts.p2p ?? {}
    if (p2p.enabled === false) return undefined
    const twin = opts.twin ?? process.env.XSC_TEST_TWIN === '1'
    if (twin && !opts.genesis.chainId.startsWith('xsc-test')) throw new XscError('BAD_PARAMS', 'the twin (equivocation) mode is for test chains only (chain id xsc-test…)')
    // A validator that does not propose (produce: false) follows consensus as an observer: it signs nothing.
    const signingKey = opts.produce === false ? undefined : opts.validatorKey
    const signGuard = signingKey ? SignGuard.open(join(opts.dataDir, 'sign-state.json')) : undefined
    const secretKey = resolveP2pSeed({ dataDir: opts.dataDir, ...(p2p.keyFile ? { p2pKeyFile: p2p.keyFile } : {}), ...(opts.validatorKey ? { validatorKey: opts.validatorKey } : {}) })
    const net = createNetNode({ secretKey, chainId: opts.genesis.chainId, listen: p2p.listen ?? ['/ip4/127.0.0.1/tcp/0'], ...(p2p.announce ? { announce: p2p.announce } : {}), bootstrap: p2p.bootstrap ?? [], logger: toNetLogger(log.child({ module: 'net' })) })
    const network = new ValidatorNetwork(
      {
        ...(signingKey ? { validatorKey: signingKey, signGuard } : {}),
        timeouts: opts.timeouts ?? computeDefaultTimeouts(opts.genesis.slotMs),
        ...(twin ? { twin } : {}),
        directLinks: opts.validatorLinks !== false,
        commitFeed: opts.commitFeed !== false,
        ...(modules.now ? { now: modules.now } : {}),
      },
      { chain, net, log: log.child({ module: 'consensus' }), onFinalized: (height) => events.finalizedTo(height) },
    )
    await network.start()
    try {
      await beforeStart(net, network)
      await net.start()
    } catch (e) {
      await network.stop()
      throw e
    }
    return network
  }

  /**
   * Finality without a network: a node whose own key holds more than 2/3 of the stake finalizes
   * its head directly. On a network every block is applied with its BFT commit, final already.
   */
  async #advanceFinality(): Promise<void> {
    const key = this.#opts.validatorKey
    if (!key || this.#network) return
    const validators = this.chain.validators()
    const total = validators.reduce((s, v) => s + v.stake, 0n)
    const mine = validators.find((v) => toHex(v.address) === toHex(key.publicKey))?.stake ?? 0n
    if (mine * 3n > total * 2n) {
      const head = this.chain.head
      await this.chain.store.setFinalized({ hash: head.hash, height: head.height })
      await this.events.finalizedTo(head.height)
    }
  }

  async #onSlot(now: number): Promise<void> {
    const slot = this.chain.currentSlot(now)
    try {
      const pending = this.chain.mempool.size > 0
      if (pending || this.#opts.heartbeat !== false) await this.chain.produceBlock(slot, now)
    } catch (err) {
      this.log.error({ err, slot }, 'block production failed')
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#ticker.stop()
    await this.rpc.close()
    await this.#network?.stop()
    await this.net?.stop()
    await XscNode.#stopRoles(this.#roles)
    await this.chain.close()
    this.log.info('node stopped')
  }
}
