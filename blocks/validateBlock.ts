import { equalBytes, toHex } from '../src/crypto/index.ts'
import { BlockError } from './errors.ts'
import { computeBodyRoot, txId } from './ids.ts'
import { type Block, type BlockHeader, ENTRY_TYPE_OF_KIND, LIMITS } from './schema.ts'

/** Checks that need only the block: entry kinds, non-empty body, body root, no tx twice. */
export function validateBlockStructure(block: Block, chainId: string): void {
  const { header, entries } = block
  if (header.chainId !== chainId) throw new BlockError('WRONG_CHAIN', `block is for chain ${header.chainId}`, { got: header.chainId, expected: chainId })
  const entryType = ENTRY_TYPE_OF_KIND[header.kind]
  // Empty ledger blocks are heartbeats (time and finality advance); other kinds exist only for their entries.
  if (header.kind !== 'genesis' && header.kind !== 'ledger' && entries.length === 0) throw new BlockError('EMPTY_BLOCK', `${header.kind} block has no entries`)
  const seen = new Set<string>()
  let offences = 0
  // Host heartbeats ride as the first entry of any block that is not genesis or audit; a kind other than ledger still needs its own entries.
  const liveness = entries[0]?.type === 'liveness' && header.kind !== 'genesis' && header.kind !== 'audit' ? 1 : 0
  if (liveness === 1 && header.kind !== 'ledger' && entries.length === 1) throw new BlockError('EMPTY_BLOCK', `${header.kind} block has no ${entryType} entries`)
  for (let i = liveness; i < entries.length; i++) {
    const e = entries[i]!
    // Evidence rides in ledger blocks, before their txs, a bounded number per block.
    if (e.type === 'evidence' && header.kind === 'ledger' && i === offences + liveness) {
      if (++offences > LIMITS.offencesPerBlock) throw new BlockError('WRONG_ENTRY_KIND', `more than ${LIMITS.offencesPerBlock} evidence entries`, { index: i })
      continue
    }
    if (e.type !== entryType) throw new BlockError('WRONG_ENTRY_KIND', `${header.kind} block holds a ${e.type} entry at ${i}`, { index: i })
    if ('tx' in e) {
      const id = toHex(txId(e.tx))
      if (seen.has(id)) throw new BlockError('DUPLICATE_TX', `tx ${id} appears twice`, { txId: id })
      seen.add(id)
    }
  }
  const root = computeBodyRoot(entries)
  if (!equalBytes(root, header.bodyRoot)) throw new BlockError('BAD_BODY_ROOT', 'body root does not match the entries', { got: toHex(header.bodyRoot), expected: toHex(root) })
}

/**
 * Checks against the parent header: linkage, height, time order. A block's timestamp is strictly
 * after its parent's (so its slot is not before the parent's); two blocks may share a slot.
 */
export function validateBlockParent(header: BlockHeader, parent: BlockHeader, parentHash: Uint8Array): void {
  if (!equalBytes(header.prevHash, parentHash)) throw new BlockError('WRONG_PARENT', 'prevHash is not the parent', { got: toHex(header.prevHash), expected: toHex(parentHash) })
  if (header.height !== parent.height + 1) throw new BlockError('WRONG_HEIGHT', `height ${header.height} after ${parent.height}`, { got: header.height, expected: parent.height + 1 })
  if (header.timestamp <= parent.timestamp && parent.height !== 0) {
    throw new BlockError('TIMESTAMP_NOT_AFTER_PARENT', `timestamp ${header.timestamp} is not after the parent's ${parent.timestamp}`, { got: Number(header.timestamp), parent: Number(parent.timestamp) })
  }
}

