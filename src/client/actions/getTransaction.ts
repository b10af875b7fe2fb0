import type { Hash } from '../../../blocks/schema.ts'
import type { TransactionView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'

export interface GetTransactionParameters { id: Hash }
export type GetTransactionReturnType = TransactionView | null

export async function getTransaction(client: Client, params: GetTransactionParameters): Promise<GetTransactionReturnType> {
  return (await client.request('xsc_getTransaction', [params.id])) ?? null
}
