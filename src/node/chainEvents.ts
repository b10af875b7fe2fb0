import { txId } from '../../blocks/ids.ts'
import type { Block, Hash } from '../../blocks/schema.ts'
import { COMPLETION_STATUS } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { toHex } from '../crypto/index.ts'
import { type EventFilter, isEventMatch, type RpcEvent, type RpcEventSource } from '../rpc/backend.ts'
import { RpcBackendError } from '../rpc/errors.ts'
import { ASSET_STATUS } from '../state/records.ts'
import type { StateReader } from '../state/stateView.ts'
import { computeShardRates } from '../state/storage/computeStorageRent.ts'
import { readRow, TABLES } from '../state/tables.ts'

/**
 * The events a block produces, derived from the block alone, so live delivery and replay from
 * storage give the same list in the same (height, index) order.
 */
export function computeBlockEvents(block: Block, hash: Hash): RpcEvent[] {
  const height = block.header.height
  const out: RpcEvent[] = [{ topic: 'newHeads', height, index: 0, hash, header: block.header }]
  type Unplaced = RpcEvent extends infer E ? (E extends RpcEvent ? Omit<E, 'height' | 'index'> : never) : never
  const push = (e: Unplaced): void => {
    out.push({ ...e, height, index: out.length } as RpcEvent)
  }
  for (const entry of block.entries) {
    switch (entry.type) {
      case 'tx': {
        const p = entry.tx.body.payload
        const kind = p.type === 'host.join' ? 'joined' : p.type === 'host.update' ? 'updated' : p.type === 'host.leave' ? 'left' : undefined
        if (kind) push({ topic: 'hostEvents', host: entry.tx.body.from, kind, reputation: undefined })
        if (p.type === 'asset.extend') push({ topic: 'asset', asset: p.asset, kind: 'extended', epochsLeft: undefined })
        if (p.type === 'asset.delete') push({ topic: 'asset', asset: p.asset, kind: 'deleted', epochsLeft: undefined })
        break
      }
      case 'execution':
        push({ topic: 'execution', executionId: txId(entry.tx), stage: 'scheduled', host: undefined })
        break
      case 'completion': {
        for (const r of entry.receipts) push({ topic: 'execution', executionId: entry.executionId, stage: 'receipt', host: r.body.host })
        push({ topic: 'execution', executionId: entry.executionId, stage: entry.status === COMPLETION_STATUS.agreed ? 'completed' : 'failed', host: undefined })
        for (const c of entry.reputation) push({ topic: 'hostEvents', host: c.host, kind: 'reputation', reputation: { height, cause: c.cause, before: c.before, after: c.after, subject: entry.executionId } })
        break
      }
      case 'audit':
        for (const c of entry.reputation) push({ topic: 'hostEvents', host: c.host, kind: 'reputation', reputation: { height, cause: c.cause, before: c.before, after: c.after, subject: hash } })
        for (const asset of entry.expired) push({ topic: 'asset', asset, kind: 'expired', epochsLeft: undefined })
        break
      default:
        break
    }
  }
  // Last, so the indices of the events above do not depend on it.
  for (const entry of block.entries) if ('tx' in entry) push({ topic: 'transaction', txId: txId(entry.tx), status: 'included', reason: undefined })
  return out
}

/** How many epochs ahead an owner is warned that an asset's deposit runs out. */
export const EXPIRY_WARNING_EPOCHS = 3

/**
 * After an audit block: an `expiring` event for each audited asset whose deposit covers fewer than
 * EXPIRY_WARNING_EPOCHS epochs of rent at its hosts' current asks (0 once it is in grace). Read from
 * the state after the block, so live only; indices follow the block's own events.
 */
export function computeExpiryWarnings(block: Block, state: StateReader, firstIndex: number): RpcEvent[] {
  const out: RpcEvent[] = []
  const seen = new Set<string>()
  for (const entry of block.entries) {
    if (entry.type !== 'audit') continue
    for (const r of entry.results) {
      const id = toHex(r.asset)
      if (seen.has(id)) continue
      seen.add(id)
      const record = readRow(state, TABLES.asset.at(r.asset))
      if (record === undefined) continue
      if (record.status === ASSET_STATUS.expired) continue
      const askOf = (h: Uint8Array): bigint | undefined => readRow(state, TABLES.host.at(h))?.params.askPerByteEpoch
      const epochCost = computeShardRates(record, askOf).reduce((sum, rate) => sum + rate * record.manifest.shardSize, 0n)
      const epochsLeft = record.status === ASSET_STATUS.graced ? 0 : epochCost === 0n ? Number.POSITIVE_INFINITY : Number(record.deposit / epochCost)
      if (epochsLeft < EXPIRY_WARNING_EPOCHS) out.push({ topic: 'asset', height: block.header.height, index: firstIndex + out.length, asset: r.asset, kind: 'expiring', epochsLeft })
    }
  }
  return out
}

/** Live events from the chain's imports; replay reads stored blocks. */
export class ChainEvents implements RpcEventSource {
  readonly #chain: Chain
  readonly #listeners = new Set<(e: RpcEvent) => void>()
  #lastFinalized = 0

  constructor(chain: Chain) {
    this.#chain = chain
    this.#lastFinalized = chain.store.finalized.height
    chain.on('block', ({ block, hash }) => {
      const events = computeBlockEvents(block, hash)
      for (const e of events) this.#emit(e)
      for (const e of computeExpiryWarnings(block, chain.store.state, events.length)) this.#emit(e)
    })
    // Live only: a drop is no block's event; xsc_getTransaction keeps the reason for later askers.
    chain.on('dropped', (d) => this.#emit({ topic: 'transaction', height: d.height, index: 0, txId: d.id, status: 'dropped', reason: { code: d.code, message: d.message } }))
  }

  /** Called by the node when finality advances: emits a finalizedHeads event per newly final block. */
  async finalizedTo(height: number): Promise<void> {
    while (this.#lastFinalized < height) {
      const h = ++this.#lastFinalized
      // The usual case is the head itself (BFT applies a block with its commit): no database reads.
      const head = this.#chain.store.head
      const hash = h === head.height ? head.hash : await this.#chain.store.getHashAtHeight(h)
      const header = h === head.height ? head.header : hash && (await this.#chain.store.getHeader(hash))
      if (hash && header) this.#emit({ topic: 'finalizedHeads', height: h, index: 0, hash, header })
    }
  }

  #emit(e: RpcEvent): void {
    for (const l of this.#listeners) l(e)
  }

  listen(listener: (event: RpcEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async replay(filter: EventFilter, fromHeight: number): Promise<RpcEvent[]> {
    const store = this.#chain.store
    const toHeight = filter.topic === 'finalizedHeads' ? store.finalized.height : store.head.height
    if (store.prunedBelow > 1 && fromHeight < store.prunedBelow) throw new RpcBackendError('HISTORY_UNAVAILABLE', `blocks below ${store.prunedBelow} are pruned on this node`, { oldest: store.prunedBelow })
    const events: RpcEvent[] = []
    for (let h = Math.max(0, fromHeight); h <= toHeight; h++) {
      const hash = await store.getHashAtHeight(h)
      const block = hash && (await store.getBlock(hash))
      if (!hash || !block) break
      if (filter.topic === 'finalizedHeads') {
        events.push({ topic: 'finalizedHeads', height: h, index: 0, hash, header: block.header })
        continue
      }
      for (const e of computeBlockEvents(block, hash)) if (isEventMatch(filter, e)) events.push(e)
    }
    return events
  }
}
