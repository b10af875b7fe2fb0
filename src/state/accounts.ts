import type { Address } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import { StateError } from './errors.ts'
import { Account } from './records.ts'
import { StateOverlay, type StateReader } from './stateView.ts'
import { readRow, TABLES } from './tables.ts'

export const MAX_AMOUNT = (1n << 128n) - 1n
const EMPTY: Account = { balance: 0n, nonce: 0 }

export function readAccount(state: StateReader, address: Address): Account {
  return readRow(state, TABLES.account.at(address)) ?? EMPTY
}

/** Whether the account has a record in state (a balance or a nonce was ever written). */
export function isExistingAccount(state: StateReader, address: Address): boolean {
  return readRow(state, TABLES.account.at(address)) !== undefined
}

export function credit(state: StateOverlay, to: Address, amount: bigint): void {
  if (amount === 0n) return
  const acc = readAccount(state, to)
  const balance = acc.balance + amount
  if (balance > MAX_AMOUNT) throw new StateError('OVERFLOW', 'balance would overflow u128', { address: toHex(to) })
  state.write(TABLES.account.at(to), { ...acc, balance })
}

export function debit(state: StateOverlay, from: Address, amount: bigint): void {
  if (amount === 0n) return
  const acc = readAccount(state, from)
  if (acc.balance < amount) {
    throw new StateError('INSUFFICIENT_FUNDS', 'insufficient funds', { address: toHex(from), balance: acc.balance.toString(), needed: amount.toString() })
  }
  state.write(TABLES.account.at(from), { ...acc, balance: acc.balance - amount })
}

/** Takes `amount` out of the supply for good (the base fee part of tx fees, completion burns). */
export function burnSupply(state: StateOverlay, amount: bigint): void {
  if (amount === 0n) return
  const supply = state.read(TABLES.supply.at()) ?? { total: 0n, burned: 0n }
  state.write(TABLES.supply.at(), { total: supply.total - amount, burned: supply.burned + amount })
}

export function bumpNonce(state: StateOverlay, address: Address): void {
  const acc = readAccount(state, address)
  state.write(TABLES.account.at(address), { ...acc, nonce: acc.nonce + 1 })
}
