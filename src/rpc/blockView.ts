import { entryHash, txId } from '../../blocks/ids.ts'
import type { BlockEntry } from '../../blocks/schema.ts'
import { toHex } from '../crypto/bytes.ts'
import type * as B from './backend.ts'
import type * as F from './formats.ts'

/** Entry ids in a block view: the tx id for tx-carrying entries, the execution id for completions, else the entry's leaf hash. */
export function computeEntryId(entry: BlockEntry): Uint8Array {
  switch (entry.type) {
    case 'tx':
    case 'deployment':
    case 'execution':
      return txId(entry.tx)
    case 'completion':
      return entry.executionId
    default:
      return entryHash(entry)
  }
}

/** Entry ids cost a hash of each entry's tx; blocks are immutable, so they are kept per block hash (bounded LRU). */
const ENTRY_ID_CACHE_BLOCKS = 1024
const entryIdCache = new Map<string, Uint8Array[]>()

function computeEntryIds(stored: B.StoredBlock): Uint8Array[] {
  if (stored.entryIds !== undefined) return stored.entryIds
  const key = toHex(stored.hash)
  let ids = entryIdCache.get(key)
  if (ids !== undefined) {
    entryIdCache.delete(key)
    entryIdCache.set(key, ids)
    return ids
  }
  ids = stored.block.entries.map(computeEntryId)
  if (entryIdCache.size >= ENTRY_ID_CACHE_BLOCKS) entryIdCache.delete(entryIdCache.keys().next().value as string)
  entryIdCache.set(key, ids)
  return ids
}

/** A stored block as the RPC shows it: header, entry ids, and the entries when `full` and not pruned. */
export function toBlockView(stored: B.StoredBlock, full: boolean): F.BlockView {
  return {
    hash: stored.hash,
    header: stored.block.header,
    entryIds: computeEntryIds(stored),
    entries: full && stored.pruned !== true ? stored.block.entries : undefined,
    pruned: stored.pruned === true ? true : undefined,
  }
}
