import type { Hash } from '../../../blocks/schema.ts'
import type { BlockView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'

export type GetBlockParameters = ({ height: number } | { hash: Hash }) & { includeEntries?: boolean }
export type GetBlockReturnType = BlockView | null

/** A block by height or hash; entries only with `includeEntries`, entry ids always; a block whose body the node pruned comes back as its header with `pruned: true`. */
export async function getBlock(client: Client, params: GetBlockParameters): Promise<GetBlockReturnType> {
  const full = params.includeEntries === true
  const block = 'height' in params
    ? await client.request('xsc_getBlockByHeight', [params.height, full])
    : await client.request('xsc_getBlockByHash', [params.hash, full])
  return block ?? null
}
