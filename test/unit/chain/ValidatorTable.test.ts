import { describe, expect, it } from 'vitest'

import { ValidatorTable } from '../../../src/chain/ValidatorTable.ts'
import { hash, toHex, utf8 } from '../../../src/crypto/index.ts'
import { MemoryState, StateOverlay, type StateWrite } from '../../../src/state/stateView.ts'
import { TABLES } from '../../../src/state/tables.ts'

const address = (name: string) => hash(utf8(name))

/** Applies a block's worth of row writes to `state` as a commit does, and tells the table. */
function commit(state: MemoryState, table: ValidatorTable, rows: (o: StateOverlay) => void): void {
  const overlay = new StateOverlay(state)
  rows(overlay)
  const writes: StateWrite[] = overlay.writeSet()
  state.apply(writes)
  table.noteWrites(writes)
}

describe('ValidatorTable', () => {
  it('serves one array across commits that leave the validator table alone, and reads it again after one that writes it', () => {
    const state = new MemoryState()
    const table = new ValidatorTable(state)
    commit(state, table, (o) => o.write(TABLES.validator.at(address('a')), { stake: 10n, peerId: 'pa' }))
    const first = table.list()
    expect(first.map((v) => [toHex(v.address), v.stake])).toEqual([[toHex(address('a')), 10n]])
    const normalized = table.set()
    const hexes = table.hexes()

    // Blocks writing other tables (accounts, hosts): the same objects.
    commit(state, table, (o) => o.write(TABLES.account.at(address('x')), { balance: 5n, nonce: 1 } as never))
    expect(table.list()).toBe(first)
    expect(table.set()).toBe(normalized)
    expect(table.hexes()).toBe(hexes)

    // A stake change, a new validator, a removal: each read again.
    commit(state, table, (o) => o.write(TABLES.validator.at(address('a')), { stake: 12n, peerId: 'pa' }))
    const second = table.list()
    expect(second).not.toBe(first)
    expect(second.map((v) => v.stake)).toEqual([12n])
    expect(table.set()).not.toBe(normalized)
    commit(state, table, (o) => o.write(TABLES.validator.at(address('b')), { stake: 7n, peerId: 'pb' }))
    expect(new Set(table.list().map((v) => toHex(v.address)))).toEqual(new Set([toHex(address('a')), toHex(address('b'))]))
    expect(table.hexes()).toHaveLength(2)
    commit(state, table, (o) => o.set(TABLES.validator.at(address('a')).key, undefined))
    expect(table.list().map((v) => toHex(v.address))).toEqual([toHex(address('b'))])
  })

  it('writes to another table\'s keys do not count', () => {
    const state = new MemoryState()
    const table = new ValidatorTable(state)
    const before = table.list()
    table.noteWrites([{ key: new Uint8Array([TABLES.validator.prefix[0]! + 1, 1, 2]), value: new Uint8Array([1]) }])
    expect(table.list()).toBe(before)
  })
})
