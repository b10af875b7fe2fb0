import type { Hash } from '../../../blocks/schema.ts'
import type { AssetStatePage } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface QueryAssetStateParameters { asset: Hash; cursor?: Uint8Array; limit?: number }
export type QueryAssetStateReturnType = AssetStatePage

/** One page of an asset's key-value state (xsc_getAssetState); pass the page's `next` as `cursor` for the following one. */
export function queryAssetState(client: Client, p: QueryAssetStateParameters): Promise<QueryAssetStateReturnType> {
  return client.request('xsc_getAssetState', [p.asset, p.cursor, p.limit])
}
