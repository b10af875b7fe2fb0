export { computeTreeUpdate, type TreeUpdate } from './computeTreeUpdate.ts'
export { StateTreeError, type StateTreeErrorPayloads } from './errors.ts'
export { MemoryTreeNodes } from './MemoryTreeNodes.ts'
export {
  bigIntToPath, type BoundaryNode, ChunkLeaf, ChunkProofItem, computeStateChunk, MAX_PATH, MIN_PATH, pathToBigInt, type ReadTreeNode,
  resolveBoundaryNodes, STATE_CHUNK_BYTES, StateChunk, unresolvedChildren, type VerifiedChunk, verifyStateChunk,
} from './stateChunk.ts'
export { computeStateProof, MAX_PROOF_DEPTH, MAX_PROOF_KEYS, StateProof, StateProofAnswer, verifyStateProof } from './stateProof.ts'
export { computeKeyPath, decodeTreeNode, EMPTY_TREE_ROOT, type TreeNode, type TreeNodeReader, type TreeNodeWrite } from './treeNode.ts'
export { decodeTreePage, encodeTreePage, PAGE_LEVELS, type TreePage } from './treePage.ts'
