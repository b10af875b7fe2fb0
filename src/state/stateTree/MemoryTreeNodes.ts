import { bytesKey } from '../../crypto/index.ts'
import type { TreeNodeReader, TreeNodeWrite } from './treeNode.ts'


/** Every node in memory, never evicted: for tests, tools and state held wholly in memory. */
export class MemoryTreeNodes implements TreeNodeReader {
  readonly #nodes = new Map<string, Uint8Array>()
  node(hash: Uint8Array): Uint8Array | undefined {
    return this.#nodes.get(bytesKey(hash))
  }
  add(nodes: readonly TreeNodeWrite[]): void {
    for (const n of nodes) this.#nodes.set(bytesKey(n.hash), n.bytes)
  }
  get size(): number {
    return this.#nodes.size
  }
}
