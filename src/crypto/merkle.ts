import { equalBytes } from './bytes.ts'
import { hash, hashParts } from './hash.ts'

/**
 * Binary Merkle tree over 32-byte leaf hashes, domain-separated (leaf 0x00, node 0x01) so a
 * node can never be passed off as a leaf. An odd node is carried up unchanged (no duplication,
 * which is what made Bitcoin's tree ambiguous). The empty tree's root is sha256 of nothing.
 */
const LEAF = new Uint8Array([0])
const NODE = new Uint8Array([1])

export const EMPTY_ROOT = hash(new Uint8Array(0))

export function leafHash(data: Uint8Array): Uint8Array {
  return hashParts(LEAF, data)
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return hashParts(NODE, left, right)
}

/** Root over already-hashed leaves (use leafHash on raw data first). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT
  let level = leaves.slice()
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i]!, level[i + 1]!) : level[i]!)
    level = next
  }
  return level[0]!
}

/** Sibling path from leaf `index` to the root; a carried-up level contributes nothing. */
export function merkleProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError('leaf index out of range')
  const path: Uint8Array[] = []
  let level = leaves.slice()
  let i = index
  while (level.length > 1) {
    const sibling = i ^ 1
    if (sibling < level.length) path.push(level[sibling]!)
    const next: Uint8Array[] = []
    for (let j = 0; j < level.length; j += 2) next.push(j + 1 < level.length ? nodeHash(level[j]!, level[j + 1]!) : level[j]!)
    level = next
    i >>= 1
  }
  return path
}

export function verifyMerkleProof(root: Uint8Array, leaf: Uint8Array, index: number, leafCount: number, path: readonly Uint8Array[]): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= leafCount) return false
  let node = leaf
  let i = index
  let width = leafCount
  let p = 0
  while (width > 1) {
    const sibling = i ^ 1
    if (sibling < width) {
      const s = path[p++]
      if (s === undefined) return false
      node = (i & 1) === 0 ? nodeHash(node, s) : nodeHash(s, node)
    }
    i >>= 1
    width = (width + 1) >> 1
  }
  return p === path.length && equalBytes(node, root)
}
