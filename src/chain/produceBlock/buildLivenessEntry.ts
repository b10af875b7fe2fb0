import { type Heartbeat, LIMITS, type LivenessEntry, type SignedHeartbeat } from '../../../blocks/schema.ts'
import { compareBytes, toHex } from '../../crypto/index.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { StateError } from '../../state/errors.ts'
import type { StateReader } from '../../state/stateView.ts'
import { checkHeartbeat, readHeartbeatEpoch, readLivenessEpoch, readLivenessHost } from '../../state/storage/livenessState.ts'

/**
 * Heartbeats this node's blocks carry at most: half the wire limit, ~65 ms of signature checks at
 * ~130 µs each (npx tsx scripts/bench/liveness.ts); 10,000 hosts fit in 20 of a 40-slot epoch's blocks.
 */
export const HEARTBEATS_PER_BUILT_BLOCK = 512

/** Heartbeats a node holds at most (one per tracked host of the open epoch; 10k hosts fit twice). */
const MAX_POOLED = 20_000

/**
 * Hosts' heartbeats of the open liveness epoch, checked on arrival (gossip or RPC) and held until
 * a block carries them or the epoch ends. Any validator holds every heartbeat it heard, so a
 * proposer that leaves some out only delays them to the next proposer's block.
 */
export class HeartbeatPool {
  #epoch = -1
  readonly #held = new Map<string, Heartbeat>()

  /**
   * Takes a heartbeat that could go on chain now (open epoch, tracked host not yet beaten, valid
   * signature); true when it was news. Throws a StateError saying why it cannot.
   */
  add(state: StateReader, ctx: Pick<ApplyContext, 'genesis'>, signed: SignedHeartbeat): boolean {
    const open = readLivenessEpoch(state)
    // A peer a block ahead or behind may see another epoch or an untracked host: ignored, not blamed.
    if (open === undefined || signed.epoch !== open.epoch) throw new StateError('ENTRY_MISMATCH', `heartbeat for epoch ${signed.epoch}, open epoch ${open?.epoch ?? 'none'}`, { field: 'epoch', got: signed.epoch, expected: open?.epoch }, { verdict: 'IGNORE' })
    if (open.epoch !== this.#epoch) {
      this.#held.clear()
      this.#epoch = open.epoch
    }
    const id = toHex(signed.host)
    if (this.#held.has(id)) return false
    const heartbeat = { host: signed.host, signature: signed.signature }
    const why = checkHeartbeat(state, heartbeat, open.epoch, open.mix, ctx)
    if (why === 'already heartbeat this epoch') return false
    if (why !== undefined) throw new StateError('ENTRY_MISMATCH', `heartbeat: ${why}`, { field: 'heartbeat', got: id }, { verdict: why === 'bad signature' ? 'REJECT' : 'IGNORE' })
    if (this.#held.size >= MAX_POOLED) return false
    this.#held.set(id, heartbeat)
    return true
  }

  /** The held heartbeats of `epoch`, in host order. */
  pending(epoch: number): Heartbeat[] {
    if (epoch !== this.#epoch) return []
    return [...this.#held.values()].sort((a, b) => compareBytes(a.host, b.host))
  }

  /** After a block: drops what went on chain (or the whole pool when the epoch moved on). */
  prune(state: StateReader): void {
    const open = readLivenessEpoch(state)
    if (open === undefined || open.epoch !== this.#epoch) {
      this.#held.clear()
      return
    }
    for (const [id, h] of this.#held) if ((readLivenessHost(state, h.host)?.due ?? 0) > open.epoch) this.#held.delete(id)
  }

  get size(): number {
    return this.#held.size
  }
}

/**
 * The block's liveness entry: held heartbeats of the open epoch whose hosts are still due, at most
 * HEARTBEATS_PER_BUILT_BLOCK, hosts in increasing order; undefined when the block opens an epoch or
 * none is held. Signatures were checked when the pool took them (the block's own apply checks again).
 */
export function buildLivenessEntry(state: StateReader, ctx: ApplyContext, pool: Pick<HeartbeatPool, 'pending'>): LivenessEntry | undefined {
  const open = readHeartbeatEpoch(state, ctx)
  if (open === undefined) return undefined
  const heartbeats: Heartbeat[] = []
  for (const h of pool.pending(open.epoch)) {
    if (heartbeats.length >= Math.min(HEARTBEATS_PER_BUILT_BLOCK, LIMITS.heartbeatsPerBlock)) break
    const tracked = readLivenessHost(state, h.host)
    if (tracked !== undefined && tracked.due <= open.epoch) heartbeats.push(h)
  }
  return heartbeats.length > 0 ? { type: 'liveness', epoch: open.epoch, heartbeats } : undefined
}
