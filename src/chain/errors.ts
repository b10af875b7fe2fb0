import { type GossipVerdict, type Mismatch, XscError } from '../../blocks/errors.ts'

export type ForkChoiceErrorPayloads = {
  BELOW_FINALIZED: Mismatch<number>
  NOT_AN_ANCESTOR: { hash: string; height: number }
  /** A block of the competing branch failed to import: `badHash` is it (the cause says why). */
  BRANCH_INVALID: { badHash: string; height: number }
}
export type ForkChoiceErrorCode = keyof ForkChoiceErrorPayloads

/** A reorganisation that cannot be done. Only an invalid branch is the sender's fault. */
export class ForkChoiceError extends XscError<ForkChoiceErrorPayloads> {
  static override readonly verdicts: Record<ForkChoiceErrorCode, GossipVerdict> = {
    BELOW_FINALIZED: 'IGNORE', NOT_AN_ANCESTOR: 'IGNORE', BRANCH_INVALID: 'REJECT',
  }
}

export type DbErrorCode = 'LOCKED' | 'OPEN_FAILED' | 'CORRUPT'

/** The database could not be opened (`dir` names it) or holds bytes it never wrote. */
export class DbError extends XscError<{ LOCKED: { dir: string }; OPEN_FAILED: { dir: string }; CORRUPT: {} }> {}

export type ChainStoreErrorCode = 'WRONG_GENESIS' | 'NOT_HEAD_CHILD' | 'NOTHING_TO_REVERT' | 'CORRUPT'

/** The chain store refuses a write that does not extend or revert its head, or finds its own data broken. */
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
