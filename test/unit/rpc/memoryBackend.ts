import { blockHash, computeBodyRoot, headerSigningHash, txId, txSigningHash } from '../../../blocks/ids.ts'
import type { Address, Block, BlockEntry, BlockHeader, Hash, SignedTx } from '../../../blocks/schema.ts'
import { computeActivityRows } from '../../../src/chain/accountActivity.ts'
import { compareBytes, equalBytes, generateKeyPair, hash, type KeyPair, sign, toHex, verify } from '../../../src/crypto/index.ts'
import { verifyBlobUploadAuth } from '../../../src/node/blobUploadAuth.ts'
import { computeBlockEvents } from '../../../src/node/chainEvents.ts'
import {
  type AccountInfo, type ActivityEntry, type AssetInfo, type AssetStatePage, type BlobUploadAuth, type ChainParamsInfo, type ChainStatus,
  type EstimateRequest, type EstimateResult, type EventFilter, type ExecutionInfo, type FeeInfo, type HostInfo,
  type HostSummary, isEventMatch, type QueryRequest, type QueryResult, type RpcBackend, type RpcEvent, type RpcEventSource, type StoredBlock,
  type TxLocation,
} from '../../../src/rpc/backend.ts'
import { RpcBackendError } from '../../../src/rpc/errors.ts'
import { DEFAULT_CONSENSUS, DEFAULT_PARAMS } from '../../../src/state/genesisJson.ts'
import type { ReputationEvent } from '../../../src/state/records.ts'

/**
 * In-memory stand-in for the node behind the RPC server, for tests and the RPC benchmark. It
 * keeps a real hash-linked chain of signed blocks of real signed transfers, checks txs like a
 * mempool would (chain id, signature, nonce, balance, capacity) and emits the events a node
 * emits. The real node implements the same interface in src/node/rpcBackend.ts.
 */
export interface MemoryBackendOpts {
  chainId?: string
  allocations?: { address: Address; balance: bigint }[]
  mempoolCap?: number
  maxFuelLimit?: bigint
}

const key = (b: Uint8Array): string => toHex(b)

export class MemoryBackend implements RpcBackend {
  readonly chainId: string
  readonly proposer: KeyPair = generateKeyPair()
  readonly blocks: StoredBlock[] = []
  readonly mempool: SignedTx[] = []
  peers = 0
  syncing = false
  private readonly byHash = new Map<string, StoredBlock>()
  private readonly txIndex = new Map<string, TxLocation>()
  private readonly accounts = new Map<string, AccountInfo>()
  private readonly assets = new Map<string, AssetInfo>()
  private readonly hosts = new Map<string, HostInfo>()
  private readonly executions = new Map<string, ExecutionInfo>()
  readonly blobs = new Map<string, Uint8Array>()
  private readonly history: RpcEvent[] = []
  private readonly listeners = new Set<(e: RpcEvent) => void>()
  /** Next event index at the head height (block events come first, test-made events after). */
  private nextIndex = 0
  private readonly mempoolCap: number
  private readonly maxFuelLimit: bigint

  constructor(opts: MemoryBackendOpts = {}) {
    this.chainId = opts.chainId ?? 'xsc-test'
    this.mempoolCap = opts.mempoolCap ?? 10_000
    this.maxFuelLimit = opts.maxFuelLimit ?? 1_000_000_000n
    for (const a of opts.allocations ?? []) this.accounts.set(key(a.address), { balance: a.balance, nonce: 0 })
    this.seal('genesis', [{ type: 'genesis', config: new Uint8Array([1, 2, 3]) }])
  }

  get head(): StoredBlock {
    return this.blocks[this.blocks.length - 1]!
  }

  // ---------- test controls ----------

  /** Builds, signs and stores the next ledger block from the mempool (transfers are applied). */
  produceBlock(): StoredBlock {
    const txs = this.mempool.splice(0)
    for (const tx of txs) this.applyTx(tx)
    return this.seal('ledger', txs.map((tx): BlockEntry => ({ type: 'tx', tx })))
  }

  addHost(info: HostInfo): void {
    this.hosts.set(key(info.address), info)
    this.emit({ topic: 'hostEvents', height: this.head.block.header.height, host: info.address, kind: 'joined', reputation: undefined })
  }

  recordReputation(host: Address, event: ReputationEvent): void {
    const info = this.hosts.get(key(host))
    if (info === undefined) throw new Error('unknown host')
    info.events.push(event)
    info.record = { ...info.record, reputation: event.after }
    this.emit({ topic: 'hostEvents', height: this.head.block.header.height, host, kind: 'reputation', reputation: event })
  }

  addAsset(info: AssetInfo): void {
    this.assets.set(key(info.id), info)
  }

  addExecution(info: ExecutionInfo): void {
    this.executions.set(key(info.id), info)
    this.emit({ topic: 'execution', height: this.head.block.header.height, executionId: info.id, stage: 'scheduled', host: undefined })
  }

  emitExecutionStage(id: Hash, stage: 'receipt' | 'completed' | 'failed', host?: Address): void {
    this.emit({ topic: 'execution', height: this.head.block.header.height, executionId: id, stage, host })
  }

  account(address: Address): AccountInfo {
    return this.accounts.get(key(address)) ?? { balance: 0n, nonce: 0 }
  }

  // ---------- RpcBackend ----------

  async submitTx(tx: SignedTx): Promise<Hash> {
    const { body } = tx
    if (body.chainId !== this.chainId) throw new RpcBackendError('WRONG_CHAIN', `tx is for chain ${body.chainId}`, { expected: this.chainId, got: body.chainId })
    if (!verify(body.from, txSigningHash(body), tx.signature)) throw new RpcBackendError('BAD_SIGNATURE', 'signature does not verify', { from: body.from })
    const id = txId(tx)
    if (this.txIndex.has(key(id)) || this.mempool.some((t) => key(txId(t)) === key(id))) throw new RpcBackendError('ALREADY_KNOWN', 'tx already known', { id })
    const acct = this.account(body.from)
    const pending = this.mempool.filter((t) => key(t.body.from) === key(body.from))
    const expected = acct.nonce + pending.length
    if (body.nonce < expected) throw new RpcBackendError('NONCE_TOO_LOW', `nonce ${body.nonce} already used`, { expected, got: body.nonce })
    if (body.nonce > expected) throw new RpcBackendError('NONCE_TOO_HIGH', `nonce ${body.nonce} leaves a gap`, { expected, got: body.nonce })
    const spent = pending.reduce((s, t) => s + cost(t), 0n)
    if (acct.balance - spent < cost(tx)) throw new RpcBackendError('INSUFFICIENT_FUNDS', 'balance too low', { balance: acct.balance - spent, needed: cost(tx) })
    if (this.mempool.length >= this.mempoolCap) throw new RpcBackendError('MEMPOOL_FULL', 'mempool is full', { cap: this.mempoolCap })
    this.mempool.push(tx)
    return id
  }

  async getBlockByHeight(height: number): Promise<StoredBlock | null> {
    return this.blocks[height] ?? null
  }

  async getBlockByHash(h: Hash): Promise<StoredBlock | null> {
    return this.byHash.get(key(h)) ?? null
  }

  /** Same rows as the node's index (computeActivityRows), found by walking the blocks: fine for a stand-in. */
  async getActivity(subject: Hash, page: { beforeHeight: number; limit: number }): Promise<ActivityEntry[]> {
    const rows = this.blocks.slice(0, page.beforeHeight).flatMap((b) => computeActivityRows(b.block)).filter((r) => equalBytes(r.subject, subject))
    return rows.reverse().slice(0, page.limit).map(({ subject: _s, ...row }) => row)
  }

  async getTransaction(id: Hash): Promise<TxLocation | null> {
    return this.txIndex.get(key(id)) ?? null
  }

  async getAccount(address: Address): Promise<AccountInfo> {
    return this.account(address)
  }

  async chainStatus(): Promise<ChainStatus> {
    const head = this.head
    const fin = this.blocks[Math.max(0, head.block.header.height - 1)]!
    return {
      chainId: this.chainId,
      head: { height: head.block.header.height, hash: head.hash },
      finalized: { height: fin.block.header.height, hash: fin.hash },
      peers: this.peers,
      syncing: this.syncing,
    }
  }

  /** Free by default (tests of fees set `feeInfo`). */
  feeInfo: FeeInfo = { baseFee: 0n, minFeePerByte: 0n, maxBaseFee: 0n, height: 1 }
  async getFeeInfo(): Promise<FeeInfo> {
    return this.feeInfo
  }

  /** The devnet defaults (src/state/genesisJson.ts) under this backend's chain id. */
  async getChainParams(): Promise<ChainParamsInfo> {
    return { chainId: this.chainId, tokenSymbol: 'XSC', tokenDecimals: 9, slotMs: 1000, genesisTime: 1_700_000_000_000n, params: { ...DEFAULT_PARAMS, maxFuelLimit: this.maxFuelLimit }, consensus: DEFAULT_CONSENSUS }
  }

  async getAsset(id: Hash): Promise<AssetInfo | null> {
    return this.assets.get(key(id)) ?? null
  }

  async getHost(address: Address): Promise<HostInfo | null> {
    return this.hosts.get(key(address)) ?? null
  }

  async listHosts(page: { offset: number; limit: number }): Promise<HostSummary[]> {
    return [...this.hosts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(page.offset, page.offset + page.limit)
      .map(([, h]) => ({ address: h.address, record: h.record }))
  }

  async getExecution(id: Hash): Promise<ExecutionInfo | null> {
    return this.executions.get(key(id)) ?? null
  }

  /** The node's checks (src/node/blobUploadAuth.ts) with this backend's balances; no quota. */
  async authorizeBlobUpload(header: string | undefined): Promise<BlobUploadAuth> {
    const auth = verifyBlobUploadAuth(header, this.chainId, Date.now())
    if ((await this.getAccount(auth.address)).balance === 0n) throw new RpcBackendError('BLOB_ACCOUNT_UNFUNDED', 'the signing account holds nothing', { address: auth.address })
    return auth
  }

  async uploadBlob(body: AsyncIterable<Uint8Array>, auth: BlobUploadAuth): Promise<{ dataHash: Hash; size: number }> {
    const parts: Uint8Array[] = []
    for await (const part of body) parts.push(new Uint8Array(part))
    const bytes = new Uint8Array(Buffer.concat(parts))
    const h = hash(bytes)
    if (!equalBytes(h, auth.dataHash)) throw new RpcBackendError('BLOB_HASH_MISMATCH', 'the body does not hash to the signed data hash', { expected: auth.dataHash, got: h })
    this.blobs.set(key(h), bytes)
    return { dataHash: h, size: bytes.length }
  }

  /** Stand-in dry run: output is the input reversed, fuel 10 per input byte + 100. */
  async estimateExecution(req: EstimateRequest): Promise<EstimateResult> {
    if (!this.assets.has(key(req.asset))) throw new RpcBackendError('UNKNOWN_ASSET', 'no such asset', { asset: req.asset })
    if (req.fuelLimit !== undefined && req.fuelLimit > this.maxFuelLimit) throw new RpcBackendError('FUEL_LIMIT_TOO_HIGH', 'fuel limit above the chain maximum', { max: this.maxFuelLimit })
    const fuel = 100n + 10n * BigInt(req.input.length)
    if (req.fuelLimit !== undefined && fuel > req.fuelLimit) return { outcome: 2, fuelUsed: req.fuelLimit, output: new Uint8Array(0) }
    return { outcome: 0, fuelUsed: fuel, output: new Uint8Array(req.input).reverse() }
  }

  /** Stand-in query: the estimate's answer at the head. */
  async query(req: QueryRequest): Promise<QueryResult> {
    const r = await this.estimateExecution({ ...req, from: undefined })
    return { ...r, height: this.head.block.header.height, blockHash: this.head.hash, finalized: false }
  }

  /** Asset state set by tests (assetState), paged as the node does. */
  readonly assetState = new Map<string, { key: Uint8Array; value: Uint8Array }[]>()
  async getAssetState(asset: Hash, page: { cursor: Uint8Array | undefined; limit: number }): Promise<AssetStatePage> {
    if (!this.assets.has(key(asset))) throw new RpcBackendError('UNKNOWN_ASSET', 'no such asset', { asset })
    const rows = [...(this.assetState.get(key(asset)) ?? [])].sort((a, b) => compareBytes(a.key, b.key))
    const rest = page.cursor === undefined ? rows : rows.filter((r) => compareBytes(r.key, page.cursor!) > 0)
    const entries = rest.slice(0, page.limit)
    return { height: this.head.block.header.height, blockHash: this.head.hash, finalized: false, entries, next: rest.length > page.limit ? entries.at(-1)!.key : undefined }
  }

  readonly events: RpcEventSource = {
    listen: (listener) => {
      this.listeners.add(listener)
      return () => this.listeners.delete(listener)
    },
    replay: async (filter: EventFilter, fromHeight: number) => this.history.filter((e) => e.height >= fromHeight && isEventMatch(filter, e)),
  }

  // ---------- internals ----------

  private applyTx(tx: SignedTx): void {
    const from = this.account(tx.body.from)
    const next = { balance: from.balance - cost(tx), nonce: from.nonce + 1 }
    this.accounts.set(key(tx.body.from), next)
    if (tx.body.payload.type === 'transfer') {
      const to = this.account(tx.body.payload.to)
      this.accounts.set(key(tx.body.payload.to), { ...to, balance: to.balance + tx.body.payload.amount })
    }
  }

  private seal(kind: BlockHeader['kind'], entries: BlockEntry[]): StoredBlock {
    const prev = this.blocks[this.blocks.length - 1]
    const height = prev === undefined ? 0 : prev.block.header.height + 1
    const unsigned = {
      chainId: this.chainId,
      height,
      prevHash: prev?.hash ?? new Uint8Array(32),
      kind,
      slot: height,
      timestamp: 1_700_000_000_000n + BigInt(height) * 1000n,
      proposer: this.proposer.publicKey,
      bodyRoot: computeBodyRoot(entries),
      stateRoot: hash(new Uint8Array([height & 0xff])),
      baseFee: 0n,
      txBytes: 0, round: 0, beaconReveal: new Uint8Array(32),
      proofs: [],
    }
    const header: BlockHeader = { ...unsigned, signature: sign(this.proposer.secretKey, headerSigningHash(unsigned)) }
    const block: Block = { header, entries }
    const stored: StoredBlock = { block, hash: blockHash(header) }
    this.blocks.push(stored)
    this.byHash.set(key(stored.hash), stored)
    entries.forEach((e, index) => {
      if (e.type === 'tx') this.txIndex.set(key(txId(e.tx)), { tx: e.tx, blockHeight: height, blockHash: stored.hash, index })
    })
    // The node's own derivation of a block's events (src/node/chainEvents.ts).
    const blockEvents = computeBlockEvents(block, stored.hash)
    this.nextIndex = blockEvents.length
    for (const e of blockEvents) this.publish(e)
    if (height > 0) {
      const fin = this.blocks[height - 1]!
      this.publish({ topic: 'finalizedHeads', height: height - 1, index: 0, hash: fin.hash, header: fin.block.header })
    }
    return stored
  }

  /** A test-made event at the head height, numbered after the block's own events. */
  private emit(e: UnnumberedEvent): void {
    this.publish({ ...e, index: this.nextIndex++ } as RpcEvent)
  }

  private publish(e: RpcEvent): void {
    this.history.push(e)
    for (const l of this.listeners) l(e)
  }
}

type UnnumberedEvent = RpcEvent extends infer E ? (E extends RpcEvent ? Omit<E, 'index'> : never) : never

function cost(tx: SignedTx): bigint {
  const p = tx.body.payload
  return tx.body.fee + (p.type === 'transfer' || p.type === 'stake' ? p.amount : 0n)
}
