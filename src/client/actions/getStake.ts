import type { Address } from '../../../blocks/schema.ts'
import type { StakeInfo } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface GetStakeParameters { address: Address }
export type GetStakeReturnType = StakeInfo

/** Bonded stake, unbonding funds with their release heights, and the slash tombstone of an address. */
export function getStake(client: Client, params: GetStakeParameters): Promise<GetStakeReturnType> {
  return client.request('xsc_getStake', [params.address])
}
