import { type GossipVerdict, type Mismatch, XscError } from '../../blocks/errors.ts'
import type { MarketError } from './market/errors.ts'

export type StateErrorPayloads = {
  WRONG_CHAIN: Mismatch<string>
  /** `from` for a tx, `host` for a receipt; `index` is the tx's place in its block. */
  BAD_SIGNATURE: { from?: string; host?: string; index?: number }
  INVALID_KEY: { from?: string }
  NONCE_TOO_LOW: Mismatch<number>
  NONCE_TOO_HIGH: Mismatch<number>
  /** Amounts as decimal strings. */
  INSUFFICIENT_FUNDS: { address?: string; balance: string; needed: string }
  OVERFLOW: { address?: string }
  /** `field` names the offending field; a fuel limit above the maximum also says `code: 'FUEL_LIMIT_TOO_HIGH'`. */
  INVALID_TX: { field?: string; code?: 'FUEL_LIMIT_TOO_HIGH'; max?: string } | { needed: number; found: number }
  HOST_EXISTS: {}
  UNKNOWN_HOST: {}
  UNKNOWN_ASSET: { asset?: string }
  /** Only an asset's owner may delete it. */
  NOT_OWNER: { asset: string }
  UNKNOWN_EXECUTION: {}
  UNKNOWN_VALIDATOR: {}
  STAKE_TOO_LOW: {}
  WRONG_ENTRY_KIND: {}
  /** A validator's recomputation differs from the entry (`field`), or the market refused it (its payload). */
  ENTRY_MISMATCH: { field: string; got?: unknown; expected?: unknown } | MarketError['details'] | {}
  UNSUPPORTED: {}
  /** The fee is below size × (base fee + minFeePerByte); amounts as decimal strings. */
  FEE_TOO_LOW: { fee: string; required: string; baseFee: string; size: number }
  /** A transfer would create an account with less than the existential deposit. */
  BELOW_EXISTENTIAL_DEPOSIT: { address: string; amount: string; required: string }
  /** A validator slashed for equivocation (tombstoned) may not stake again. */
  SLASHED: {}
  /** A contradicting-receipt offence that cannot be judged or is no offence (`field` says why). */
  BAD_EVIDENCE: { field: string }
  /** A header's beacon reveal does not extend its proposer's hash chain, or reveals where none is live. */
  BAD_REVEAL: { proposer: string; reason: 'not-preimage' | 'missing' | 'unexpected' }
}
export type StateErrorCode = keyof StateErrorPayloads

/**
 * Why a tx or block does not apply to the state. Tx-level codes double as mempool rejections.
 * The verdicts are a loose tx's: REJECT only what is wrong in the bytes (bad signature, other
 * chain, malformed); a nonce, balance or registry problem depends on the receiver's state and an
 * honest peer may be a block ahead or behind us (IGNORE). In a block every code is REJECT (see
 * gossipVerdictOf): the block is checked against its parent's state, which all honest nodes share.
 */
export class StateError extends XscError<StateErrorPayloads> {
  // Same shape in every domain's errors.ts by design: each domain declares its own verdicts.
  static override readonly verdicts: Record<StateErrorCode, GossipVerdict> = {
    WRONG_CHAIN: 'REJECT', BAD_SIGNATURE: 'REJECT', INVALID_KEY: 'REJECT', NONCE_TOO_LOW: 'IGNORE',
    NONCE_TOO_HIGH: 'IGNORE', INSUFFICIENT_FUNDS: 'IGNORE', OVERFLOW: 'REJECT', INVALID_TX: 'REJECT',
    HOST_EXISTS: 'IGNORE', UNKNOWN_HOST: 'IGNORE', UNKNOWN_ASSET: 'IGNORE', NOT_OWNER: 'REJECT', UNKNOWN_EXECUTION: 'IGNORE',
    UNKNOWN_VALIDATOR: 'IGNORE', STAKE_TOO_LOW: 'IGNORE', WRONG_ENTRY_KIND: 'REJECT', ENTRY_MISMATCH: 'REJECT',
    UNSUPPORTED: 'REJECT', FEE_TOO_LOW: 'IGNORE', BELOW_EXISTENTIAL_DEPOSIT: 'IGNORE', SLASHED: 'IGNORE', BAD_EVIDENCE: 'REJECT',
    BAD_REVEAL: 'REJECT',
  }
}

/** A genesis description (JSON or file) that does not describe a valid genesis: `field` or `path` says where. */
export class GenesisError extends XscError<{ BAD_GENESIS: { field?: string; path?: string } }> {}
