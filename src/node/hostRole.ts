import { encode } from '../../blocks/codec.ts'
import { receiptSigningHash, storageAckSigningHash, txId } from '../../blocks/ids.ts'
import { type Address, type Block, type ExecutionKeys, type Hash, HostParams, type ReceiptBody, type ReceiptGossip, type SignedTx, type StorageAck, type TxPayload } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { buildTx, computeFeeAt, signTx } from '../client/tx.ts'
import type { ComputePool } from '../compute/computePool.ts'
import { PrivateExecutionError } from '../compute/errors.ts'
import type { ExecutionResult } from '../compute/index.ts'
import { isKeyOfInput, unwrapExecutionKey } from '../compute/privateExecutionCipher.ts'
import { equalBytes, type KeyPair, sign, toHex } from '../crypto/index.ts'
import { deriveHostEncryptionKey, type X25519KeyPair } from '../crypto/x25519.ts'
import { publishHeartbeat } from '../net/heartbeatGossip.ts'
import { fetchShard, NetError, type NetNode, serveAudits, serveShardHttpUrl, serveShards, serveStorageAcks, streamShardByRanges } from '../net/index.ts'
import { AssetRecord, EXECUTION_STATUS, ExecutionRecord, HOST_STATUS, HostRecord } from '../state/records.ts'
import { computeHeartbeatSigningHash } from '../state/storage/livenessRules.ts'
import { readLivenessEpoch, readLivenessHost } from '../state/storage/livenessState.ts'
import { readRow, TABLES } from '../state/tables.ts'
import { retrieve } from '../storage/retrieve.ts'
import type { ShardStore } from '../storage/ShardStore.ts'
import { streamRebuiltShard } from '../storage/streamRebuiltShard.ts'
import { ExecutionThreads } from './executionThreads.ts'
import type { HostDirectory } from './hostDirectory.ts'
import type { Logger } from './logger.ts'
import { ReceiptGossipBatcher, receiptGossipBatcherOf } from './network/receiptGossipBatch.ts'
import type { ReceiptPushClient } from './network/receiptPush.ts'
import { UnsettledReceipts } from './network/unsettledReceipts.ts'
import { advertisedShardHttpUrl, type ShardHttpServer, startShardHttpServer } from './shardHttpServer.ts'
import { type AssetFate, computeShardsToDrop, HANDOFF_GRACE_BLOCKS } from './shardJanitor.ts'

export interface HostRoleModules {
  chain: Chain
  net: NetNode
  store: ShardStore
  pool: ComputePool
  hosts: HostDirectory
  key: KeyPair
  log: Logger
  /** Admits a tx locally and gossips it. */
  submitTx: (tx: SignedTx) => Promise<void>
  /** Where to serve shard windows over plain HTTP (readers find it over shard/http); false: not at all. */
  shardHttp?: { host: string; port: number } | false
  /** Pushes receipt batches straight to the validators (receiptPush.ts); without it they go by gossip. */
  receiptPush?: Pick<ReceiptPushClient, 'send' | 'poll'>
}

/**
 * A host that joined voluntarily: serves and stores the shards placed on it (hash-checked
 * against the chain's manifest), answers audit challenges from its store, rebuilds shards a
 * repair moved to it, and runs the executions assigned to it on the metered runtime, gossiping
 * signed receipts with their write sets.
 */
export class HostRole {
  readonly #m: HostRoleModules
  readonly #modules = new Map<string, Promise<Uint8Array>>()
  /** Height at which the next shard sweep runs (after a handoff grace). */
  #sweepAt = Number.POSITIVE_INFINITY
  readonly #threads: ExecutionThreads
  /** The X25519 key clients wrap private executions' keys to (published in host.join when private-capable). */
  readonly #encryptionKey: X25519KeyPair
  /** Delivered keys of pending private executions, by execution id: memory only, never on disk. */
  readonly #executionKeys = new Map<string, Uint8Array>()
  #http: ShardHttpServer | undefined
  /** Receipts pushed to the validators, until their execution settles (published on gossip once if it does not soon). */
  readonly #unsettled = new UnsettledReceipts()

  private constructor(modules: HostRoleModules) {
    this.#m = modules
    this.#encryptionKey = deriveHostEncryptionKey(modules.key.secretKey)
    this.#threads = new ExecutionThreads({
      state: () => modules.chain.store.state,
      pool: modules.pool,
      address: modules.key.publicKey,
      loadModule: (asset, rec, deadlineSlot) => this.#moduleWithRetry(asset, rec, deadlineSlot),
      sendReceipt: (executionId, preStateHash, result) => this.#sendReceipt(executionId, preStateHash, result),
      holdReceipts: () => this.#receiptBatcher().hold(),
      onError: (asset, err) => modules.log.warn({ asset: toHex(asset), err: err.message }, 'execution failed to run'),
      executionKey: (id) => this.#executionKeys.get(toHex(id)),
    })
  }

  static async start(modules: HostRoleModules): Promise<HostRole> {
    const role = new HostRole(modules)
    const { net, store, chain } = modules
    await serveShards(net, {
      openShard: async (ref) => ((await store.has(ref.asset, ref.shardIndex)) ? store.getStream(ref.asset, ref.shardIndex) : undefined),
      readShardRange: async (ref) => ((await store.has(ref.asset, ref.shardIndex)) ? store.getRangeParts(ref.asset, ref.shardIndex, ref.offset, ref.length) : undefined),
      readPageRoots: async (ref) => store.pageRoots(ref.asset, ref.shardIndex),
      expectedShardHash: async (ref) => role.#assignedShard(ref.asset, ref.shardIndex)?.manifest.shardHashes[ref.shardIndex],
      // Written piece by piece as it arrives (a shard may be a GiB); the store checks length, hash and chunk root.
      putShardStream: async (put) => {
        const assigned = role.#assignedShard(put.asset, put.shardIndex)
        if (!assigned) throw new NetError('NOT_FOUND', `shard ${put.shardIndex} of ${toHex(put.asset)} is no longer assigned here`)
        try {
          await store.putStream(assigned.manifest, put.asset, put.shardIndex, put.body)
        } catch (err) {
          modules.log.warn({ asset: toHex(put.asset), shard: put.shardIndex, code: (err as { code?: string }).code, err: (err as Error).message }, 'shard upload failed')
          throw err
        }
      },
    })
    if (modules.shardHttp) {
      // Only shards the chain still places here (a deleted, expired or moved shard is not served).
      role.#http = await startShardHttpServer({
        servable: async (asset, i) => {
          const assigned = role.#assignedShard(asset, i)
          return assigned !== undefined && (await store.has(asset, i)) ? Number(assigned.manifest.shardSize) : undefined
        },
        readRange: (asset, i, offset, length) => store.getRangeParts(asset, i, offset, length),
        pageRoots: (asset, i) => store.pageRoots(asset, i),
      }, modules.shardHttp)
    }
    await serveShardHttpUrl(net, () => (role.#http ? advertisedShardHttpUrl(role.#http, net.multiaddrs()[0]) : undefined))
    await serveAudits(net, async (c) => ((await store.has(c.asset, c.shardIndex)) ? store.proveChunk(c.asset, c.shardIndex, c.chunkIndex) : undefined))
    await serveStorageAcks(net, async (req) => role.#storageAck(req.asset, req.shardIndex))
    chain.on('block', ({ block }) => role.#onBlock(block))
    void role.sweepShards().catch((err: unknown) => modules.log.warn({ err: (err as Error).message }, 'shard sweep failed'))
    return role
  }

  async stop(): Promise<void> {
    await this.#http?.close()
  }

  /** The shard HTTP server's base URL as readers are told it, if it runs. */
  get shardHttpUrl(): string | undefined {
    return this.#http ? advertisedShardHttpUrl(this.#http, this.#m.net.multiaddrs()[0]) : undefined
  }

  get address(): Address {
    return this.#m.key.publicKey
  }

  record(): HostRecord | undefined {
    return readRow(this.#m.chain.store.state, TABLES.host.at(this.address))
  }

  /**
   * A checked key delivery (ExecutionKeyIntake) for a private execution: if it holds a key for
   * this host that unwraps to the K the input committed to, keep K and run. A copy that does not
   * (the client's fault, or not ours) is only logged: relaying peers are not to blame.
   */
  takeExecutionKeys(keys: ExecutionKeys, rec: ExecutionRecord): void {
    const mine = keys.body.keys.find((k) => equalBytes(k.host, this.address))
    const id = toHex(keys.body.executionId)
    if (mine === undefined || this.#executionKeys.has(id)) return
    try {
      const k = unwrapExecutionKey(this.#encryptionKey, this.address, keys.body.executionId, keys.body.ephemeralKey, mine.wrapped)
      if (!isKeyOfInput(k, rec.input)) throw new PrivateExecutionError('BAD_KEY', 'the delivered key is not the one the input committed to', { what: 'execution key' })
      this.#executionKeys.set(id, k)
      this.#m.log.info({ execution: id }, 'private execution key received')
      this.#threads.poke(rec.asset)
    } catch (err) {
      this.#m.log.warn({ execution: id, err: (err as Error).message }, 'private execution key refused')
    }
  }

  /** Sends host.join (or host.update when the advertised parameters changed). */
  async join(params: HostParams): Promise<Hash | undefined> {
    const rec = this.record()
    if (rec && rec.status !== HOST_STATUS.left && equalBytes(encode(HostParams, rec.params), encode(HostParams, params))) return undefined
    const type = rec && rec.status !== HOST_STATUS.left ? 'host.update' : 'host.join'
    return this.#send({ type, host: params })
  }

  /** Graceful exit: stop taking shards, send host.leave; audits move the shards away. */
  async leave(): Promise<Hash> {
    await this.#m.store.setDraining(true)
    return this.#send({ type: 'host.leave' })
  }

  async #send(payload: TxPayload): Promise<Hash> {
    const { chain, key } = this.#m
    const nonce = await chain.nextNonce(key.publicKey)
    // The host's own txs (join, update, leave) pay the client's default: 2 × the next base fee + the minimum, per byte.
    const body = { chainId: chain.genesis.chainId, from: key.publicKey, nonce, payload }
    const fee = computeFeeAt(body, 2n * chain.nextBaseFee() + chain.genesis.params.minFeePerByte)
    const tx = signTx(buildTx({ ...body, fee }), key.secretKey)
    await this.#m.submitTx(tx)
    return txId(tx)
  }

  /**
   * A signed ack for a shard placed on this host, only once the store holds it (ShardStore.put
   * checked its length, hash and chunk root against the manifest).
   */
  async #storageAck(asset: Hash, shardIndex: number): Promise<StorageAck | undefined> {
    const assigned = this.#assignedShard(asset, shardIndex)
    if (!assigned || !(await this.#m.store.has(asset, shardIndex))) return undefined
    const body = { chainId: this.#m.chain.genesis.chainId, asset, shardIndex, shardHash: assigned.manifest.shardHashes[shardIndex]!, host: this.address }
    return { body, signature: sign(this.#m.key.secretKey, storageAckSigningHash(body)) }
  }

  #assignedShard(asset: Hash, shardIndex: number): AssetRecord | undefined {
    const rec = readRow(this.#m.chain.store.state, TABLES.asset.at(asset))
    if (rec === undefined) return undefined
    return rec.placement[shardIndex] && equalBytes(rec.placement[shardIndex]!, this.address) ? rec : undefined
  }

  /** The liveness epoch whose heartbeat reached at least one peer (or went on chain). */
  #heartbeatSent = -1

  /**
   * Once per liveness epoch, from the epoch's first block on: sign the open epoch's heartbeat and
   * gossip it; retried at each block while it reached no peer and is not on chain yet.
   */
  #sendHeartbeat(): void {
    const state = this.#m.chain.store.state
    const open = readLivenessEpoch(state)
    const tracked = readLivenessHost(state, this.address)
    if (open === undefined || tracked === undefined || tracked.due > open.epoch || this.#heartbeatSent === open.epoch) return
    const epoch = open.epoch
    const signature = sign(this.#m.key.secretKey, computeHeartbeatSigningHash(this.#m.chain.genesis.chainId, epoch, open.mix, this.address))
    this.#heartbeatSent = epoch
    publishHeartbeat(this.#m.net, (h) => this.#m.chain.submitHeartbeat(h), { epoch, host: this.address, signature }).then(
      (peers) => {
        if (peers === 0 && this.#heartbeatSent === epoch) this.#heartbeatSent = -1
      },
      (err: unknown) => {
        if (this.#heartbeatSent === epoch) this.#heartbeatSent = -1
        this.#m.log.debug({ epoch, err: (err as Error).message }, 'heartbeat not sent; retried at the next block')
      },
    )
  }

  #onBlock(block: Block): void {
    this.#sendHeartbeat()
    this.#m.receiptPush?.poll()
    this.#regossipUnsettled(block)
    this.#onExecutionEntries(block)
    for (const entry of block.entries) {
      if (entry.type === 'audit') {
        for (const r of entry.repairs) {
          if (equalBytes(r.to, this.address)) void this.#repair(r.asset, r.shardIndex, r.from).catch((err: unknown) => this.#m.log.warn({ asset: toHex(r.asset), err: (err as Error).message }, 'repair failed'))
          // Kept a while for the new host to take over (HANDOFF_GRACE_BLOCKS), then dropped by the sweep.
          if (equalBytes(r.from, this.address)) this.#sweepAt = Math.min(this.#sweepAt, block.header.height + HANDOFF_GRACE_BLOCKS)
        }
        for (const asset of entry.expired) void this.#dropAsset(asset)
      }
      if (entry.type === 'tx' && entry.tx.body.payload.type === 'asset.delete') void this.#dropAsset(entry.tx.body.payload.asset)
    }
    if (block.header.height >= this.#sweepAt) {
      this.#sweepAt = Number.POSITIVE_INFINITY
      void this.sweepShards().catch((err: unknown) => this.#m.log.warn({ err: (err as Error).message }, 'shard sweep failed'))
    }
  }

  /**
   * Deletes every stored shard the chain no longer places on this host (deleted, expired, or
   * repaired away). Runs at start (catching up on what happened while the host was down) and
   * after each handoff grace.
   */
  async sweepShards(): Promise<number> {
    const { chain, store } = this.#m
    const stored = await store.list()
    const deleted = new Set<string>()
    for (const s of stored) {
      if (chain.store.state.get(TABLES.asset.key(s.asset)) !== undefined) continue
      if (await chain.store.activity.wasDeleted(s.asset)) deleted.add(toHex(s.asset))
    }
    const drop = computeShardsToDrop(stored, this.address, (asset): AssetFate => {
      const record = readRow(chain.store.state, TABLES.asset.at(asset))
      if (record !== undefined) return { kind: 'stored', record }
      return deleted.has(toHex(asset)) ? { kind: 'deleted' } : { kind: 'unknown' }
    })
    for (const s of drop) await store.delete(s.asset, s.shardIndex)
    if (drop.length > 0) this.#m.log.info({ shards: drop.length }, 'dropped shards no longer placed on this host')
    return drop.length
  }

  async #moduleOf(asset: Hash, rec: AssetRecord): Promise<Uint8Array> {
    const id = toHex(asset)
    let p = this.#modules.get(id)
    if (p === undefined) {
      p = retrieve(rec.manifest, rec.placement, async (host, i) => {
        if (equalBytes(host, this.address)) return (await this.#m.store.get(asset, i)) ?? null
        const peer = await this.#m.hosts.peerOf(host)
        return fetchShard(this.#m.net, peer, { asset, shardIndex: i, expectedHash: rec.manifest.shardHashes[i]!, maxBytes: Number(rec.manifest.shardSize) + 1 })
      }).then((r) => r.data)
      this.#modules.set(id, p)
      p.catch(() => this.#modules.delete(id))
    }
    return p
  }

  /**
   * Shards of a fresh deployment may still be on their way to the hosts when its first execution
   * is scheduled: retry with backoff until the execution's deadline slot.
   */
  async #moduleWithRetry(asset: Hash, rec: AssetRecord, deadlineSlot: number): Promise<Uint8Array> {
    const { chain } = this.#m
    // First retries soon: with blocks proposed on commit the execution block often follows the
    // deployment's by one round, before the shards reached their hosts.
    for (let attempt = 0, wait = 25; ; attempt++, wait = Math.min(wait * 2, 2_000)) {
      try {
        return await this.#moduleOf(asset, rec)
      } catch (err) {
        if (chain.currentSlot(Date.now()) >= deadlineSlot) throw err
        this.#m.log.debug({ asset: toHex(asset), attempt, err: (err as Error).message }, 'module not retrievable yet; retrying')
        await new Promise((r) => setTimeout(r, wait))
      }
    }
  }

  /** New executions and settlements move asset queues: walk the queues of the assets they touch (executionThreads.ts). */
  #onExecutionEntries(block: Block): void {
    const state = this.#m.chain.store.state
    const touched = new Map<string, Hash>()
    for (const entry of block.entries) {
      if (entry.type === 'execution' && entry.tx.body.payload.type === 'execute') touched.set(toHex(entry.tx.body.payload.asset), entry.tx.body.payload.asset)
      if (entry.type === 'completion') {
        this.#executionKeys.delete(toHex(entry.executionId))
        const asset = readRow(state, TABLES.execution.at(entry.executionId))?.asset
        if (asset !== undefined) touched.set(toHex(asset), asset)
      }
    }
    for (const asset of touched.values()) this.#threads.poke(asset)
  }

  /**
   * Receipts pushed REGOSSIP_AFTER_BLOCKS blocks ago whose execution still waits: published on
   * gossip once (a validator that dropped or censored the push gets it from the others' relays).
   */
  #regossipUnsettled(block: Block): void {
    const { chain, net, log } = this.#m
    const due = this.#unsettled.onBlock(block, (id) => readRow(chain.store.state, TABLES.execution.at(id))?.status === EXECUTION_STATUS.pending)
    if (due.length === 0) return
    const gossip = new ReceiptGossipBatcher({ publish: (bytes) => net.publish('receipts', bytes), log })
    for (const item of due) gossip.add(item)
    gossip.flush()
    log.info({ receipts: due.length }, 'unsettled receipts published on gossip')
  }

  /** This node's receipt batcher: pushed to the validators when a push client is given, else gossiped. */
  #receiptBatcher(): ReceiptGossipBatcher {
    const push = this.#m.receiptPush
    return receiptGossipBatcherOf(this.#m.net, this.#m.log, push ? (bytes) => push.send(bytes) : undefined)
  }

  async #sendReceipt(executionId: Hash, preStateHash: Hash, result: ExecutionResult): Promise<void> {
    const { chain, key } = this.#m
    const body: ReceiptBody = { chainId: chain.genesis.chainId, executionId, host: key.publicKey, outcome: result.outcome, resultHash: result.resultHash, fuelUsed: result.fuelUsed, writeSetHash: result.writeSetHash, output: result.output, preStateHash }
    const receipt = { body, signature: sign(key.secretKey, receiptSigningHash(body)) }
    // Our own pool takes it directly (signed just above, so not verified again): a validator on
    // this node proposes from it, and block import skips the receipt's check when its completion
    // comes; the validators get it pushed (receiptPush.ts) or by gossip.
    try {
      chain.submitReceipt(receipt, result.writeSet, { signedHere: true })
    } catch {
      // not pending here, or already known: gossip still carries it to the proposers
    }
    // Receipts of one pass, or signed within a short window, share one message (receiptGossipBatch.ts).
    const item: ReceiptGossip = { receipt, writeSet: result.writeSet }
    this.#receiptBatcher().add(item)
    if (this.#m.receiptPush) this.#unsettled.sent(item, chain.head.height)
    this.#m.log.info({ execution: toHex(executionId), outcome: result.outcome, fuel: result.fuelUsed.toString() }, 'receipt sent')
  }

  async #repair(asset: Hash, shardIndex: number, from: Address): Promise<void> {
    const rec = readRow(this.#m.chain.store.state, TABLES.asset.at(asset))!
    const { manifest } = rec
    // Streamed from each host straight into the store (a shard may be a GiB); the store checks
    // length, hash and chunk root before the shard becomes visible.
    const openShard = async function* (this: HostRole, host: Address, i: number): AsyncGenerator<Uint8Array> {
      const peer = await this.#m.hosts.peerOf(host)
      // Window by window (shard/range): a whole-shard response would be queued ahead of the store.
      yield* streamShardByRanges(this.#m.net, peer, { asset, shardIndex: i, size: Number(manifest.shardSize) })
    }.bind(this)
    // Handoff first: a draining (or merely slow) previous holder usually still has the shard; its
    // bytes are checked against the manifest's shard hash, so a bad copy only costs the fallback.
    try {
      await this.#m.store.putStream(manifest, asset, shardIndex, openShard(from, shardIndex))
      this.#m.log.info({ asset: toHex(asset), shard: shardIndex }, 'shard handed over from its previous host')
      return
    } catch {
      // the previous holder is gone or lost it: rebuild from k other shards
    }
    // Any k of the other hosts' shards, data shards first; never this host's own placement slots.
    const order = rec.placement.flatMap((host, i) => (equalBytes(host, this.address) ? [] : [i]))
    await this.#m.store.putStream(manifest, asset, shardIndex, streamRebuiltShard(manifest, rec.placement, shardIndex, openShard, { order }))
    this.#m.log.info({ asset: toHex(asset), shard: shardIndex }, 'shard repaired onto this host')
  }

  async #dropAsset(asset: Hash): Promise<void> {
    for (const s of await this.#m.store.list()) if (equalBytes(s.asset, asset)) await this.#m.store.delete(asset, s.shardIndex)
  }
}
