import type { Hash } from '../../../blocks/schema.ts'
import type { QueryResult } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface QueryParameters { asset: Hash; fn: string; input?: Uint8Array; fuelLimit?: bigint }
export type QueryReturnType = QueryResult

/** Read-only call on the node (no tx, no fee, writes discarded); the answer names the block whose state it read. */
export function query(client: Client, p: QueryParameters): Promise<QueryReturnType> {
  return client.request('xsc_query', [{ asset: p.asset, fn: p.fn, input: p.input ?? new Uint8Array(0), fuelLimit: p.fuelLimit }])
}
