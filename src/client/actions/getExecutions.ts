import type { Address, Hash } from '../../../blocks/schema.ts'
import type { ExecutionListItem, Listed } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export type GetExecutionsParameters = ({ asset: Hash; sender?: undefined } | { sender: Address; asset?: undefined }) & { cursor?: string; limit?: number }
export type GetExecutionsReturnType = Listed<ExecutionListItem>

/** One page of the executions of an asset or by a sender, newest first; pass `nextCursor` back for the next page. */
export function getExecutions(client: Client, p: GetExecutionsParameters): Promise<GetExecutionsReturnType> {
  return client.request('xsc_getExecutions', [{ asset: p.asset, sender: p.sender }, p.cursor, p.limit])
}
