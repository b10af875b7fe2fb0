import { setTimeout as sleep } from 'node:timers/promises'

import { type Client, getBlock, getChainStatus } from '../../../src/client/index.ts'
import { toHex } from '../../../src/crypto/index.ts'
import { BenchError } from './benchError.ts'

export interface SeenBlock { hash: string; prevHash: string; slot: number; timestamp: number; kind: string }
export interface Settled { height: number; timestamp: number; status: number; output: Uint8Array }

/**
 * Follows one validator's chain over RPC (every ~150 ms): each block's slot, time and kind,
 * which block carries each tx, each execution's completion, the head-to-finalized lag, and
 * reorgs (a rescan of the last heights when the branch under them changed).
 */
export class ChainWatcher {
  readonly blocks = new Map<number, SeenBlock>()
  /** Tx id → height of the block that carries it (as the watched validator sees it). */
  readonly included = new Map<string, { height: number; timestamp: number }>()
  /** Execution id → its completion. */
  readonly settled = new Map<string, Settled>()
  /** head slot − finalized slot, one sample per poll */
  readonly lags: number[] = []
  /** head height − finalized height, one sample per poll (0 with BFT: blocks are applied final) */
  readonly lagBlocks: number[] = []
  reorgs = 0
  #next = 0
  #running = true
  #loop: Promise<void> | undefined
  constructor(private readonly client: Client) {}

  start(fromHeight: number): void {
    this.#next = Math.max(1, fromHeight)
    this.#loop = (async () => {
      while (this.#running) {
        try {
          await this.#poll()
        } catch {
          // a slow answer under load: the next poll picks up where this one stopped
        }
        await sleep(150)
      }
    })()
  }

  async stop(): Promise<void> {
    this.#running = false
    await this.#loop
  }

  async #poll(): Promise<void> {
    const status = await getChainStatus(this.client)
    for (let h = this.#next; h <= status.head.height; h++) {
      const b = await getBlock(this.client, { height: h })
      if (b === null) break
      const prev = this.blocks.get(h - 1)
      if (prev !== undefined && prev.hash !== toHex(b.header.prevHash)) {
        // The branch under what we scanned changed: rescan the last few heights.
        this.reorgs++
        for (let k = Math.max(1, h - 8); k < h; k++) this.blocks.delete(k)
        this.#next = Math.max(1, h - 8)
        return
      }
      const ts = Number(b.header.timestamp)
      this.blocks.set(h, { hash: toHex(b.hash), prevHash: toHex(b.header.prevHash), slot: b.header.slot, timestamp: ts, kind: b.header.kind })
      if (b.header.kind === 'completion') {
        const full = await getBlock(this.client, { height: h, includeEntries: true })
        for (const e of full?.entries ?? []) if (e.type === 'completion') this.settled.set(toHex(e.executionId), { height: h, timestamp: ts, status: e.status, output: e.output })
      } else {
        for (const id of b.entryIds) this.included.set(toHex(id), { height: h, timestamp: ts })
      }
      this.#next = h + 1
    }
    const head = this.blocks.get(status.head.height)
    const fin = this.blocks.get(status.finalized.height)
    if (head && fin) this.lags.push(head.slot - fin.slot)
    this.lagBlocks.push(status.head.height - status.finalized.height)
  }

  /** The block at `height`, from the scan or asked for. */
  async slotOf(height: number): Promise<SeenBlock> {
    const known = this.blocks.get(height)
    if (known) return known
    const b = await getBlock(this.client, { height })
    if (b === null) throw new BenchError(`validator 0 has no block at height ${height}`)
    return { hash: toHex(b.hash), prevHash: toHex(b.header.prevHash), slot: b.header.slot, timestamp: Number(b.header.timestamp), kind: b.header.kind }
  }

  /** Waits (at most `timeoutMs`) until the scanned chain holds a block stamped at or after `ms`. */
  async until(ms: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const last = this.blocks.get(this.#next - 1)
      if (last && last.timestamp >= ms) return
      await sleep(100)
    }
  }
}
