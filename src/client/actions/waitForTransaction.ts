import type { Hash, SignedTx } from '../../../blocks/schema.ts'
import type { TransactionView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getTransaction } from './getTransaction.ts'
import { getTransactionStatus } from './getTransactionStatus.ts'
import { sendTransaction } from './sendTransaction.ts'

export interface WaitForTransactionParameters {
  id: Hash
  timeoutMs?: number
  pollMs?: number
  /**
   * The signed tx itself. With it, once `dropAfterBlocks` blocks passed without it, the wait
   * checks whether the node still holds it by offering it again: ALREADY_KNOWN means pending,
   * any refusal or a fresh acceptance means the node dropped it (a block builder removes txs
   * that can never apply, e.g. a deploy with no eligible hosts), and the wait fails with
   * DROPPED instead of running into its timeout.
   */
  tx?: SignedTx
  dropAfterBlocks?: number
  /** Called at each poll with the head height seen. */
  onPoll?(headHeight: number): void
}
export type WaitForTransactionReturnType = TransactionView

/** Polls until the tx is in a block (works over HTTP and WebSocket); fails with DROPPED, and the node's reason, once the node says it dropped it. */
export async function waitForTransaction(client: Client, p: WaitForTransactionParameters): Promise<WaitForTransactionReturnType> {
  const deadline = Date.now() + (p.timeoutMs ?? 60_000)
  const dropAfter = p.dropAfterBlocks ?? 3
  let since: number | undefined
  for (;;) {
    const found = await getTransactionStatus(client, { id: p.id })
    if (found?.status === 'dropped') {
      throw new RpcClientError('DROPPED', `transaction dropped by the node at height ${found.height}: ${found.message}`, { id: p.id, code: found.code, reason: found.message, height: found.height })
    }
    if (found !== null) {
      const { status: _status, ...included } = found
      return included
    }
    if (p.tx !== undefined || p.onPoll !== undefined) {
      const head = (await getChainStatus(client)).head.height
      p.onPoll?.(head)
      since ??= head
      if (p.tx !== undefined && head >= since + dropAfter) {
        const verdict = await probePending(client, p.tx, p.id)
        if (verdict === 'included') continue
        if (verdict !== 'pending') {
          throw new RpcClientError('DROPPED', `transaction left the node's mempool without being included after ${head - since} blocks${verdict.reason ? ` (resending it was refused: ${verdict.reason})` : ''}`, { id: p.id, blocks: head - since, ...(verdict.reason ? { reason: verdict.reason } : {}) })
        }
        since = head
      }
    }
    if (Date.now() > deadline) throw new RpcClientError('TIMEOUT', 'transaction not included before the timeout', { id: p.id })
    await new Promise((r) => setTimeout(r, p.pollMs ?? 250))
  }
}

/** Offers the tx again: what the node's answer says about the original. */
async function probePending(client: Client, tx: SignedTx, id: Hash): Promise<'pending' | 'included' | { reason: string | undefined }> {
  try {
    await sendTransaction(client, { tx })
    // Accepted as new: the node no longer held it (it stays re-queued; if it still cannot apply it is dropped again).
    return { reason: undefined }
  } catch (err) {
    if (!(err instanceof RpcClientError)) throw err
    if (err.code === 'ALREADY_KNOWN') return 'pending'
    if (err.code === 'TRANSPORT_FAILED' || err.code === 'TIMEOUT' || err.code === 'RATE_LIMITED' || err.code === 'UNAVAILABLE') return 'pending'
    // NONCE_TOO_LOW: the nonce was used, by this tx (included meanwhile) or by another one.
    if (err.code === 'NONCE_TOO_LOW' && (await getTransaction(client, { id })) !== null) return 'included'
    const reason = 'data' in err.details ? err.details.data.reason : undefined
    return { reason: typeof reason === 'string' ? reason : err.code }
  }
}
