import type { ChainStatus } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export type GetChainStatusReturnType = ChainStatus

export function getChainStatus(client: Client): Promise<GetChainStatusReturnType> {
  return client.request('xsc_chainStatus', [])
}
