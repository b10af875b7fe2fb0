import type { Address, ExecutionKeys, Hash, Offence, SignedTx } from '../../blocks/schema.ts'
import { ACTIVITY_ROLE, type ActivityCursor, assetsOfOwner, executionsOfAsset, executionsOfSender } from '../chain/accountActivity.ts'
import type { Chain } from '../chain/chain.ts'
import { ChainStoreError } from '../chain/errors.ts'
import { concatBytes, equalBytes, toHex, u32be } from '../crypto/index.ts'
import {
  type AccountInfo,
  type ActivityEntry,
  type AssetInfo,
  type AssetListItem,
  type AssetStatePage,
  type BlobUploadAuth,
  type ChainParamsInfo,
  type ChainStatus,
  type CommitProof,
  type DroppedTx,
  type EstimateRequest,
  type EstimateResult,
  type ExecutionFilter,
  type ExecutionInfo,
  type ExecutionListItem,
  type FeeInfo,
  type HostInfo,
  type HostSummary,
  type Listed,
  type ListPage,
  type QueryRequest,
  type QueryResult,
  type RpcBackend,
  type StakeInfo,
  type StoredBlock,
  type TxLocation,
} from '../rpc/backend.ts'
import { RpcBackendError } from '../rpc/errors.ts'
import { DEFAULT_RPC_OPTS } from '../rpc/server.ts'
import { readAccount } from '../state/accounts.ts'
import { EXECUTION_STATUS } from '../state/records.ts'
import type { StateProofAnswer } from '../state/stateTree/stateProof.ts'
import { idOfKey, readRow, scanRows, TABLES } from '../state/tables.ts'
import { readBondAccount, readUnbonding } from '../state/unbonding.ts'
import type { AssetQueries } from './assetQueries.ts'
import type { BlobStore } from './blobStore.ts'
import { verifyBlobUploadAuth } from './blobUploadAuth.ts'
import type { ChainEvents } from './chainEvents.ts'

export interface NodeRpcBackendModules {
  chain: Chain
  events: ChainEvents
  blobs: BlobStore
  peers?: () => number
  syncing?: () => boolean
  /** Execution index and dry runs come from the compute/market integration when present. */
  executions?: (id: Hash) => Promise<ExecutionInfo | null>
  estimate?: (req: EstimateRequest) => Promise<EstimateResult>
  /** Read-only queries and asset state pages (src/node/assetQueries.ts). */
  queries?: Pick<AssetQueries, 'query' | 'assetState'>
  maxBlobBytes?: number
  /** Private executions' key deliveries (src/node/executionKeyIntake.ts), on networked nodes. */
  deliverExecutionKeys?: (keys: ExecutionKeys) => Promise<number>
  /** Bytes of unreferenced uploads one account may hold (default 4 × maxModuleBytes). */
  blobQuotaBytes?: number
}

/** The node's answers to RPC: reads from the chain store and the head state, writes to the mempool. */
export class NodeRpcBackend implements RpcBackend {
  readonly #m: NodeRpcBackendModules
  readonly events: ChainEvents

  constructor(modules: NodeRpcBackendModules) {
    this.#m = modules
    this.events = modules.events
  }

  async submitTx(tx: SignedTx): Promise<Hash> {
    return this.#m.chain.submitTx(tx)
  }

  async submitEvidence(offence: Offence): Promise<boolean> {
    return this.#m.chain.submitEvidence(offence)
  }

  async deliverExecutionKeys(keys: ExecutionKeys): Promise<number> {
    if (this.#m.deliverExecutionKeys === undefined) throw new RpcBackendError('UNAVAILABLE', 'this node is not on a network: it cannot deliver execution keys')
    return this.#m.deliverExecutionKeys(keys)
  }

  async getBlockByHeight(height: number): Promise<StoredBlock | null> {
    const hash = await this.#m.chain.store.getHashAtHeight(height)
    return hash === undefined ? null : this.getBlockByHash(hash)
  }

  /** A pruned block comes back as its header alone, flagged: its hash and commit still prove it. */
  async getBlockByHash(hash: Hash): Promise<StoredBlock | null> {
    const { store } = this.#m.chain
    const block = await store.getBlock(hash)
    if (block !== undefined) return { block, hash }
    const header = await store.getHeader(hash)
    return header === undefined ? null : { block: { header, entries: [] }, hash, entryIds: [], pruned: true }
  }

  async getTransaction(id: Hash): Promise<TxLocation | null> {
    const { store } = this.#m.chain
    try {
      const found = await store.getTx(id)
      return found ? { tx: found.tx, blockHeight: found.location.height, blockHash: found.location.blockHash, index: found.location.index } : null
    } catch (err) {
      if (err instanceof ChainStoreError && err.code === 'PRUNED') throw new RpcBackendError('HISTORY_UNAVAILABLE', err.message, { oldest: store.prunedBelow })
      throw err
    }
  }

  async getDroppedTransaction(id: Hash): Promise<DroppedTx | null> {
    return this.#m.chain.mempool.dropped(id) ?? null
  }

  /** The committed balance, and the nonce the account's next tx must carry: past its txs pending here (else a client would replace them). */
  async getAccount(address: Address): Promise<AccountInfo> {
    const { chain } = this.#m
    // One read of the account (loaded first: accounts are served from disk).
    return chain.store.readLoaded([TABLES.account.key(address)], () => ({ balance: readAccount(chain.store.state, address).balance, nonce: chain.mempool.nextNonce(address, chain.store.state) }))
  }

  async getStateProofs(keys: Uint8Array[], height: number | undefined): Promise<StateProofAnswer | null> {
    const { store } = this.#m.chain
    const hash = height === undefined ? store.head.hash : await store.getHashAtHeight(height)
    const header = hash && (await store.getHeader(hash))
    if (!header) return null
    return { header, proofs: await store.tree.prove(header.stateRoot, keys) }
  }

  async chainStatus(): Promise<ChainStatus> {
    const { head, finalized, genesis } = this.#m.chain.store
    return {
      chainId: genesis.chainId,
      head: { height: head.height, hash: head.hash },
      finalized: { height: finalized.height, hash: finalized.hash },
      peers: this.#m.peers?.() ?? 0,
      syncing: this.#m.syncing?.() ?? false,
    }
  }

  async getChainParams(): Promise<ChainParamsInfo> {
    const g = this.#m.chain.genesis
    return { chainId: g.chainId, tokenSymbol: g.tokenSymbol, tokenDecimals: g.tokenDecimals, slotMs: g.slotMs, genesisTime: g.genesisTime, params: g.params, consensus: g.consensus }
  }

  async getAsset(id: Hash): Promise<AssetInfo | null> {
    const record = readRow(this.#m.chain.store.state, TABLES.asset.at(id))
    if (record === undefined) return null
    const threshold = this.#m.chain.genesis.params.auditFailThreshold
    return {
      id,
      record,
      shards: record.placement.map((host, index) => {
        const failures = record.shardFailures[index] ?? 0
        return { index, host, failures, lastAuditHeight: undefined, healthy: failures < threshold }
      }),
    }
  }

  async getStake(address: Address): Promise<StakeInfo> {
    const state = this.#m.chain.store.state
    return {
      address,
      stake: readRow(state, TABLES.validator.at(address))?.stake ?? 0n,
      unbonding: readUnbonding(state, address),
      slashedAtHeight: readBondAccount(state, address).slashedAtHeight,
    }
  }

  async getHost(address: Address): Promise<HostInfo | null> {
    const record = readRow(this.#m.chain.store.state, TABLES.host.at(address))
    if (record === undefined) return null
    // Reputation history is in the state (src/state/hosts.ts): one row per host, oldest first.
    const events = readRow(this.#m.chain.store.state, TABLES.reputationHistory.at(address))?.events ?? []
    return { address, record, events }
  }

  async listHosts(page: { offset: number; limit: number }): Promise<HostSummary[]> {
    return scanRows(this.#m.chain.store.state, TABLES.host)
      .slice(page.offset, page.offset + page.limit)
      .map((r) => ({ address: idOfKey(TABLES.host, r.key), record: r.row }))
  }

  async getExecution(id: Hash): Promise<ExecutionInfo | null> {
    if (this.#m.executions) return this.#m.executions(id)
    const record = readRow(this.#m.chain.store.state, TABLES.execution.at(id))
    if (record === undefined) return null
    const found = await this.#m.chain.store.getTxLocation(id)
    const scheduled = { height: found?.height ?? 0, hash: found?.blockHash ?? new Uint8Array(32) }
    const completion = record.status === EXECUTION_STATUS.pending ? undefined : await this.#findCompletion(id)
    return { id, record, scheduled, completion }
  }

  /**
   * The completion entry of a settled execution, found through the activity index (one row per
   * execution id). A node without the index (a host, by default) leaves it out rather than refuse
   * the execution: the record is state, and `waitForExecution` finds the completion by its block scan.
   */
  async #findCompletion(id: Hash): Promise<ExecutionInfo['completion']> {
    const store = this.#m.chain.store
    if (!store.activity.kept) return undefined
    const [settled] = await store.getActivityPage(id, undefined, 1)
    if (settled === undefined || settled.row.role !== ACTIVITY_ROLE.completed) return undefined
    const hash = await store.getHashAtHeight(settled.row.height)
    const block = hash && (await store.getBlock(hash))
    const entry = block ? block.entries[settled.row.entry] : undefined
    return hash && entry?.type === 'completion' ? { block: { height: settled.row.height, hash }, entry } : undefined
  }

  async listAssets(owner: Address, page: ListPage): Promise<Listed<AssetListItem>> {
    const rows = await this.#m.chain.store.getActivityPage(assetsOfOwner(owner), parseListCursor(page.cursor), page.limit)
    const items = await Promise.all(rows.map(async ({ row }) => {
      const asset = await this.getAsset(row.ref)
      // Expired assets keep their record; only a delete removes it.
      return { id: row.ref, deployedHeight: row.height, deleted: asset === null, asset: asset ?? undefined }
    }))
    return { items, nextCursor: rows.length === page.limit ? formatListCursor(rows.at(-1)!.cursor) : undefined }
  }

  async listExecutions(filter: ExecutionFilter, page: ListPage): Promise<Listed<ExecutionListItem>> {
    const subject = filter.asset !== undefined ? executionsOfAsset(filter.asset) : executionsOfSender(filter.sender)
    const store = this.#m.chain.store
    const rows = await store.getActivityPage(subject, parseListCursor(page.cursor), page.limit)
    const items = await Promise.all(rows.map(async ({ row }) => {
      const record = readRow(store.state, TABLES.execution.at(row.ref))
      const [settled] = await store.getActivityPage(row.ref, undefined, 1)
      const done = settled?.row.role === ACTIVITY_ROLE.completed ? settled.row : undefined
      return { id: row.ref, scheduledHeight: row.height, escrow: row.amount, record, completedHeight: done?.height, completionStatus: done?.aux }
    }))
    return { items, nextCursor: rows.length === page.limit ? formatListCursor(rows.at(-1)!.cursor) : undefined }
  }

  async authorizeBlobUpload(header: string | undefined, declaredSize: number | undefined): Promise<BlobUploadAuth> {
    const { chain } = this.#m
    const auth = verifyBlobUploadAuth(header, chain.genesis.chainId, Date.now())
    if ((await chain.readAccount(auth.address)).balance === 0n) throw new RpcBackendError('BLOB_ACCOUNT_UNFUNDED', 'the signing account holds nothing', { address: auth.address })
    if (declaredSize !== undefined && !this.#m.blobs.has(auth.dataHash)) this.#checkBlobQuota(auth.address, declaredSize)
    return auth
  }

  /** Streams the body to disk while hashing it: a blob up to the limit (4 GiB) is never held in memory. */
  async uploadBlob(body: AsyncIterable<Uint8Array>, auth: BlobUploadAuth): Promise<{ dataHash: Hash; size: number }> {
    const max = this.#m.maxBlobBytes ?? DEFAULT_RPC_OPTS.maxBlobBytes
    const known = this.#m.blobs.has(auth.dataHash)
    return this.#m.blobs.putStream(body, auth.address, (got, size) => {
      if (!equalBytes(got, auth.dataHash)) throw new RpcBackendError('BLOB_HASH_MISMATCH', 'the body does not hash to the signed data hash', { expected: auth.dataHash, got })
      if (!known) this.#checkBlobQuota(auth.address, size)
    }, { maxBytes: max })
  }

  #checkBlobQuota(owner: Address, size: number): void {
    const quotaBytes = this.#m.blobQuotaBytes ?? 4 * this.#m.chain.genesis.params.maxModuleBytes
    const usedBytes = this.#m.blobs.unreferencedBytesOf(owner)
    // One upload up to the server's blob limit is always taken while nothing else waits: a large blob must be deployable.
    if (usedBytes > 0 && usedBytes + size > quotaBytes) throw new RpcBackendError('BLOB_QUOTA_EXCEEDED', `the account holds ${usedBytes} bytes of unreferenced uploads; ${size} more exceeds the quota of ${quotaBytes}`, { usedBytes, quotaBytes, size })
  }

  async getCommit(height: number): Promise<CommitProof | null> {
    const store = this.#m.chain.store
    const commit = await store.getCommit(height)
    if (commit === undefined) return null
    // The set that committed that height (stored when it changed); the current one only for heights older than the data dir's first stored set.
    const validators = (await store.getValidatorSetAt(height)) ?? this.#m.chain.validators()
    return { commit, validators: validators.map((v) => ({ address: v.address, stake: v.stake })) }
  }

  async getActivity(subject: Hash, page: { beforeHeight: number; limit: number }): Promise<ActivityEntry[]> {
    return this.#m.chain.store.getActivity(subject, page.beforeHeight, page.limit)
  }

  async query(req: QueryRequest): Promise<QueryResult> {
    if (!this.#m.queries) throw new RpcBackendError('UNAVAILABLE', 'this node does not run queries')
    return this.#m.queries.query(req)
  }

  async getAssetState(asset: Hash, page: { cursor: Uint8Array | undefined; limit: number }): Promise<AssetStatePage> {
    if (!this.#m.queries) throw new RpcBackendError('UNAVAILABLE', 'this node does not serve asset state')
    return this.#m.queries.assetState(asset, page)
  }

  async getFeeInfo(): Promise<FeeInfo> {
    const chain = this.#m.chain
    const p = chain.genesis.params
    return { baseFee: chain.nextBaseFee(), minFeePerByte: p.minFeePerByte, maxBaseFee: p.maxBaseFee, height: chain.head.height + 1 }
  }

  async estimateExecution(req: EstimateRequest): Promise<EstimateResult> {
    if (!this.#m.estimate) throw new RpcBackendError('UNAVAILABLE', 'this node does not run executions (start it with --host to enable dry runs)')
    return this.#m.estimate(req)
  }
}

/** List cursors are the last row's (height, row) as 16 hex digits: opaque to clients, stable across nodes. */
function formatListCursor(c: ActivityCursor): string {
  return toHex(concatBytes(u32be(c.height), u32be(c.seq))).slice(2)
}

function parseListCursor(cursor: string | undefined): ActivityCursor | undefined {
  if (cursor === undefined) return undefined
  return { height: Number.parseInt(cursor.slice(0, 8), 16), seq: Number.parseInt(cursor.slice(8, 16), 16) }
}
