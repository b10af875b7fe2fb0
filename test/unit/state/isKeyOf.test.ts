import { describe, expect, it } from 'vitest'

import { idOfKey, isKeyOf, TABLES } from '../../../src/state/tables.ts'

describe('isKeyOf: a key belongs to a table by its whole prefix', () => {
  it('knows each table\'s own keys, and no table\'s keys as another\'s', () => {
    const address = new Uint8Array(32).fill(7)
    const hash = new Uint8Array(32).fill(9)
    const keys = [
      { table: TABLES.account, key: TABLES.account.at(address).key },
      { table: TABLES.validator, key: TABLES.validator.at(address).key },
      { table: TABLES.host, key: TABLES.host.at(address).key },
      { table: TABLES.bondAccount, key: TABLES.bondAccount.at(address).key },
      { table: TABLES.receiptOffence, key: TABLES.receiptOffence.at(hash, address).key },
    ]
    for (const { table, key } of keys) {
      expect(isKeyOf(table, key)).toBe(true)
      expect(idOfKey(table, key).length).toBe(key.length - table.prefix.length)
      for (const other of keys) if (other.table !== table) expect(isKeyOf(other.table, key)).toBe(false)
    }
    // Two-byte prefixes sharing their first byte (0x0d) are told apart; a key shorter than the prefix belongs to none.
    expect(isKeyOf(TABLES.bondAccount, new Uint8Array([0x0d]))).toBe(false)
  })
})
