import { join } from 'node:path'
import type { GenesisConfig } from '../../blocks/schema.ts'
import { Chain } from '../chain/chain.ts'
import { toHex, type KeyPair } from '../crypto/index.ts'
import { startRpcServer, type RpcServer, type RpcServerOpts } from '../rpc/server.ts'
import { BlobStore } from './blobStore.ts'
import { ChainEvents } from './chainEvents.ts'
import { createLogger, type Logger } from './logger.ts'
import { NodeRpcBackend } from './rpcBackend.ts'

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
  readonly #opts: NodeOpts
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  private constructor(chain: Chain, rpc: RpcServer, events: ChainEvents, opts: NodeOpts, modules: NodeModules, log: Logger) {
    this.chain = chain
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
    const backend = new NodeRpcBackend({ chain, events, blobs: new BlobStore(join(opts.dataDir, 'blobs')) })
    let rpc: RpcServer
    try {
      rpc = await startRpcServer(opts.rpc ?? {}, { backend, log: log.child({ module: 'rpc' }) })
    } catch (e) {
      await chain.close()
      throw e
    }
    const node = new XscNode(chain, rpc, events, opts, modules, log)
    chain.on('block', ({ block, hash }) => {
      log.info({ height: block.header.height, hash: toHex(hash), kind: block.header.kind, entries: block.entries.length }, 'imported block')
      void node.#advanceFinality()
    })
    log.info({ chainId: opts.genesis.chainId, head: chain.head.height, rpc: rpc.url, validator: opts.validatorKey ? toHex(opts.validatorKey.publicKey) : null }, 'node started')
    if (opts.validatorKey && opts.produce !== false) node.#scheduleNextSlot()
    return node
  }

  /**
   * Single-validator finality: a block is final once validators with more than 2/3 of the stake
   * attested it; a node whose own key holds that much finalizes its head directly.
   */
  async #advanceFinality(): Promise<void> {
    const key = this.#opts.validatorKey
    if (!key) return
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
      if (pending || this.#opts.heartbeat !== false) await this.chain.produceBlock(slot, now)
    } catch (err) {
      this.log.error({ err, slot }, 'block production failed')
    }
    this.#scheduleNextSlot()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.rpc.close()
    await this.chain.close()
    this.log.info('node stopped')
  }
}
