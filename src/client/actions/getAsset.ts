import type { Hash } from '../../../blocks/schema.ts'
import type { AssetInfo } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface GetAssetParameters { id: Hash }
export type GetAssetReturnType = AssetInfo | null

export async function getAsset(client: Client, params: GetAssetParameters): Promise<GetAssetReturnType> {
  return (await client.request('xsc_getAsset', [params.id])) ?? null
}
