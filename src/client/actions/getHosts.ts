import type { HostSummary } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface GetHostsParameters { offset?: number; limit?: number }
export type GetHostsReturnType = HostSummary[]

export function getHosts(client: Client, params: GetHostsParameters = {}): Promise<GetHostsReturnType> {
  return client.request('xsc_getHosts', [params.offset, params.limit])
}
