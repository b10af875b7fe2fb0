import type { Address } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'

export interface GetNonceParameters { address: Address }
export type GetNonceReturnType = number

/** The nonce the account's next tx must carry. */
export function getNonce(client: Client, params: GetNonceParameters): Promise<GetNonceReturnType> {
  return client.request('xsc_getNonce', [params.address])
}
