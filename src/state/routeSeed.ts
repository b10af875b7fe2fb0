import type { Hash } from '../../blocks/schema.ts'
import { hashParts } from '../crypto/index.ts'

/** The router's seed for a placement: the parent block hash and the subject (tx id), so it is fixed once the block's parent is. */
export function computeRouteSeed(prevHash: Hash, subject: Hash): Hash {
  return hashParts(prevHash, subject)
}
