import { describe, expect, it } from 'vitest'

import { encode } from '../../../blocks/codec.ts'
import type { AuditEntry } from '../../../blocks/schema.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { HOST_STATUS, HostRecord, SupplyRecord } from '../../../src/state/records.ts'
import { slashFailedAudits } from '../../../src/state/slashFailedAudits.ts'
import { MemoryState, StateOverlay } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'
import { testGenesis } from '../../support/chainFixtures.ts'
import { addr, makeHost } from '../router/hostFixtures.ts'

describe('failed audits beyond the threshold cost bond', () => {
  it('burns hostSlashShareBps of the bond per shard repaired away from a failing host, nothing from a host that left', () => {
    const failing = addr(1)
    const left = addr(2)
    const hosts = new Map([[toHex(failing), makeHost({ bond: 1000n })], [toHex(left), makeHost({ bond: 1000n, status: HOST_STATUS.draining })]])
    const base = new MemoryState()
    base.apply([...hosts].map(([hex, record]) => ({ key: TABLES.host.key(hex === toHex(failing) ? failing : left), value: encode(HostRecord, record) })))
    base.apply([{ key: TABLES.supply.key(), value: encode(SupplyRecord, { total: 1_000_000n, burned: 0n }) }])
    const state = new StateOverlay(base)
    const repair = (from: Uint8Array, shardIndex: number) => ({ asset: new Uint8Array(32).fill(9), shardIndex, from, to: addr(7) })
    const entry: AuditEntry = { type: 'audit', epoch: 3, results: [], repairs: [repair(failing, 0), repair(failing, 1), repair(left, 2)], rent: [], expired: [], reputation: [] }
    const genesis = testGenesis()
    slashFailedAudits(state, entry, hosts, { genesis: { ...genesis, params: { ...genesis.params, hostSlashShareBps: 1000 } }, height: 10, slot: 10, proposer: addr(9), prevHash: new Uint8Array(32), beaconMix: new Uint8Array(32), baseFee: 0n })
    // Two shards lost: 1000 → 900 → 810.
    expect(state.read(TABLES.host.at(failing))!.bond).toBe(810n)
    expect(state.read(TABLES.host.at(left))!.bond).toBe(1000n)
    expect(state.read(TABLES.supply.at())).toEqual({ total: 1_000_000n - 190n, burned: 190n })
  })
})
