import { decodeTrusted } from '../../blocks/codec.ts'
import type { Address } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import { StateError } from './errors.ts'
import { Account } from './records.ts'
import { accountKey } from './stateKeys.ts'
import { StateOverlay, type StateReader } from './stateView.ts'

export const MAX_AMOUNT = (1n << 128n) - 1n
const EMPTY: Account = { balance: 0n, nonce: 0 }

export function readAccount(state: StateReader, address: Address): Account {
  if (state instanceof StateOverlay) return state.read(Account, accountKey(address)) ?? EMPTY
  const bytes = state.get(accountKey(address))
  return bytes === undefined ? EMPTY : decodeTrusted(Account, bytes)
}

export function credit(state: StateOverlay, to: Address, amount: bigint): void {
  if (amount === 0n) return
  const acc = readAccount(state, to)
  const balance = acc.balance + amount
  if (balance > MAX_AMOUNT) throw new StateError('OVERFLOW', 'balance would overflow u128', { address: toHex(to) })
  state.write(Account, accountKey(to), { ...acc, balance })
}

export function debit(state: StateOverlay, from: Address, amount: bigint): void {
  if (amount === 0n) return
  const acc = readAccount(state, from)
  if (acc.balance < amount) {
    throw new StateError('INSUFFICIENT_FUNDS', 'insufficient funds', { address: toHex(from), balance: acc.balance.toString(), needed: amount.toString() })
  }
  state.write(Account, accountKey(from), { ...acc, balance: acc.balance - amount })
}

export function bumpNonce(state: StateOverlay, address: Address): void {
  const acc = readAccount(state, address)
  state.write(Account, accountKey(address), { ...acc, nonce: acc.nonce + 1 })
}
