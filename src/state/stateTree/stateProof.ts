import { bytes, bytes32, type Infer, list, optional, struct } from '../../../blocks/codec.ts'
import { BlockHeader } from '../../../blocks/schema.ts'
import { equalBytes, hash, toHex } from '../../crypto/index.ts'
import { StateTreeError } from './errors.ts'
import {
  computeInternalHash, computeKeyPath, computeLeafHash, decodeTreeNode, EMPTY_TREE_ROOT, isEmptyRef,
  pathBit, type TreeNodeReader,
} from './treeNode.ts'

/** Deeper than any honest tree gets (sha256 paths of distinct keys share < 128 bits in practice). */
export const MAX_PROOF_DEPTH = 256

/**
 * A key's value (absent when the key is not in state) and the Merkle path that ties it to a state
 * root: the siblings from the root down, then where the path ends: a leaf (the key's own, or
 * another key's, which proves absence) or an empty subtree (`leaf` absent).
 */
export const StateProof = struct('StateProof', {
  key: bytes({ max: 1024 }),
  value: optional(bytes({ max: 1 << 24 })),
  siblings: list(bytes32, MAX_PROOF_DEPTH),
  leaf: optional(struct('ProofLeaf', { path: bytes32, valueHash: bytes32 })),
})
export type StateProof = Infer<typeof StateProof>

/** The proof of `key` in the tree at `root` (pure; NOT_LOADED when the path is not in the cache). */
export function computeStateProof(reader: TreeNodeReader, root: Uint8Array, key: Uint8Array): StateProof {
  const path = computeKeyPath(key)
  const siblings: Uint8Array[] = []
  let current = { hash: root, leaf: false }
  for (let depth = 0; ; depth++) {
    if (isEmptyRef(current)) return { key, value: undefined, siblings, leaf: undefined }
    const bytesOf = reader.node(current.hash)
    if (bytesOf === undefined) throw new StateTreeError('NOT_LOADED', 'state tree nodes not loaded', { root, keys: [key] })
    const node = decodeTreeNode(current.hash, bytesOf)
    if (node.kind === 'leaf') {
      const value = equalBytes(node.path, path) ? new Uint8Array(node.value) : undefined
      return { key, value, siblings, leaf: { path: new Uint8Array(node.path), valueHash: new Uint8Array(node.valueHash) } }
    }
    const bit = pathBit(path, depth)
    siblings.push(new Uint8Array(bit === 0 ? node.right.hash : node.left.hash))
    current = bit === 0 ? node.left : node.right
  }
}

/**
 * Checks that `proof` ties `proof.value` (or the key's absence) to `root`; throws
 * StateTreeError BAD_PROOF saying why not. Pure: what a light client runs against a header's
 * stateRoot.
 */
export function verifyStateProof(root: Uint8Array, proof: StateProof): void {
  const fail = (reason: string): never => {
    throw new StateTreeError('BAD_PROOF', `state proof of ${toHex(proof.key)}: ${reason}`, { key: toHex(proof.key), reason })
  }
  const path = computeKeyPath(proof.key)
  const depth = proof.siblings.length
  if (depth > MAX_PROOF_DEPTH) fail('too deep')
  let current: Uint8Array
  if (proof.leaf === undefined) {
    if (proof.value !== undefined) fail('a value needs its leaf')
    current = EMPTY_TREE_ROOT
  } else {
    const { path: leafPath, valueHash } = proof.leaf
    if (proof.value !== undefined) {
      if (!equalBytes(leafPath, path)) fail('the leaf is another key\'s')
      if (!equalBytes(valueHash, hash(proof.value))) fail('the value does not match its leaf')
    } else {
      if (equalBytes(leafPath, path)) fail('the leaf is the key\'s own, yet no value is given')
      if (!sharesPrefix(leafPath, path, depth)) fail('the leaf does not sit on the key\'s path')
    }
    current = computeLeafHash(leafPath, valueHash)
  }
  for (let d = depth - 1; d >= 0; d--) {
    const sibling = proof.siblings[d]!
    current = pathBit(path, d) === 0 ? computeInternalHash(current, sibling) : computeInternalHash(sibling, current)
  }
  if (!equalBytes(current, root)) fail('does not reach the state root')
}

function sharesPrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let d = 0; d < bits; d++) if (pathBit(a, d) !== pathBit(b, d)) return false
  return true
}

/** At most this many keys per proof request. */
export const MAX_PROOF_KEYS = 64

/** What a node answers to a proof request: the header whose stateRoot the proofs reach, and the proofs in the order asked. */
export const StateProofAnswer = struct('StateProofAnswer', { header: BlockHeader, proofs: list(StateProof, MAX_PROOF_KEYS) })
export type StateProofAnswer = Infer<typeof StateProofAnswer>
