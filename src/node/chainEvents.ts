import { txId } from '../../blocks/ids.ts'
import type { Block, Hash } from '../../blocks/schema.ts'
import { COMPLETION_STATUS } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { type EventFilter, isEventMatch, type RpcEvent, type RpcEventSource } from '../rpc/backend.ts'

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
        break
      default:
        break
    }
  }
  // Last, so the indices of the events above do not depend on it.
  for (const entry of block.entries) if ('tx' in entry) push({ topic: 'transaction', txId: txId(entry.tx), status: 'included', reason: undefined })
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
      for (const e of computeBlockEvents(block, hash)) this.#emit(e)
    })
    // Live only: a drop is no block's event; xsc_getTransaction keeps the reason for later askers.
    chain.on('dropped', (d) => this.#emit({ topic: 'transaction', height: d.height, index: 0, txId: d.id, status: 'dropped', reason: { code: d.code, message: d.message } }))
  }

  /** Called by the node when finality advances: emits a finalizedHeads event per newly final block. */
  async finalizedTo(height: number): Promise<void> {
    while (this.#lastFinalized < height) {
      const h = ++this.#lastFinalized
      const block = await this.#chain.store.getBlockByHeight(h)
      const hash = await this.#chain.store.getHashAtHeight(h)
      if (block && hash) this.#emit({ topic: 'finalizedHeads', height: h, index: 0, hash, header: block.header })
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
