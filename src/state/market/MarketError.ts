import { XscError } from '../../../blocks/errors.ts'

export type MarketErrorCode =
  | 'BAD_PARAMS'
  | 'BAD_INPUT'
  | 'OVERFLOW'
  | 'RECEIPT_WRONG_EXECUTION'
  | 'RECEIPT_NOT_ASSIGNED'
  | 'RECEIPT_DUPLICATE'
  | 'NOT_COMPLETABLE'
  | 'CONSERVATION'
  | 'MISMATCH'

/**
 * Every market failure: bad parameters, amounts that do not fit u128, inadmissible receipts, and
 * the validator-side mismatches. Mismatches carry `{field, got, expected}` in `details`.
 */
export class MarketError extends XscError<MarketErrorCode> {}
