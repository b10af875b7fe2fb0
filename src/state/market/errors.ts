import { type Mismatch, XscError } from '../../../blocks/errors.ts'

export type MarketErrorPayloads = {
  BAD_PARAMS: { field: string; value: unknown }
  BAD_INPUT:
    | { before: number }
    | { cause: number }
    | { bidPerFuel: bigint }
    | { fuelLimit: bigint }
    | { replicas: number }
    | { status: number }
    | { quorum: number }
    | { escrow: bigint; payouts: bigint }
    | { to: string; amount: bigint }
  OVERFLOW: { escrow: bigint } | { total: bigint }
  RECEIPT_WRONG_EXECUTION: { index: number; executionId: string }
  RECEIPT_NOT_ASSIGNED: { index: number; host: string }
  RECEIPT_DUPLICATE: { index: number; host: string }
  NOT_COMPLETABLE: { receipts: number }
  /** A sum that does not balance, or an amount that is not a u128 (`expected: 'u128'`). */
  CONSERVATION: { field: string; got: bigint; expected: bigint | 'u128' }
  /** The validator's recomputation of `field` differs from the entry's. */
  MISMATCH: { field: string } & Mismatch<unknown>
}
export type MarketErrorCode = keyof MarketErrorPayloads

/** Every market failure: bad parameters, amounts that do not fit u128, inadmissible receipts, and the validator-side mismatches. */
export class MarketError extends XscError<MarketErrorPayloads> {}
