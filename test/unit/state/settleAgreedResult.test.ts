import { describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import { COMPLETION_STATUS, type CompletionEntry } from '../../../blocks/schema.ts'
import { EXECUTION_STATUS, ExecutionRecord, HostRecord, SupplyRecord } from '../../../src/state/records.ts'
import { settleAgreedResult } from '../../../src/state/settleAgreedResult.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testGenesis } from '../../support/chainFixtures.ts'
import { makeHost } from '../router/hostFixtures.ts'
import { EXEC_ID, hostAddr, makeExecution, makeReceipt } from './market/marketFixtures.ts'

describe('settling an agreed completion', () => {
  it('keeps the agreed result and slashes the bond of each host whose receipt in the entry contradicts it, once', () => {
    const base = new MemoryState()
    base.apply([1, 2, 3].map((n) => ({ key: TABLES.host.key(hostAddr(n)), value: encode(HostRecord, makeHost({ bond: 1000n })) })))
    base.apply([{ key: TABLES.supply.key(), value: encode(SupplyRecord, { total: 10_000n, burned: 0n }) }])
    base.apply([{ key: TABLES.execution.key(EXEC_ID), value: encode(ExecutionRecord, makeExecution({ status: EXECUTION_STATUS.completed })) }])
    const state = new StateOverlay(base)
    // Hosts 1 and 2 agree on result 1; host 3 signed result 9.
    const receipts = [makeReceipt(hostAddr(1), 50n, 1), makeReceipt(hostAddr(2), 50n, 1), makeReceipt(hostAddr(3), 50n, 9)]
    const entry: CompletionEntry = {
      type: 'completion', executionId: EXEC_ID, status: COMPLETION_STATUS.agreed, outcome: 0, resultHash: new Uint8Array(32).fill(1), fuelUsed: 50n,
      output: new Uint8Array(0), writeSet: [], receipts, payouts: [], refund: 0n, burn: 0n, reputation: [],
    }
    const genesis = testGenesis()
    settleAgreedResult(state, entry, { genesis: { ...genesis, params: { ...genesis.params, hostSlashShareBps: 2500 } }, height: 7, slot: 7, proposer: hostAddr(9), prevHash: new Uint8Array(32), beaconMix: new Uint8Array(32), baseFee: 0n })
    // The agreed result rides in the execution's record (which the completion rewrites anyway): no state row of its own.
    expect(state.read(TABLES.execution.at(EXEC_ID))).toEqual(makeExecution({ status: EXECUTION_STATUS.completed, agreed: { outcome: 0, resultHash: new Uint8Array(32).fill(1), fuelUsed: 50n, settledHeight: 7 } }))
    expect(state.writeSet().map((w) => w.key[0])).toEqual([TABLES.host.prefix[0], TABLES.supply.prefix[0], TABLES.receiptOffence.prefix[0], TABLES.execution.prefix[0]])
    expect([1, 2, 3].map((n) => state.read(TABLES.host.at(hostAddr(n)))!.bond)).toEqual([1000n, 1000n, 750n])
    expect(state.read(TABLES.supply.at())).toEqual({ total: 9_750n, burned: 250n })
    expect(state.get(TABLES.receiptOffence.key(EXEC_ID, hostAddr(3)))).toBeDefined()
  })
})
