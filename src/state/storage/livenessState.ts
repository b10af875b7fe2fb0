import type { Address, BlockKind, Heartbeat, LivenessEntry } from '../../../blocks/schema.ts'
import { compareBytes, toHex, verify } from '../../crypto/index.ts'
import type { ApplyContext } from '../applyContext.ts'
import { StateError } from '../errors.ts'
import { recordReputationEvent } from '../hosts.ts'
import { HOST_STATUS } from '../records.ts'
import type { StateOverlay, StateReader } from '../stateView.ts'
import { readRow, scanRows, TABLES } from '../tables.ts'
import type { LivenessEpochRecord, LivenessHostRecord } from './livenessRecords.ts'
import { computeHeartbeatSigningHash, computeLivenessEpoch, computeLivenessMiss, computeLivenessRestore, isLivenessEpochCounted, isLivenessTracked } from './livenessRules.ts'
import { queueRepairsOfHost } from './repairQueue.ts'

/**
 * The liveness rule on state (docs/storage.md "Liveness"). Tables: `livenessEpoch` (the open
 * epoch), `livenessHost` (per tracked host: due epoch, misses) and `livenessDue` (due ‖ host), so
 * an epoch's end reads only the hosts that did not heartbeat in it.
 */

export function readLivenessEpoch(state: StateReader): LivenessEpochRecord | undefined {
  return readRow(state, TABLES.livenessEpoch.at())
}

export function readLivenessHost(state: StateReader, host: Address): LivenessHostRecord | undefined {
  return readRow(state, TABLES.livenessHost.at(host))
}

function setDue(state: StateOverlay, host: Address, before: LivenessHostRecord | undefined, next: LivenessHostRecord | undefined): void {
  if (before !== undefined) state.write(TABLES.livenessDue.at(before.due, host), undefined)
  if (next !== undefined) state.write(TABLES.livenessDue.at(next.due, host), true)
  state.write(TABLES.livenessHost.at(host), next)
}

/** host.join: the host must heartbeat from the epoch after the one it joined in. */
export function trackHostLiveness(state: StateOverlay, host: Address, ctx: ApplyContext): void {
  const epoch = computeLivenessEpoch(ctx.slot, ctx.genesis.params.livenessEpochSlots)
  setDue(state, host, state.read(TABLES.livenessHost.at(host)), { due: epoch + 1, misses: 0 })
}

/** Why a heartbeat cannot go on chain in epoch `epoch` with the open epoch's `mix`, or undefined when it can. */
export function checkHeartbeat(state: StateReader, heartbeat: Heartbeat, epoch: number, mix: Uint8Array, ctx: Pick<ApplyContext, 'genesis'>): string | undefined {
  const tracked = readLivenessHost(state, heartbeat.host)
  if (tracked === undefined) return 'not a tracked host'
  if (tracked.due > epoch) return 'already heartbeat this epoch'
  if (!verify(heartbeat.host, computeHeartbeatSigningHash(ctx.genesis.chainId, epoch, mix, heartbeat.host), heartbeat.signature)) return 'bad signature'
  return undefined
}

/** The open epoch heartbeats of a block at `slot` sign for, or undefined when the block opens a new epoch (it can carry none). */
export function readHeartbeatEpoch(state: StateReader, ctx: ApplyContext): LivenessEpochRecord | undefined {
  const open = readLivenessEpoch(state)
  const epoch = computeLivenessEpoch(ctx.slot, ctx.genesis.params.livenessEpochSlots)
  return open !== undefined && open.epoch === epoch ? open : undefined
}

/** A liveness entry: every heartbeat checks, hosts strictly increasing; each tracked host is due next epoch with no misses. */
export function applyLiveness(state: StateOverlay, entry: LivenessEntry, ctx: ApplyContext): void {
  const open = readHeartbeatEpoch(state, ctx)
  if (open === undefined || entry.epoch !== open.epoch) {
    throw new StateError('ENTRY_MISMATCH', `heartbeats for epoch ${entry.epoch} in a block that cannot carry them (open epoch ${open?.epoch ?? 'none'})`, { field: 'epoch', got: entry.epoch, expected: open?.epoch })
  }
  if (entry.heartbeats.length === 0) throw new StateError('INVALID_TX', 'a liveness entry carries at least one heartbeat', { field: 'heartbeats' })
  const params = ctx.genesis.params
  for (const [index, heartbeat] of entry.heartbeats.entries()) {
    if (index > 0 && compareBytes(entry.heartbeats[index - 1]!.host, heartbeat.host) >= 0) throw new StateError('ENTRY_MISMATCH', `heartbeat ${index}: hosts not in strictly increasing order`, { field: `heartbeats[${index}]` })
    const why = checkHeartbeat(state, heartbeat, open.epoch, open.mix, ctx)
    if (why !== undefined) throw new StateError('ENTRY_MISMATCH', `heartbeat ${index}: ${why}`, { field: `heartbeats[${index}]`, got: toHex(heartbeat.host) })
    const tracked = readLivenessHost(state, heartbeat.host)!
    const host = state.read(TABLES.host.at(heartbeat.host))
    if (host !== undefined) {
      const restored = computeLivenessRestore(host, tracked.misses, params)
      if (restored !== host) state.write(TABLES.host.at(heartbeat.host), restored)
    }
    setDue(state, heartbeat.host, tracked, { due: open.epoch + 1, misses: 0 })
  }
}

export interface LivenessSettlement {
  /** The epoch closed, if this block opened a new one. */
  closed: number | undefined
  /** Hosts that missed it (when it counted) and hosts suspended by it. */
  missed: Address[]
  suspended: Address[]
}

/** Bonded stake of the validator set: read once per closed epoch (the set is small; hosts are never scanned). */
function readTotalStake(state: StateReader): bigint {
  return scanRows(state, TABLES.validator).reduce((sum, v) => sum + v.row.stake, 0n)
}

/** The due-epoch rows of `due`, in key order: the hosts that must heartbeat in it. */
function readDueHosts(state: StateReader, due: number): Address[] {
  const prefix = TABLES.livenessDue.key(due, new Uint8Array(0))
  return state.scan(prefix).map((w) => new Uint8Array(w.key.subarray(prefix.length)))
}

/**
 * Runs after a block's entries. Within an epoch it counts the blocks that could carry heartbeats;
 * the first block of a new epoch closes the open one: each host still due in it missed it (when
 * the epoch counted, isLivenessEpochCounted) and is due in the new epoch, hosts no longer active or
 * suspended stop being tracked, and the new epoch opens on this block's parent mix (ctx.beaconMix).
 */
export function settleLivenessEpoch(state: StateOverlay, ctx: ApplyContext, kind: BlockKind): LivenessSettlement {
  const params = ctx.genesis.params
  const epoch = computeLivenessEpoch(ctx.slot, params.livenessEpochSlots)
  const open = readLivenessEpoch(state)
  const out: LivenessSettlement = { closed: undefined, missed: [], suspended: [] }
  if (open !== undefined && open.epoch === epoch) {
    if (kind === 'audit') return out
    const seen = TABLES.livenessProposer.at(epoch, ctx.proposer)
    const fresh = state.read(seen) === undefined
    const stake = fresh ? (state.read(TABLES.validator.at(ctx.proposer))?.stake ?? 0n) : 0n
    if (fresh) state.write(seen, true)
    state.write(TABLES.livenessEpoch.at(), { ...open, blocks: open.blocks + 1, proposerStake: open.proposerStake + stake })
    return out
  }
  if (open !== undefined && open.epoch < epoch) {
    out.closed = open.epoch
    const counted = isLivenessEpochCounted(open, readTotalStake(state), params)
    for (const w of state.scan(TABLES.livenessProposer.key(open.epoch, new Uint8Array(0)))) state.write({ key: w.key, codec: TABLES.livenessProposer.codec }, undefined)
    for (const address of readDueHosts(state, open.epoch)) {
      const tracked = readLivenessHost(state, address)!
      const host = state.read(TABLES.host.at(address))
      if (host === undefined || !isLivenessTracked(host.status)) {
        setDue(state, address, tracked, undefined)
        continue
      }
      if (!counted) {
        setDue(state, address, tracked, { ...tracked, due: epoch })
        continue
      }
      out.missed.push(address)
      const miss = computeLivenessMiss(address, host, tracked.misses, params, ctx.height)
      if (miss.record !== host) state.write(TABLES.host.at(address), miss.record)
      if (miss.event !== undefined) recordReputationEvent(state, address, miss.event, params.reputationHistoryLimit)
      if (miss.suspended || (miss.record.status === HOST_STATUS.disqualified && host.status !== HOST_STATUS.disqualified)) queueRepairsOfHost(state, address)
      if (miss.suspended) out.suspended.push(address)
      setDue(state, address, tracked, isLivenessTracked(miss.record.status) ? { due: epoch, misses: miss.misses } : undefined)
    }
    // Whole epochs without a block: hosts that heartbeat in the closed epoch are due in the new one.
    if (epoch > open.epoch + 1) {
      for (const address of readDueHosts(state, open.epoch + 1)) {
        const tracked = readLivenessHost(state, address)!
        setDue(state, address, tracked, { ...tracked, due: epoch })
      }
    }
  }
  state.write(TABLES.livenessEpoch.at(), { epoch, mix: ctx.beaconMix, blocks: 0, proposerStake: 0n })
  return out
}
