// State-sync chunk benchmark: a state tree of N accounts (100k by default, 42-byte account-like
// values) held in memory; the whole tree is served as chunks over 16 ranges (computeStateChunk,
// ~1 MiB each) and every chunk verified as a joiner does (verifyStateChunk, which rebuilds the
// range's nodes), then the boundary nodes resolved. No network or disk: this is the CPU cost per
// key on each side and the proof overhead. Last line: one JSON object.
// Usage: npm run bench:state-sync [-- --keys 100000]
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'

import { encode } from '../../blocks/codec.ts'
import { hash, u32be } from '../../src/crypto/index.ts'
import {
  type BoundaryNode, ChunkProofItem, computeStateChunk, computeTreeUpdate, decodeTreeNode, EMPTY_TREE_ROOT, MAX_PATH, MemoryTreeNodes,
  pathToBigInt, resolveBoundaryNodes, StateChunk, verifyStateChunk,
} from '../../src/state/stateTree/index.ts'
import { round } from './support/stats.ts'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const KEYS = arg('keys', 100_000)
const RANGES = 16

const nodes = new MemoryTreeNodes()
let root = EMPTY_TREE_ROOT
const t0 = performance.now()
for (let from = 0; from < KEYS; from += 10_000) {
  const writes = []
  for (let i = from; i < Math.min(KEYS, from + 10_000); i++) writes.push({ key: new Uint8Array([1, ...hash(u32be(i))]), value: new Uint8Array(42).fill(i & 0xff) })
  const update = computeTreeUpdate(nodes, root, writes)
  nodes.add(update.nodes)
  root = update.root
}
console.error(`state-sync bench: ${KEYS} keys built in ${Math.round(performance.now() - t0)} ms (${nodes.size} nodes)`)

let serveMs = 0
let verifyMs = 0
let chunks = 0
let chunkBytes = 0
let proofBytes = 0
let stored = 0
const kinds = new Map<string, 'leaf' | 'internal'>()
const boundary = new Map<string, BoundaryNode>()
const step = (MAX_PATH + 1n) / BigInt(RANGES)
for (let r = 0; r < RANGES; r++) {
  let start = step * BigInt(r)
  const limit = r === RANGES - 1 ? MAX_PATH : step * BigInt(r + 1) - 1n
  for (;;) {
    let t = performance.now()
    const chunk = await computeStateChunk(async (h) => nodes.node(h), root, start, limit)
    serveMs += performance.now() - t
    chunkBytes += encode(StateChunk, chunk).length
    proofBytes += chunk.proof.reduce((s, p) => s + encode(ChunkProofItem, p).length, 0)
    t = performance.now()
    const verified = verifyStateChunk(root, chunk, start, limit)
    verifyMs += performance.now() - t
    stored += verified.nodes.length
    for (const n of verified.nodes) kinds.set(Buffer.from(n.hash).toString('hex'), decodeTreeNode(n.hash, n.bytes).kind)
    for (const b of verified.boundary) boundary.set(Buffer.from(b.hash).toString('hex'), b)
    chunks++
    if (chunk.last) break
    start = pathToBigInt(chunk.end) + 1n
  }
}
stored += resolveBoundaryNodes([...boundary.values()], (h) => kinds.get(Buffer.from(h).toString('hex'))).length
// Every node reachable from the root (the store also holds earlier roots' nodes), each rebuilt once.
let reachable = 0
const walk = (h: Uint8Array): void => {
  if (h.every((b) => b === 0)) return
  reachable++
  const node = decodeTreeNode(h, nodes.node(h)!)
  if (node.kind === 'internal') {
    walk(node.left.hash)
    walk(node.right.hash)
  }
}
walk(root)
if (stored !== reachable) throw new Error(`rebuilt ${stored} nodes, the tree has ${reachable}`)
console.error(`  ${chunks} chunks, serve ${Math.round(serveMs)} ms, verify ${Math.round(verifyMs)} ms, proofs ${proofBytes} B of ${chunkBytes} B`)
console.log(JSON.stringify({
  keys: KEYS,
  chunks,
  serveUsPerKey: round((serveMs * 1000) / KEYS, 2),
  verifyUsPerKey: round((verifyMs * 1000) / KEYS, 2),
  proofBytesPerChunk: Math.round(proofBytes / chunks),
  proofOverhead: round(proofBytes / chunkBytes, 4),
  loadAverage: round(loadavg()[0]!, 1),
}))
