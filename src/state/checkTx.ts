import { txSigningHash } from '../../blocks/ids.ts'
import type { ChainParams, ExecutePayload, SignedTx } from '../../blocks/schema.ts'
import { isValidPublicKey, toHex, verify } from '../crypto/index.ts'
import { findPlacementConstraintError } from '../router/index.ts'
import { isExistingAccount, readAccount } from './accounts.ts'
import { StateError } from './errors.ts'
import { computeRequiredFee, computeTxSize, type FeeParams } from './fees.ts'
import { computeEscrow } from './market/index.ts'
import type { Account } from './records.ts'
import type { StateReader } from './stateView.ts'
import { computeHostBond } from './unbonding.ts'

/**
 * The stateless checks of a tx: chain id, sender key, signature. Shared by the mempool and block
 * import so both reject the same txs with the same codes.
 */
export function verifyTxSignature(tx: SignedTx, chainId: string, opts: { signatureChecked?: boolean } = {}): void {
  if (tx.body.chainId !== chainId) throw new StateError('WRONG_CHAIN', `tx is for chain ${tx.body.chainId}, this is ${chainId}`, { got: tx.body.chainId, expected: chainId })
  if (!isValidPublicKey(tx.body.from)) throw new StateError('INVALID_KEY', 'sender is not a valid ed25519 public key (small-order or non-canonical)', { from: toHex(tx.body.from) })
  // The import pipeline checks signatures of a whole block in parallel and says so here.
  if (opts.signatureChecked) return
  if (!verify(tx.body.from, txSigningHash(tx.body), tx.signature)) throw new StateError('BAD_SIGNATURE', 'signature does not verify', { from: toHex(tx.body.from) })
}

/**
 * Everything a tx can move out of the sender's balance when it applies: the fee plus the value it
 * carries (transfer amount, stake, storage deposit, execution escrow). Admission checks this whole
 * figure, so a tx the mempool holds can always pay for itself when it reaches a block.
 */
export function computeTxCost(tx: SignedTx, params: ChainParams): bigint {
  const p = tx.body.payload
  switch (p.type) {
    case 'transfer':
    case 'stake':
      return tx.body.fee + p.amount
    case 'deploy':
      return tx.body.fee + p.deposit
    case 'asset.extend':
      return tx.body.fee + p.amount
    case 'host.join':
      return tx.body.fee + computeHostBond(p.host.capacityBytes, params)
    case 'execute':
      return tx.body.fee + computeExecuteEscrow(p, params)
    default:
      return tx.body.fee
  }
}

function computeExecuteEscrow(p: ExecutePayload, params: ChainParams): bigint {
  try {
    return computeEscrow({ fuelLimit: p.fuelLimit, bidPerFuel: p.bidPerFuel, replicas: p.replicas, private: p.private }, params)
  } catch (cause) {
    // Only a malformed request (replicas out of range, an escrow beyond u128) has no escrow.
    throw new StateError('INVALID_TX', `execute: no escrow for this request: ${(cause as Error).message}`, { field: 'escrow' }, { cause })
  }
}

/** What a tx is checked against besides the state: the base fee, and for a queued tx its place in the sender's queue. */
export interface TxCheckOpts {
  /** The base fee per byte of the block the tx is for (the next block, at admission). */
  baseFee: bigint
  expectedNonce?: number | undefined
  /** The cost of the sender's txs queued before this one. */
  alreadyCommitted?: bigint | undefined
  /** The sender's account, when the caller read it already (a read decodes the row again). */
  sender?: Account | undefined
}

/** Refuses a fee below size × (base fee + minFeePerByte), naming the fee required. */
export function checkTxFee(tx: SignedTx, baseFee: bigint, params: FeeParams): void {
  const size = computeTxSize(tx)
  const required = computeRequiredFee(size, baseFee, params)
  if (tx.body.fee < required) {
    throw new StateError('FEE_TOO_LOW', `fee ${tx.body.fee} is below the required ${required} (${size} bytes × (base fee ${baseFee} + min ${params.minFeePerByte}))`, { fee: tx.body.fee.toString(), required: required.toString(), baseFee: baseFee.toString(), size })
  }
}

/**
 * Fee, nonce and balance against state. The balance must cover the tx's full cost and leave
 * the existential deposit (an account's own tx never takes it below that: docs/economics.md).
 */
export function checkTxAgainstState(state: StateReader, tx: SignedTx, params: ChainParams, opts: TxCheckOpts): void {
  checkTxFee(tx, opts.baseFee, params)
  const acc = opts.sender ?? readAccount(state, tx.body.from)
  const nonce = opts.expectedNonce ?? acc.nonce
  if (tx.body.nonce < nonce) throw new StateError('NONCE_TOO_LOW', `nonce ${tx.body.nonce} already used; next is ${nonce}`, { got: tx.body.nonce, expected: nonce })
  if (tx.body.nonce > nonce) throw new StateError('NONCE_TOO_HIGH', `nonce ${tx.body.nonce} is ahead; next is ${nonce}`, { got: tx.body.nonce, expected: nonce })
  const p = tx.body.payload
  const placement = p.type === 'deploy' || p.type === 'execute' ? findPlacementConstraintError(p) : undefined
  if (placement !== undefined) throw new StateError('INVALID_TX', `${p.type}: ${placement.field} ${placement.reason}`, { field: placement.field })
  const cost = computeTxCost(tx, params) + (opts.alreadyCommitted ?? 0n)
  const needed = cost + params.existentialDeposit
  if (acc.balance < needed) {
    throw new StateError('INSUFFICIENT_FUNDS', `insufficient funds for fee, value, deposit or escrow (and the sender's pending txs) plus the existential deposit ${params.existentialDeposit} the account keeps`, { balance: acc.balance.toString(), needed: needed.toString() })
  }
}

/** A transfer may not create an account with less than the existential deposit. */
export function checkAccountCreation(state: StateReader, to: Uint8Array, amount: bigint, params: ChainParams): void {
  if (amount >= params.existentialDeposit) return
  if (isExistingAccount(state, to)) return
  throw new StateError('BELOW_EXISTENTIAL_DEPOSIT', `a transfer of ${amount} would create account ${toHex(to)} below the existential deposit ${params.existentialDeposit}`, { address: toHex(to), amount: amount.toString(), required: params.existentialDeposit.toString() })
}

