import type { Payout } from '../../../blocks/schema.ts'
import { toHex } from '../../crypto/bytes.ts'
import { MarketError } from './errors.ts'
import { U128_MAX } from './pricing.ts'

/**
 * Value is conserved by a settlement: `debit = Σ payouts + refund + burn` exactly, with every
 * amount a u128. Throws MarketError('CONSERVATION', …, {field, got, expected}) otherwise.
 */
export function verifyConservation(debit: bigint, settlement: { payouts: readonly Payout[]; refund: bigint; burn: bigint }): void {
  const check = (field: string, v: bigint): void => {
    if (typeof v !== 'bigint' || v < 0n || v > U128_MAX) throw new MarketError('CONSERVATION', `${field} is not a u128 amount`, { field, got: v, expected: 'u128' })
  }
  check('debit', debit)
  check('refund', settlement.refund)
  check('burn', settlement.burn)
  let total = settlement.refund + settlement.burn
  for (const [i, p] of settlement.payouts.entries()) {
    check(`payouts[${i}] to ${toHex(p.to)}`, p.amount)
    total += p.amount
  }
  if (total !== debit) throw new MarketError('CONSERVATION', `payouts + refund + burn = ${total}, escrow = ${debit}`, { field: 'total', got: total, expected: debit })
}
