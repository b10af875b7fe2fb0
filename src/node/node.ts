import { join } from 'node:path'
import type { GenesisConfig } from '../../blocks/schema.ts'
import { Chain } from '../chain/chain.ts'
import { toHex, type KeyPair } from '../crypto/index.ts'
import { createNetNode, type NetNode } from '../net/index.ts'
import { startRpcServer, type RpcServer, type RpcServerOpts } from '../rpc/server.ts'
import { BlobStore } from './blobStore.ts'
import { ChainEvents } from './chainEvents.ts'
import { createLogger, type Logger } from './logger.ts'
import { NodeRpcBackend } from './rpcBackend.ts'
import { GossipingRpcBackend, resolveP2pSeed, toNetLogger, ValidatorNetwork } from './validatorNetwork.ts'

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
}

export interface P2pOpts {
  enabled?: boolean
  /** Default /ip4/127.0.0.1/tcp/0. */
  listen?: string[]
  /** Multiaddrs with /p2p/<peer id> to dial at start (and re-dial while disconnected). */
  bootstrap?: string[]
  /** Key file for the libp2p identity; default: derived from the validator key. */
  keyFile?: string
}

export interface NodeModules {
  log?: Logger
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
  readonly #network: ValidatorNetwork | undefined
  readonly #opts: NodeOpts
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  private constructor(chain: Chain, rpc: RpcServer, events: ChainEvents, network: ValidatorNetwork | undefined, opts: NodeOpts, modules: NodeModules, log: Logger) {
    this.chain = chain
    this.net = network?.net
    this.#network = network
    this.rpc = rpc
    this.events = events
    this.#opts = opts
    this.#now = modules.now ?? Date.now
    this.log = log
  }

  static async start(opts: NodeOpts, modules: NodeModules = {}): Promise<XscNode> {
    const log = modules.log ?? createLogger({ level: opts.logLevel ?? 'info' })
    const chain = await Chain.open({ dataDir: join(opts.dataDir, 'chain'), genesis: opts.genesis, ...(opts.validatorKey ? { validatorKey: opts.validatorKey } : {}) })
    const events = new ChainEvents(chain)
    let network: ValidatorNetwork | undefined
    let rpc: RpcServer
    try {
      network = await XscNode.#startNetwork(chain, events, opts, modules, log)
      const backendModules = { chain, events, blobs: new BlobStore(join(opts.dataDir, 'blobs')) }
      const backend = network ? new GossipingRpcBackend(backendModules, network) : new NodeRpcBackend(backendModules)
      rpc = await startRpcServer(opts.rpc ?? {}, { backend, log: log.child({ module: 'rpc' }) })
    } catch (e) {
      await network?.stop()
      await network?.net.stop()
      await chain.close()
      throw e
    }
    const node = new XscNode(chain, rpc, events, network, opts, modules, log)
    chain.on('block', ({ block, hash }) => {
      log.info({ height: block.header.height, hash: toHex(hash), kind: block.header.kind, entries: block.entries.length }, 'imported block')
      void node.#advanceFinality()
    })
    log.info({ chainId: opts.genesis.chainId, head: chain.head.height, rpc: rpc.url, validator: opts.validatorKey ? toHex(opts.validatorKey.publicKey) : null, p2p: node.net?.multiaddrs() ?? [] }, 'node started')
    if (opts.validatorKey && opts.produce !== false) node.#scheduleNextSlot()
    return node
  }

  /**
   * libp2p and the validator network (gossip, range sync, fork choice, attestations, finality).
   * Started before RPC so `chainStatus` can report peers and syncing.
   */
  static async #startNetwork(chain: Chain, events: ChainEvents, opts: NodeOpts, modules: NodeModules, log: Logger): Promise<ValidatorNetwork | undefined> {
    const p2p = opts.p2p ?? {}
    if (p2p.enabled === false) return undefined
    const secretKey = resolveP2pSeed({ dataDir: opts.dataDir, ...(p2p.keyFile ? { p2pKeyFile: p2p.keyFile } : {}), ...(opts.validatorKey ? { validatorKey: opts.validatorKey } : {}) })
    const net = createNetNode({ secretKey, chainId: opts.genesis.chainId, listen: p2p.listen ?? ['/ip4/127.0.0.1/tcp/0'], bootstrap: p2p.bootstrap ?? [], logger: toNetLogger(log.child({ module: 'net' })) })
    const network = new ValidatorNetwork(
      { ...(opts.validatorKey ? { validatorKey: opts.validatorKey } : {}), ...(modules.now ? { now: modules.now } : {}) },
      { chain, net, log: log.child({ module: 'validators' }), onFinalized: (height) => events.finalizedTo(height) },
    )
    await network.start()
    try {
      await net.start()
    } catch (e) {
      await network.stop()
      throw e
    }
    return network
  }

  /**
   * Single-validator finality: a block is final once validators with more than 2/3 of the stake
   * attested it; a node whose own key holds that much finalizes its head directly. With several
   * validators the validator network's attestations decide instead.
   */
  async #advanceFinality(): Promise<void> {
    const key = this.#opts.validatorKey
    if (!key || (this.#network && this.chain.validators().length > 1)) return
    const validators = this.chain.validators()
    const total = validators.reduce((s, v) => s + v.stake, 0n)
    const mine = validators.find((v) => toHex(v.address) === toHex(key.publicKey))?.stake ?? 0n
    if (mine * 3n > total * 2n) {
      const head = this.chain.head
      await this.chain.store.setFinalized({ hash: head.hash, height: head.height })
      await this.events.finalizedTo(head.height)
    }
  }

  #scheduleNextSlot(): void {
    if (this.#stopped) return
    const { genesisTime, slotMs } = this.#opts.genesis
    const now = this.#now()
    const elapsed = now - Number(genesisTime)
    const wait = elapsed < 0 ? -elapsed : slotMs - (elapsed % slotMs)
    this.#timer = setTimeout(() => void this.#onSlot(), wait + 5)
  }

  async #onSlot(): Promise<void> {
    const now = this.#now()
    const slot = this.chain.currentSlot(now)
    try {
      const pending = this.chain.mempool.size > 0
      if (pending || this.#opts.heartbeat !== false) await (this.#network ? this.#network.produce(slot, now) : this.chain.produceBlock(slot, now))
    } catch (err) {
      this.log.error({ err, slot }, 'block production failed')
    }
    this.#scheduleNextSlot()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.rpc.close()
    await this.#network?.stop()
    await this.net?.stop()
    await this.chain.close()
    this.log.info('node stopped')
  }
}
