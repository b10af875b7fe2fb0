import type { Hash } from '../../../blocks/schema.ts'
import type { TransactionView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'
import { getTransactionStatus } from './getTransactionStatus.ts'

export interface GetTransactionParameters { id: Hash }
export type GetTransactionReturnType = TransactionView | null

/** The tx and where it is once it is in a block; null otherwise (see getTransactionStatus for why a tx was dropped). */
export async function getTransaction(client: Client, params: GetTransactionParameters): Promise<GetTransactionReturnType> {
  const found = await getTransactionStatus(client, params)
  if (found === null || found.status !== 'included') return null
  const { status: _status, ...included } = found
  return included
}
