import type { Address } from '../../../blocks/schema.ts'
import type { HostInfo } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface GetHostParameters { address: Address }
export type GetHostReturnType = HostInfo | null

export async function getHost(client: Client, params: GetHostParameters): Promise<GetHostReturnType> {
  return (await client.request('xsc_getHost', [params.address])) ?? null
}
