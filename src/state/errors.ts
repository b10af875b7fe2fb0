import { XscError } from '../../blocks/errors.ts'

export type StateErrorCode =
  | 'WRONG_CHAIN'
  | 'BAD_SIGNATURE'
  | 'INVALID_KEY'
  | 'NONCE_TOO_LOW'
  | 'NONCE_TOO_HIGH'
  | 'INSUFFICIENT_FUNDS'
  | 'OVERFLOW'
  | 'INVALID_TX'
  | 'HOST_EXISTS'
  | 'UNKNOWN_HOST'
  | 'UNKNOWN_ASSET'
  | 'UNKNOWN_EXECUTION'
  | 'UNKNOWN_VALIDATOR'
  | 'STAKE_TOO_LOW'
  | 'WRONG_ENTRY_KIND'
  | 'ENTRY_MISMATCH'
  | 'UNSUPPORTED'

/**
 * Why a tx or block does not apply to the state. Tx-level codes double as mempool rejections;
 * ENTRY_MISMATCH carries {field, got, expected} when a validator's recomputation differs.
 */
export class StateError extends XscError<StateErrorCode> {}
