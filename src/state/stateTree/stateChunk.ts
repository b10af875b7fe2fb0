import { bool, bytes, bytes32, type Infer, list, struct, union } from '../../../blocks/codec.ts'
import { bytesKey, equalBytes, hash, toHex } from '../../crypto/index.ts'
import { StateTreeError } from './errors.ts'
import {
  computeInternalHash, computeKeyPath, computeLeafHash, decodeTreeNode, EMPTY_REF, encodeInternal, encodeLeaf, isEmptyRef,
  type TreeNodeWrite, type TreeRef,
} from './treeNode.ts'
import { decodeTreePage } from './treePage.ts'

/**
 * State-sync chunks: a contiguous range [start, end] of the tree's leaf paths at one root, with
 * a range proof that makes the chunk checkable against that root on its own.
 *
 * The proof lists, in depth-first order (left before right), what the verifier cannot rebuild
 * from the chunk's leaves: for each tree position whose path range lies wholly outside
 * [start, end] its hash (`hash`), and for each position that straddles a boundary what sits
 * there (`internal`, then its two children; `leaf` with its path and value hash; `empty`).
 * Positions wholly inside the range are rebuilt from the leaves (the tree's shape depends only
 * on its key set). The rebuilt root must equal the state root, so a chunk with a changed, dropped
 * or extra leaf, or a range claimed complete that is not, does not verify.
 */

const PATH_BITS = 256
export const MIN_PATH = 0n
export const MAX_PATH = (1n << BigInt(PATH_BITS)) - 1n
/** The budget an honest server fills a chunk to (at least one leaf whatever its size). */
export const STATE_CHUNK_BYTES = 1 << 20
/** Proof items of one chunk: two boundary paths of at most 256 levels, two items per level. */
export const MAX_CHUNK_PROOF_ITEMS = 4 * PATH_BITS + 8
export const MAX_CHUNK_LEAVES = 1 << 16

export const ChunkProofItem = union('ChunkProofItem', {
  hash: { tag: 0, codec: struct('ChunkProofHash', { hash: bytes32 }) },
  internal: { tag: 1, codec: struct('ChunkProofInternal', {}) },
  leaf: { tag: 2, codec: struct('ChunkProofLeaf', { path: bytes32, valueHash: bytes32 }) },
  empty: { tag: 3, codec: struct('ChunkProofEmpty', {}) },
})
export type ChunkProofItem = Infer<typeof ChunkProofItem>

export const ChunkLeaf = struct('ChunkLeaf', { key: bytes({ max: 1024 }), value: bytes({ max: 1 << 24 }) })
export type ChunkLeaf = Infer<typeof ChunkLeaf>

/** `end` is the last path the chunk covers (inclusive); `last` when it is the range's limit. */
export const StateChunk = struct('StateChunk', {
  start: bytes32,
  end: bytes32,
  last: bool,
  leaves: list(ChunkLeaf, MAX_CHUNK_LEAVES),
  proof: list(ChunkProofItem, MAX_CHUNK_PROOF_ITEMS),
})
export type StateChunk = Infer<typeof StateChunk>

export const pathToBigInt = (path: Uint8Array): bigint => BigInt(toHex(path))
export function bigIntToPath(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  let v = n
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** The path range [lo, hi] of the tree position at `depth` whose path starts with `prefix` (depth bits). */
function positionRange(depth: number, prefix: bigint): [bigint, bigint] {
  const shift = BigInt(PATH_BITS - depth)
  const lo = prefix << shift
  return [lo, lo + (1n << shift) - 1n]
}

/**
 * Reads what is stored under a hash (async: the server reads from disk without filling the block
 * cache): a node, or a whole tree page (treePage.ts), which reads as its root node.
 */
export type ReadTreeNode = (hash: Uint8Array) => Promise<Uint8Array | undefined>


/**
 * A walk's reader: it keeps the nodes of every page it read, so the nodes below a page root (not
 * stored under their own hash) are found once the walk from the root has crossed it.
 */
function walkReader(read: ReadTreeNode) {
  const known = new Map<string, Uint8Array>()
  return async (ref: TreeRef) => {
    let bytes = known.get(bytesKey(ref.hash))
    if (bytes === undefined) {
      const stored = await read(ref.hash)
      if (stored === undefined) throw new StateTreeError('CORRUPT_NODE', 'a state tree node is missing', { hash: Buffer.from(ref.hash).toString('hex') })
      for (const n of decodeTreePage(ref.hash, stored).nodes) known.set(bytesKey(n.hash), n.bytes)
      bytes = known.get(bytesKey(ref.hash))!
    }
    return decodeTreeNode(ref.hash, bytes)
  }
}

/**
 * The chunk of the tree at `root` from path `start` up to path `limit` (inclusive): leaves in
 * path order until `maxBytes` (at least one leaf), then the range proof. Pure but for `read`.
 */
export async function computeStateChunk(read: ReadTreeNode, root: Uint8Array, start: bigint, limit: bigint, maxBytes = STATE_CHUNK_BYTES): Promise<StateChunk> {
  const readNode = walkReader(read)
  const leaves: { path: bigint; key: Uint8Array; value: Uint8Array }[] = []
  let bytesTaken = 0
  let full = false
  // In-order walk from `start`; stops at the first leaf that would pass the budget.
  const collect = async (ref: TreeRef, depth: number, prefix: bigint): Promise<void> => {
    if (full || isEmptyRef(ref)) return
    const [lo, hi] = positionRange(depth, prefix)
    if (hi < start || lo > limit) return
    const node = await readNode(ref)
    if (node.kind === 'leaf') {
      const path = pathToBigInt(node.path)
      if (path < start || path > limit) return
      const size = node.key.length + node.value.length + 8
      if (leaves.length > 0 && (bytesTaken + size > maxBytes || leaves.length >= MAX_CHUNK_LEAVES)) {
        full = true
        return
      }
      bytesTaken += size
      leaves.push({ path, key: new Uint8Array(node.key), value: new Uint8Array(node.value) })
      return
    }
    await collect(node.left, depth + 1, prefix << 1n)
    await collect(node.right, depth + 1, (prefix << 1n) | 1n)
  }
  await collect({ hash: root, leaf: false }, 0, 0n)
  const end = full ? leaves[leaves.length - 1]!.path : limit
  const proof: ChunkProofItem[] = []
  const prove = async (ref: TreeRef, depth: number, prefix: bigint): Promise<void> => {
    const [lo, hi] = positionRange(depth, prefix)
    if (lo >= start && hi <= end) return
    if (hi < start || lo > end) {
      proof.push({ type: 'hash', hash: new Uint8Array(ref.hash) })
      return
    }
    if (isEmptyRef(ref)) {
      proof.push({ type: 'empty' })
      return
    }
    const node = await readNode(ref)
    if (node.kind === 'leaf') {
      proof.push({ type: 'leaf', path: new Uint8Array(node.path), valueHash: new Uint8Array(node.valueHash) })
      return
    }
    proof.push({ type: 'internal' })
    await prove(node.left, depth + 1, prefix << 1n)
    await prove(node.right, depth + 1, (prefix << 1n) | 1n)
  }
  await prove({ hash: root, leaf: false }, 0, 0n)
  return { start: bigIntToPath(start), end: bigIntToPath(end), last: !full, leaves: leaves.map(({ key, value }) => ({ key, value })), proof }
}

/**
 * An internal node on a chunk's boundary: its children as the proof gave them. A child given
 * only by hash may be a leaf; which it is, is known once the chunk holding it is in
 * (`resolveBoundaryNodes`), so these nodes are stored last.
 */
export interface BoundaryNode { hash: Uint8Array; left: TreeRef & { known: boolean }; right: TreeRef & { known: boolean } }

export interface VerifiedChunk {
  /** The chunk's (key, value) pairs, in path order. */
  leaves: ChunkLeaf[]
  /** Tree nodes wholly inside the range (with their leaves), ready to store. */
  nodes: TreeNodeWrite[]
  boundary: BoundaryNode[]
}

/**
 * Checks `chunk` against `root` for the range starting at `start` and ending at most at `limit`,
 * and returns what to store. Throws StateTreeError BAD_PROOF saying why it does not verify. Pure.
 */
export function verifyStateChunk(root: Uint8Array, chunk: StateChunk, start: bigint, limit: bigint): VerifiedChunk {
  const fail: (reason: string) => never = (reason) => {
    throw new StateTreeError('BAD_PROOF', `state chunk: ${reason}`, { reason })
  }
  if (pathToBigInt(chunk.start) !== start) fail('it starts elsewhere than asked')
  const end = pathToBigInt(chunk.end)
  if (end < start || end > limit) fail('its end is outside the asked range')
  if (chunk.last !== (end === limit)) fail('it says last but does not reach the limit (or the other way)')
  if (!chunk.last && chunk.leaves.length === 0) fail('a chunk that is not the last brings no leaf')
  const items = chunk.leaves.map((l) => {
    const path = computeKeyPath(l.key)
    return { path, at: pathToBigInt(path), key: l.key, value: l.value }
  })
  for (let i = 0; i < items.length; i++) {
    const at = items[i]!.at
    if (at < start || at > end) fail('a leaf lies outside the range')
    if (i > 0 && at <= items[i - 1]!.at) fail('leaves are not in strictly increasing path order')
  }
  const nodes: TreeNodeWrite[] = []
  const boundary: BoundaryNode[] = []
  let next = 0
  // Leaves with lo <= path <= hi, as an index range (items are sorted).
  const firstAtLeast = (bound: bigint): number => {
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (items[mid]!.at < bound) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const leavesIn = (lo: bigint, hi: bigint): [number, number] => [firstAtLeast(lo), firstAtLeast(hi + 1n)]
  const build = (depth: number, from: number, to: number): TreeRef => {
    if (from === to) return EMPTY_REF
    if (to - from === 1) {
      const it = items[from]!
      const node = encodeLeaf(it.path, hash(it.value), it.key, it.value)
      nodes.push(node)
      return { hash: node.hash, leaf: true }
    }
    if (depth >= PATH_BITS) fail('two leaves share a path')
    let split = from
    while (split < to && ((items[split]!.at >> BigInt(PATH_BITS - 1 - depth)) & 1n) === 0n) split++
    const left = build(depth + 1, from, split)
    const right = build(depth + 1, split, to)
    if (isEmptyRef(left) && right.leaf) return right
    if (isEmptyRef(right) && left.leaf) return left
    const node = encodeInternal(left, right)
    nodes.push(node)
    return { hash: node.hash, leaf: false }
  }
  const rebuild = (depth: number, prefix: bigint): TreeRef & { known: boolean } => {
    const [lo, hi] = positionRange(depth, prefix)
    if (lo >= start && hi <= end) return { ...build(depth, ...leavesIn(lo, hi)), known: true }
    const item = chunk.proof[next++] ?? fail('the proof ends early')
    if (hi < start || lo > end) {
      if (item.type !== 'hash') return fail('a position outside the range is not given by its hash')
      return { hash: item.hash, leaf: false, known: false }
    }
    const [a, b] = leavesIn(lo, hi)
    switch (item.type) {
      case 'hash':
        return fail('a position straddling the range is given only by its hash')
      case 'empty':
        if (a !== b) fail('an empty position holds leaves of the chunk')
        return { ...EMPTY_REF, known: true }
      case 'leaf': {
        const at = pathToBigInt(item.path)
        if (at < lo || at > hi) fail('a boundary leaf does not sit at its position')
        if (at >= start && at <= end) {
          if (b - a !== 1 || items[a]!.at !== at || !equalBytes(hash(items[a]!.value), item.valueHash)) fail('a boundary leaf inside the range does not match the chunk')
          const it = items[a]!
          nodes.push(encodeLeaf(it.path, item.valueHash, it.key, it.value))
        } else if (a !== b) fail('a position holding one outside leaf also holds leaves of the chunk')
        return { hash: computeLeafHash(item.path, item.valueHash), leaf: true, known: true }
      }
      case 'internal': {
        if (depth >= PATH_BITS - 1) fail('the proof is too deep')
        const left = rebuild(depth + 1, prefix << 1n)
        const right = rebuild(depth + 1, (prefix << 1n) | 1n)
        const node = { hash: computeInternalHash(left.hash, right.hash), left, right }
        boundary.push(node)
        return { hash: node.hash, leaf: false, known: true }
      }
    }
  }
  const rebuilt = rebuild(0, 0n)
  if (next !== chunk.proof.length) fail('the proof has items left over')
  if (!equalBytes(rebuilt.hash, root)) fail('it does not reach the state root')
  return { leaves: items.map(({ key, value }) => ({ key, value })), nodes, boundary }
}

/** The children of boundary nodes given only by hash: whose kind `resolveBoundaryNodes` needs. */
export function unresolvedChildren(boundary: readonly BoundaryNode[]): Uint8Array[] {
  const internal = new Set(boundary.map((n) => toHex(n.hash)))
  const out: Uint8Array[] = []
  for (const n of boundary) for (const c of [n.left, n.right]) if (!c.known && !isEmptyRef(c) && !internal.has(toHex(c.hash))) out.push(c.hash)
  return out
}

/**
 * The stored form of boundary nodes once every chunk is in: a child given only by hash is a
 * leaf or not as its stored node says (`kindOf`: undefined when it was never stored, which means
 * the chunks do not cover the tree). Pure.
 */
export function resolveBoundaryNodes(boundary: readonly BoundaryNode[], kindOf: (hash: Uint8Array) => 'leaf' | 'internal' | undefined): TreeNodeWrite[] {
  const internal = new Set(boundary.map((n) => toHex(n.hash)))
  const child = (ref: BoundaryNode['left']): TreeRef => {
    if (ref.known || isEmptyRef(ref)) return { hash: ref.hash, leaf: ref.leaf }
    const kind = internal.has(toHex(ref.hash)) ? 'internal' : kindOf(ref.hash) ?? (() => { throw new StateTreeError('BAD_PROOF', 'state sync: a subtree no chunk brought', { reason: `missing ${toHex(ref.hash)}` }) })()
    return { hash: ref.hash, leaf: kind === 'leaf' }
  }
  return boundary.map((n) => encodeInternal(child(n.left), child(n.right)))
}
