import { XscError } from '../../blocks/errors.ts'

export type DbErrorCode = 'LOCKED' | 'OPEN_FAILED' | 'CORRUPT'

/** The database could not be opened (`dir` names it) or holds bytes it never wrote. */
export class DbError extends XscError<{ LOCKED: { dir: string }; OPEN_FAILED: { dir: string }; CORRUPT: {} }> {}

export type ChainStoreErrorCode = 'WRONG_GENESIS' | 'NOT_HEAD_CHILD' | 'CORRUPT' | 'PRUNED' | 'ACTIVITY_INDEX_OFF'

/** The chain store refuses a write that does not extend its head, or finds its own data broken. */
export class ChainStoreError extends XscError<Record<ChainStoreErrorCode, {}>> {}

export type MempoolErrorPayloads = {
  MEMPOOL_FULL: {}
  ALREADY_KNOWN: { txId: string }
  NONCE_GAP: {}
  SENDER_QUEUE_FULL: {}
  /** The nonce is taken by pending tx `txId` paying `fee`; `expected` is the sender's next free nonce. */
  REPLACEMENT_UNDERPRICED: { txId: string; fee: string; expected: number }
}
export type MempoolErrorCode = keyof MempoolErrorPayloads

/** A pool limit, not a fault of the tx: gossip IGNOREs these (the default verdict). */
export class MempoolError extends XscError<MempoolErrorPayloads> {}

export type ReceiptErrorCode = 'UNKNOWN_EXECUTION' | 'NOT_ASSIGNED' | 'BAD_SIGNATURE' | 'WRONG_CHAIN' | 'WRITE_SET_MISMATCH' | 'DUPLICATE' | 'SETTLED'

/** A host's receipt the pool will not hold. */
export class ReceiptError extends XscError<Record<ReceiptErrorCode, {}>> {}
