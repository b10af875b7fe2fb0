import type { ChainParams, SignedTx } from '../../blocks/schema.ts'
import { readAccount } from '../state/accounts.ts'
import { checkAssetTarget } from '../state/applyAssetLifecycle.ts'
import { checkAccountCreation, checkTxAgainstState } from '../state/checkTx.ts'
import { StateError } from '../state/errors.ts'
import type { Account } from '../state/records.ts'
import type { StateReader } from '../state/stateView.ts'
import { MempoolError } from './errors.ts'

/** A tx the pool holds, as far as admission looks at it. */
export interface QueuedTx { tx: SignedTx; id: string; cost: bigint }

/** What the pool knows that a tx's admission depends on: its sender's queue (consecutive nonces) and the pool's limits. */
export interface AdmissionView<P extends QueuedTx> {
  queue: readonly P[]
  /** The summed cost of the sender's queued txs. */
  queuedCost: bigint
  poolSize: number
  maxSize: number
  maxQueuedPerSender: number
  /** Whether the asset the tx names (execute, extend) is a deploy pending in this pool. */
  targetsPendingDeploy: boolean
  /** The base fee per byte of the next block. */
  baseFee: bigint
}

/** What admission found: the queued tx this one replaces (same nonce, higher fee), the cost of the sender's other queued txs, its account. */
export interface Admission<P extends QueuedTx> { replaced: P | undefined; others: bigint; account: Account }

/**
 * Every admission check that does not need the signature, in the order geth's txpool and
 * CometBFT's CheckTx run them: nonce (used, or not the sender's next or a queued one), pool
 * limits, fee floor, balance for the full cost of the sender's queue, the asset named, the
 * recipient's existence. The caller verifies the signature only after these pass, so a tx that
 * can never enter the pool (unfunded sender, nonce far ahead, fee below the floor, a replay of an
 * included tx) costs a state read, not an ed25519 verify. None of these refusals is remembered:
 * a forged tx refused here cannot block the well-signed tx of the same sender and nonce.
 */
export function checkTxAdmission<P extends QueuedTx>(tx: SignedTx, state: StateReader, params: ChainParams, view: AdmissionView<P>): Admission<P> {
  const { queue } = view
  const account = readAccount(state, tx.body.from)
  const accountNonce = account.nonce
  if (tx.body.nonce < accountNonce) throw new StateError('NONCE_TOO_LOW', `nonce ${tx.body.nonce} already used; next is ${accountNonce + queue.length}`, { got: tx.body.nonce, expected: accountNonce + queue.length })
  // Queues hold consecutive nonces: the same nonce is found by its offset (a walk only if that misses).
  const atOffset = queue.length === 0 ? undefined : queue[tx.body.nonce - queue[0]!.tx.body.nonce]
  const replaced = atOffset?.tx.body.nonce === tx.body.nonce ? atOffset : queue.find((p) => p.tx.body.nonce === tx.body.nonce)
  if (replaced !== undefined) {
    if (tx.body.fee <= replaced.tx.body.fee) {
      // `expected` is the sender's next free nonce, for a client that meant a new tx rather than a replacement.
      throw new MempoolError('REPLACEMENT_UNDERPRICED', `nonce ${tx.body.nonce} is taken by pending tx ${replaced.id} with fee ${replaced.tx.body.fee}; a replacement needs a higher fee`, { txId: replaced.id, fee: replaced.tx.body.fee.toString(), expected: accountNonce + queue.length })
    }
  } else {
    if (view.poolSize >= view.maxSize) throw new MempoolError('MEMPOOL_FULL', `mempool holds ${view.maxSize} txs; retry later`)
    if (queue.length >= view.maxQueuedPerSender) throw new MempoolError('SENDER_QUEUE_FULL', `sender has ${queue.length} pending txs`)
  }
  // The whole queue must stay payable: this tx's cost plus every other pending tx of the sender.
  const others = replaced === undefined ? view.queuedCost : view.queuedCost - replaced.cost
  checkTxAgainstState(state, tx, params, { baseFee: view.baseFee, expectedNonce: replaced ? tx.body.nonce : accountNonce + queue.length, alreadyCommitted: others, sender: account })
  // An execute (or extend) may name an asset whose deploy is still pending here: a client sends
  // both at once. It waits in the pool until the deployment lands (chooseEntries keeps it).
  if (!view.targetsPendingDeploy) checkAssetTarget(state, tx)
  if (tx.body.payload.type === 'transfer') checkAccountCreation(state, tx.body.payload.to, tx.body.payload.amount, params)
  return { replaced, others, account }
}
