import { type Address, ASSET_KIND, type GenesisConfig, type Hash } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { type ComputePool, createComputePool } from '../compute/index.ts'
import { compareBytes, equalBytes, toHex } from '../crypto/index.ts'
import { fetchShard, type NetNode } from '../net/index.ts'
import type { AssetStatePage, BlockRef, EstimateRequest, EstimateResult, QueryRequest, QueryResult } from '../rpc/backend.ts'
import { RpcBackendError } from '../rpc/errors.ts'
import { ASSET_STATUS, AssetRecord } from '../state/records.ts'
import type { StateReader } from '../state/stateView.ts'
import { readRow, TABLES } from '../state/tables.ts'
import { retrieve } from '../storage/retrieve.ts'
import type { BlobStore } from './blobStore.ts'
import { HostDirectory } from './hostDirectory.ts'

/** Compiled code kept per asset for repeated queries (modules are immutable once deployed). */
const CODE_CACHE_ENTRIES = 32
export const MAX_ASSET_STATE_PAGE = 1000

export interface AssetQueriesModules {
  /** The chain's head state and where it stands (a Chain; tests hand in a state of their own). */
  chain: { store: { state: StateReader; head: BlockRef; finalized: BlockRef }; genesis: GenesisConfig }
  /** Blobs uploaded to this node: a module deployed through it needs no network fetch. */
  blobs: BlobStore
  /** Fetches shard `i` of `asset` from `host` (null when it cannot); absent on a node without a network. */
  fetchShard?: (host: Address, asset: Hash, i: number, rec: AssetRecord) => Promise<Uint8Array | null>
  /** The host role's runtime when there is one; otherwise a one-worker pool is started on first use. */
  pool?: ComputePool
}

/**
 * Runs an asset's code on this node alone, outside consensus: dry runs (`xsc_estimateFuel`) and
 * read-only queries (`xsc_query`, as ICP query calls) against the asset state the node holds at
 * its head, writes discarded, nothing paid, fuel capped by the chain's maxFuelLimit. Any node
 * can: validators run the runtime locally and fetch the module's shards from its hosts.
 */
export class AssetQueries {
  readonly #m: AssetQueriesModules
  #ownPool: ComputePool | undefined
  readonly #code = new Map<string, Promise<Uint8Array>>()

  constructor(modules: AssetQueriesModules) {
    this.#m = modules
  }

  async estimate(req: EstimateRequest): Promise<EstimateResult> {
    const { outcome, fuelUsed, output } = await this.#run(req.asset, req.fn, req.input, req.fuelLimit)
    return { outcome, fuelUsed, output }
  }

  async query(req: QueryRequest): Promise<QueryResult> {
    return this.#run(req.asset, req.fn, req.input, req.fuelLimit)
  }

  /** The asset's key-value state at the head, keys in byte order, after `cursor` (exclusive). */
  assetState(asset: Hash, page: { cursor: Uint8Array | undefined; limit: number }): AssetStatePage {
    const { chain } = this.#m
    this.#assetRecord(asset)
    const prefix = TABLES.assetKv.key(asset, new Uint8Array(0))
    const rows = chain.store.state.scan(prefix).map((w) => ({ key: w.key.subarray(prefix.length), value: w.value! }))
    const from = page.cursor === undefined ? 0 : rows.findIndex((r) => compareBytes(r.key, page.cursor!) > 0)
    const entries = from < 0 ? [] : rows.slice(from, from + page.limit)
    const more = from >= 0 && from + page.limit < rows.length
    return { ...this.#at(), entries, next: more ? entries.at(-1)!.key : undefined }
  }

  async close(): Promise<void> {
    await this.#ownPool?.close()
  }

  #at(): { height: number; blockHash: Hash; finalized: boolean } {
    const { head, finalized } = this.#m.chain.store
    return { height: head.height, blockHash: head.hash, finalized: head.height <= finalized.height }
  }

  #assetRecord(asset: Hash): AssetRecord {
    const rec = readRow(this.#m.chain.store.state, TABLES.asset.at(asset))
    if (rec === undefined || rec.status === ASSET_STATUS.expired) throw new RpcBackendError('UNKNOWN_ASSET', `no stored asset ${toHex(asset)}`, { asset })
    return rec
  }

  async #run(asset: Hash, fn: string, input: Uint8Array, fuelLimit: bigint | undefined): Promise<QueryResult> {
    const { chain } = this.#m
    const max = chain.genesis.params.maxFuelLimit
    if (fuelLimit !== undefined && fuelLimit > max) throw new RpcBackendError('FUEL_LIMIT_TOO_HIGH', `fuel limit above the chain maximum ${max}`, { max })
    const rec = this.#assetRecord(asset)
    if (rec.kind === ASSET_KIND.blob) throw new RpcBackendError('INVALID_TX', 'the asset is a data blob, not a WASM module or component', { field: 'asset' })
    // One consistent snapshot, taken before anything awaits: blocks keep landing while it runs.
    const at = this.#at()
    const prefix = TABLES.assetKv.key(asset, new Uint8Array(0))
    const snapshot = new Map<string, Uint8Array>()
    for (const w of chain.store.state.scan(prefix)) snapshot.set(toHex(w.key.subarray(prefix.length)), w.value!)
    const code = await this.#codeOf(asset, rec)
    const pool = this.#m.pool ?? (this.#ownPool ??= createComputePool({ workers: 1 }))
    const r = await pool.execute({ assetId: asset, code, kind: rec.kind === ASSET_KIND.component ? 'component' : 'module', fn, input, fuelLimit: fuelLimit ?? max, state: (k) => snapshot.get(toHex(k)) })
    return { outcome: r.outcome, fuelUsed: r.fuelUsed, output: r.output, ...at }
  }

  #codeOf(asset: Hash, rec: AssetRecord): Promise<Uint8Array> {
    const id = toHex(asset)
    let p = this.#code.get(id)
    if (p === undefined) {
      p = this.#fetchCode(asset, rec)
      if (this.#code.size >= CODE_CACHE_ENTRIES) this.#code.delete(this.#code.keys().next().value!)
      this.#code.set(id, p)
      p.catch(() => this.#code.delete(id))
    }
    return p
  }

  async #fetchCode(asset: Hash, rec: AssetRecord): Promise<Uint8Array> {
    const uploaded = this.#m.blobs.get(rec.manifest.dataHash)
    if (uploaded !== undefined) return uploaded
    const fetch = this.#m.fetchShard
    if (fetch === undefined) throw new RpcBackendError('UNAVAILABLE', 'this node holds neither the module nor a network to fetch it from', {})
    try {
      return (await retrieve(rec.manifest, rec.placement, (host, i) => fetch(host, asset, i, rec))).data
    } catch (cause) {
      throw new RpcBackendError('UNAVAILABLE', `the module's shards could not be fetched: ${(cause as Error).message}`, {}, { cause })
    }
  }
}

/** The node's wiring: blobs it was given, shards fetched from hosts over `net` (when networked), the host role's pool (when hosting). */
export function createAssetQueries(m: { chain: Chain; blobs: BlobStore; net: NetNode | undefined; pool: ComputePool | undefined; self: Address | undefined }): AssetQueries {
  const { net } = m
  const hosts = net === undefined ? undefined : new HostDirectory(m.chain, net)
  return new AssetQueries({
    chain: m.chain,
    blobs: m.blobs,
    ...(m.pool ? { pool: m.pool } : {}),
    ...(net && hosts
      ? {
          fetchShard: async (host: Address, asset: Hash, i: number, rec: AssetRecord) => {
            if (m.self !== undefined && equalBytes(host, m.self)) return null
            return fetchShard(net, await hosts.peerOf(host), { asset, shardIndex: i, expectedHash: rec.manifest.shardHashes[i]!, maxBytes: Number(rec.manifest.shardSize) + 1 })
          },
        }
      : {}),
  })
}
