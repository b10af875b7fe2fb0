import type { Hash } from '../../../blocks/schema.ts'
import type { TransactionStatusView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'

export interface GetTransactionStatusParameters { id: Hash }
/** `included` with its block, `dropped` with the node's reason (code, message, height), or null when the node knows nothing of it (or it is still pending). */
export type GetTransactionStatusReturnType = TransactionStatusView | null

export async function getTransactionStatus(client: Client, params: GetTransactionStatusParameters): Promise<GetTransactionStatusReturnType> {
  return (await client.request('xsc_getTransaction', [params.id])) ?? null
}
