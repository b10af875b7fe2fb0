import { describe, expect, it } from 'vitest'

import type { GenesisConfig } from '../../../blocks/schema.ts'
import { hash, utf8 } from '../../../src/crypto/index.ts'
import { pruneExpiredExecutions, scheduleExecutionExpiry } from '../../../src/state/applyExecution.ts'
import { recordReputationEvent } from '../../../src/state/hosts.ts'
import { EXECUTION_STATUS, ExecutionRecord } from '../../../src/state/records.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testGenesis, testKey } from '../../support/chainFixtures.ts'

const genesis: GenesisConfig = testGenesis({ params: { executionRetentionHeights: 10, reputationHistoryLimit: 3 } })
const client = testKey('growth-client').publicKey

function record(status: number): ExecutionRecord {
  return {
    client, asset: hash(utf8('asset')), fn: 'run', input: new Uint8Array(1000).fill(7), fuelLimit: 1n, bidPerFuel: 1n, replicas: 1, quorum: 1, private: false,
    assignment: [], escrow: 1n, startSlot: 1, deadlineSlot: 5, status, origin: { x: 0, y: 0, z: 0 }, seq: 0n, agreed: undefined,
  }
}

describe('state growth is bounded', () => {
  it('a settled execution\'s input leaves state at settlement + executionRetentionHeights, found through its expiry key (no scan); the record stays', () => {
    const state = new StateOverlay(new MemoryState())
    const done = hash(utf8('done'))
    const pending = hash(utf8('pending'))
    state.write(TABLES.execution.at(done), record(EXECUTION_STATUS.completed))
    state.write(TABLES.execution.at(pending), record(EXECUTION_STATUS.pending))
    scheduleExecutionExpiry(state, done, { height: 5, genesis })
    scheduleExecutionExpiry(state, pending, { height: 5, genesis })
    expect(state.read(TABLES.executionExpiry.at(15))?.executions).toHaveLength(2)
    pruneExpiredExecutions(state, { height: 14 })
    expect(state.read(TABLES.execution.at(done))!.input).toHaveLength(1000)
    pruneExpiredExecutions(state, { height: 15 })
    expect(state.read(TABLES.execution.at(done))!.input).toHaveLength(0)
    expect(state.read(TABLES.execution.at(done))!.status).toBe(EXECUTION_STATUS.completed)
    // Only settled executions lose their input.
    expect(state.read(TABLES.execution.at(pending))!.input).toHaveLength(1000)
    expect(state.read(TABLES.executionExpiry.at(15))).toBeUndefined()
  })

  it('a host keeps only its last reputationHistoryLimit events in state, the oldest leave first', () => {
    const state = new StateOverlay(new MemoryState())
    const host = testKey('growth-host').publicKey
    for (let h = 1; h <= 7; h++) recordReputationEvent(state, host, { height: h, cause: 0, before: 5000, after: 5000 + h, subject: host }, genesis.params.reputationHistoryLimit)
    const events = state.read(TABLES.reputationHistory.at(host))!.events
    expect(events.map((e) => e.height)).toEqual([5, 6, 7])
  })

  it('reputation events of one block write one state row per host, in the order they happened', () => {
    const base = new MemoryState()
    const hosts = [testKey('growth-host-a').publicKey, testKey('growth-host-b').publicKey]
    const block = new StateOverlay(base)
    // Three events for each host at one height (three completions settled by one block), interleaved.
    for (let i = 0; i < 3; i++) for (const host of hosts) recordReputationEvent(block, host, { height: 9, cause: i, before: 5000 + i, after: 5001 + i, subject: host }, genesis.params.reputationHistoryLimit)
    const writes = block.writeSet()
    expect(writes).toHaveLength(2)
    expect(writes.every((w) => w.key[0] === TABLES.reputationHistory.prefix[0])).toBe(true)
    base.apply(writes)
    for (const host of hosts) expect(new StateOverlay(base).read(TABLES.reputationHistory.at(host))!.events.map((e) => e.cause)).toEqual([0, 1, 2])
  })
})
