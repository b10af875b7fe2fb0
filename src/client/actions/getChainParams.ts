import type { ChainParamsInfo } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export type GetChainParamsReturnType = ChainParamsInfo

/** The chain's genesis parameters (token, slot length, erasure coding, limits, consensus); they never change, so callers may cache them. */
export function getChainParams(client: Client): Promise<GetChainParamsReturnType> {
  return client.request('xsc_getChainParams', [])
}
