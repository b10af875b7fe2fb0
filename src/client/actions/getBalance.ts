import type { Address } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'

export interface GetBalanceParameters { address: Address }
export type GetBalanceReturnType = bigint

export function getBalance(client: Client, params: GetBalanceParameters): Promise<GetBalanceReturnType> {
  return client.request('xsc_getBalance', [params.address])
}
