import { type Address, ASSET_KIND, type Hash, type KvWrite, OUTCOME } from '../../blocks/schema.ts'
import type { ComputePool, ExecutionResult } from '../compute/index.ts'
import { decryptPrivateInput } from '../compute/privateExecutionCipher.ts'
import { sealPrivateResult } from '../compute/sealPrivateResult.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { computeNextStateHash, pendingExecutionsOf, readExecutionQueue } from '../state/executionQueue.ts'
import type { AssetRecord, ExecutionRecord } from '../state/records.ts'
import type { StateReader } from '../state/stateView.ts'
import { readRow, TABLES } from '../state/tables.ts'

export interface ExecutionThreadsModules {
  /** The node's current chain state (read synchronously, once per pass). */
  state: () => StateReader
  pool: ComputePool
  address: Address
  /** The asset's code, fetched from its hosts (retrying until the deadline slot). */
  loadModule: (asset: Hash, rec: AssetRecord, deadlineSlot: number) => Promise<Uint8Array>
  /** Signs and sends a receipt for an execution run on the state named by `preStateHash`. */
  sendReceipt: (executionId: Hash, preStateHash: Hash, result: ExecutionResult) => Promise<void>
  /**
   * Holds the receipts sent until the returned release (GossipBatcher.hold): a pass's receipts
   * then leave in one message to each validator rather than one per batching window.
   */
  holdReceipts?: () => () => void
  onError: (asset: Hash, err: Error) => void
  /** A private execution's key K, once its client delivered it to this host (HostRole). */
  executionKey?: (executionId: Hash) => Uint8Array | undefined
}

/** A state snapshot: the asset's settled key-value state with the speculative writes of earlier queue entries on top. */
class ThreadedState {
  readonly #settled = new Map<string, Uint8Array>()
  readonly #writes = new Map<string, Uint8Array | undefined>()
  constructor(state: StateReader, asset: Hash) {
    const prefix = TABLES.assetKv.key(asset, new Uint8Array(0))
    for (const w of state.scan(prefix)) this.#settled.set(toHex(w.key.subarray(prefix.length)), w.value!)
  }
  get(key: Uint8Array): Uint8Array | undefined {
    const k = toHex(key)
    return this.#writes.has(k) ? this.#writes.get(k) : this.#settled.get(k)
  }
  apply(writes: readonly KvWrite[]): void {
    for (const w of writes) this.#writes.set(toHex(w.key), w.value)
  }
}

/**
 * The host side of linearizable executions (src/state/executionQueue.ts): for each asset with
 * executions assigned to this host, walk the asset's queue from its head, running every entry up
 * to the last one assigned here on the state the entries before it leave (assuming each earlier
 * one settles as this host computes it), and send a receipt for each assigned entry naming the
 * state it ran on. Entries assigned to other hosts are run too (without a receipt): their writes
 * are the next one's state. Results are cached per (execution, state), so a pass after a new block
 * only runs what changed; when a completion settles differently (say the head failed at its
 * deadline), the next pass re-runs the later entries on the real state and sends fresh receipts.
 * Private entries write nothing, so they are skipped unless assigned here, and run only once
 * their client delivered the key (docs/compute.md).
 */
export class ExecutionThreads {
  readonly #m: ExecutionThreadsModules
  readonly #running = new Map<string, Promise<void>>()
  readonly #again = new Set<string>()
  /** Per asset: results by `${executionId}:${preStateHash}`, and which of them were receipted. */
  readonly #results = new Map<string, Map<string, ExecutionResult>>()
  readonly #sent = new Set<string>()

  constructor(modules: ExecutionThreadsModules) {
    this.#m = modules
  }

  /** Something changed for this asset (a new execution, a settlement): walk its queue again. */
  poke(asset: Hash): void {
    const id = toHex(asset)
    if (this.#running.has(id)) {
      this.#again.add(id)
      return
    }
    const loop = async (): Promise<void> => {
      do {
        this.#again.delete(id)
        try {
          await this.#pass(asset)
        } catch (err) {
          this.#m.onError(asset, err as Error)
        }
      } while (this.#again.has(id))
      this.#running.delete(id)
    }
    this.#running.set(id, loop())
  }

  /** Resolves once no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values())
  }

  async #pass(asset: Hash): Promise<void> {
    const { address } = this.#m
    const state = this.#m.state()
    const assetRec = readRow(state, TABLES.asset.at(asset))
    if (assetRec === undefined) return
    const pending = pendingExecutionsOf(state, asset).map(({ executionId }) => ({ executionId, rec: readRow(state, TABLES.execution.at(executionId))! }))
    const lastMine = pending.findLastIndex((p) => p.rec.assignment.some((h) => equalBytes(h, address)))
    const assetId = toHex(asset)
    const cache = this.#results.get(assetId) ?? new Map<string, ExecutionResult>()
    this.#results.set(assetId, cache)
    this.#forgetSettled(cache, pending.map((p) => toHex(p.executionId)))
    if (lastMine < 0) return
    // Read everything this pass needs now: the chain moves on while it runs.
    const threaded = new ThreadedState(state, asset)
    // The receipts are held from the pass's first result on, not while its module is fetched (a
    // fetch retries up to the deadline: holding then would delay every other asset's receipts).
    let release: (() => void) | undefined
    const hold = (): void => void (release ??= this.#m.holdReceipts?.())
    try {
      await this.#run(asset, assetRec, pending.slice(0, lastMine + 1), threaded, readExecutionQueue(state, asset).stateHash, cache, hold)
    } finally {
      release?.()
    }
  }

  /** Runs the pass's entries in queue order, each on the state the ones before it leave; receipts for ours (`hold` before the first). */
  async #run(asset: Hash, assetRec: AssetRecord, entries: readonly { executionId: Hash; rec: ExecutionRecord }[], threaded: ThreadedState, preStateHash: Hash, cache: Map<string, ExecutionResult>, hold: () => void): Promise<void> {
    const { address, pool } = this.#m
    for (const { executionId, rec } of entries) {
      const key = `${toHex(executionId)}:${toHex(preStateHash)}`
      // A private entry writes nothing (its state hash passes through): run only our own, once the key is here.
      if (rec.private) {
        const k = rec.assignment.some((h) => equalBytes(h, address)) ? this.#m.executionKey?.(executionId) : undefined
        if (k !== undefined && !this.#sent.has(key)) {
          let result = cache.get(key)
          if (result === undefined) {
            const code = await this.#m.loadModule(asset, assetRec, rec.deadlineSlot)
            const input = decryptPrivateInput(k, rec.input)
            const plain = await pool.execute({ assetId: asset, code, kind: assetRec.kind === ASSET_KIND.component ? 'component' : 'module', fn: rec.fn, input, fuelLimit: rec.fuelLimit, state: (sk) => threaded.get(sk) })
            result = sealPrivateResult(k, executionId, preStateHash, plain)
            cache.set(key, result)
          }
          hold()
          await this.#m.sendReceipt(executionId, preStateHash, result)
          this.#sent.add(key)
        }
        continue
      }
      let result = cache.get(key)
      if (result === undefined) {
        const code = await this.#m.loadModule(asset, assetRec, rec.deadlineSlot)
        result = await pool.execute({ assetId: asset, code, kind: assetRec.kind === ASSET_KIND.component ? 'component' : 'module', fn: rec.fn, input: rec.input, fuelLimit: rec.fuelLimit, state: (k) => threaded.get(k) })
        cache.set(key, result)
      }
      if (rec.assignment.some((h) => equalBytes(h, address)) && !this.#sent.has(key)) {
        hold()
        await this.#m.sendReceipt(executionId, preStateHash, result)
        this.#sent.add(key)
      }
      const committed = result.outcome === OUTCOME.ok ? result.writeSet : []
      threaded.apply(committed)
      preStateHash = computeNextStateHash(preStateHash, committed)
    }
  }

  #forgetSettled(cache: Map<string, ExecutionResult>, pendingIds: string[]): void {
    const live = new Set(pendingIds)
    for (const key of cache.keys()) {
      if (live.has(key.slice(0, key.indexOf(':')))) continue
      cache.delete(key)
      this.#sent.delete(key)
    }
  }
}
