import { describe, expect, it } from 'vitest'

import { hash, toHex, u32be, utf8 } from '../../../src/crypto/index.ts'
import { advanceExecutionQueue, assetsWithPendingExecutions, enqueueExecution, pendingExecutionsOf, QUEUE_PAGE_SIZE, readExecutionQueue } from '../../../src/state/executionQueue.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'

const asset = hash(utf8('queue-asset'))
const idOf = (n: number): Uint8Array => hash(u32be(n))
const page = Number(QUEUE_PAGE_SIZE)

/** One block: its writes applied to `state`; returns how many rows it wrote. */
function block(state: MemoryState, run: (s: StateOverlay) => void): number {
  const s = new StateOverlay(state)
  run(s)
  const writes = s.writeSet()
  state.apply(writes)
  return writes.length
}

describe('execution queue', () => {
  it('a block enqueueing or settling many executions of an asset writes its queue and one page row, not a row per execution', () => {
    const state = new MemoryState()
    expect(block(state, (s) => {
      for (let i = 0; i < 32; i++) expect(enqueueExecution(s, asset, idOf(i), 5)).toBe(BigInt(i))
    })).toBe(2)
    // Settling all but the last: only the queue row moves (the page still holds the last one).
    expect(block(state, (s) => {
      for (let i = 0; i < 31; i++) advanceExecutionQueue(s, asset, [], 6)
    })).toBe(1)
    expect(pendingExecutionsOf(state, asset).map((p) => [p.seq, toHex(p.executionId)])).toEqual([[31n, toHex(idOf(31))]])
  })

  it('pending executions span pages in sequence order; a page leaves state once all its executions settled', () => {
    const state = new MemoryState()
    const n = page * 2 + 5
    block(state, (s) => {
      for (let i = 0; i < n; i++) enqueueExecution(s, asset, idOf(i), 1)
    })
    expect(state.scan(TABLES.executionQueuePage.prefix)).toHaveLength(3)
    expect(pendingExecutionsOf(state, asset).map((p) => toHex(p.executionId))).toEqual(Array.from({ length: n }, (_, i) => toHex(idOf(i))))
    block(state, (s) => {
      for (let i = 0; i < page + 3; i++) advanceExecutionQueue(s, asset, [], 2)
    })
    expect(state.scan(TABLES.executionQueuePage.prefix)).toHaveLength(2)
    expect(pendingExecutionsOf(state, asset).map((p) => p.seq)).toEqual(Array.from({ length: n - page - 3 }, (_, i) => BigInt(page + 3 + i)))
    expect(assetsWithPendingExecutions(state).map(toHex)).toEqual([toHex(asset)])
  })

  it('an asset whose executions all settled is not pending, though its unfilled tail page stays; the next one continues that page', () => {
    const state = new MemoryState()
    block(state, (s) => {
      for (let i = 0; i < 3; i++) enqueueExecution(s, asset, idOf(i), 1)
    })
    block(state, (s) => {
      for (let i = 0; i < 3; i++) advanceExecutionQueue(s, asset, [], 2)
    })
    expect(assetsWithPendingExecutions(state)).toEqual([])
    expect(pendingExecutionsOf(state, asset)).toEqual([])
    block(state, (s) => enqueueExecution(s, asset, idOf(3), 3))
    expect(readExecutionQueue(state, asset).headSeq).toBe(3n)
    expect(pendingExecutionsOf(state, asset).map((p) => [p.seq, toHex(p.executionId)])).toEqual([[3n, toHex(idOf(3))]])
    expect(assetsWithPendingExecutions(state).map(toHex)).toEqual([toHex(asset)])
  })
})
