import type { Hash } from '../../../blocks/schema.ts'
import type { TransactionView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'
import { getTransaction } from './getTransaction.ts'

export interface WaitForTransactionParameters { id: Hash; timeoutMs?: number; pollMs?: number }
export type WaitForTransactionReturnType = TransactionView

/** Polls until the tx is in a block (works over HTTP and WebSocket). */
export async function waitForTransaction(client: Client, p: WaitForTransactionParameters): Promise<WaitForTransactionReturnType> {
  const deadline = Date.now() + (p.timeoutMs ?? 60_000)
  for (;;) {
    const found = await getTransaction(client, { id: p.id })
    if (found !== null) return found
    if (Date.now() > deadline) throw new RpcClientError('TIMEOUT', 'transaction not included before the timeout', { id: p.id })
    await new Promise((r) => setTimeout(r, p.pollMs ?? 250))
  }
}
