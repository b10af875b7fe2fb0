import type { Address } from '../../../blocks/schema.ts'
import type { AssetListItem, Listed } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface ListAssetsParameters { owner: Address; cursor?: string; limit?: number }
export type ListAssetsReturnType = Listed<AssetListItem>

/** One page of an owner's assets, newest first; pass `nextCursor` back for the next page. */
export function listAssets(client: Client, p: ListAssetsParameters): Promise<ListAssetsReturnType> {
  return client.request('xsc_getAssets', [p.owner, p.cursor, p.limit])
}
