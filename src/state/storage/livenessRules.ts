import { type Address, type ChainParams, type Hash, REPUTATION_CAUSE } from '../../../blocks/schema.ts'
import { hashParts, u32be, utf8 } from '../../crypto/index.ts'
import { computeReputationUpdate } from '../market/reputation.ts'
import { HOST_STATUS, type HostRecord, type ReputationEvent } from '../records.ts'
import { StorageError } from './errors.ts'

/**
 * The liveness rule (docs/storage.md "Liveness"), pure: the chain (livenessState.ts) and
 * `npm run sim:scale` both decide misses, suspension and restoration with these functions.
 */
export type LivenessParams = Pick<ChainParams, 'livenessEpochSlots' | 'livenessMissThreshold' | 'livenessQuorumBlocks' | 'reputationAlphaBp' | 'reputationSuspendBp' | 'reputationDisqualifyBp'>

const HEARTBEAT_DOMAIN = utf8('XSC/heartbeat/v1')

/** Liveness epoch of a slot: `livenessEpochSlots` slots long, epoch 0 starts at slot 0. */
export function computeLivenessEpoch(slot: number, livenessEpochSlots: number): number {
  if (!Number.isInteger(livenessEpochSlots) || livenessEpochSlots < 1) throw new StorageError('INVALID_PARAMS', 'livenessEpochSlots must be a positive integer')
  return Math.floor(slot / livenessEpochSlots)
}

/**
 * What a host signs for epoch `epoch`: bound to the chain, the epoch and the beacon mix the
 * epoch's first block was built on, so it can be neither replayed in another epoch nor made
 * before the epoch starts.
 */
export function computeHeartbeatSigningHash(chainId: string, epoch: number, mix: Hash, host: Address): Hash {
  const id = utf8(chainId)
  return hashParts(HEARTBEAT_DOMAIN, new Uint8Array([id.length]), id, u32be(epoch), mix, host)
}

/**
 * Whether a closed epoch counts misses: at least `livenessQuorumBlocks` blocks that could carry
 * heartbeats (fewer: the chain stalled, not the hosts), proposed by validators holding more than a
 * third of the stake, so at least one honest proposer (Byzantine stake < 1/3) had a block in it
 * and included every heartbeat it had received. A Byzantine coalition holding all of an epoch's
 * slots can leave heartbeats out, but then the epoch does not count.
 */
export function isLivenessEpochCounted(epoch: { blocks: number; proposerStake: bigint }, totalStake: bigint, params: Pick<LivenessParams, 'livenessQuorumBlocks'>): boolean {
  return epoch.blocks >= params.livenessQuorumBlocks && 3n * epoch.proposerStake > totalStake
}

/** Statuses a host is tracked in: it holds shards or may get work. */
export function isLivenessTracked(status: number): boolean {
  return status === HOST_STATUS.active || status === HOST_STATUS.suspended
}

export interface LivenessMiss {
  record: HostRecord
  misses: number
  /** Suspended by this miss: every asset it holds goes to the repair queue. */
  suspended: boolean
  /** The reputation event to record (from the threshold on), if any. */
  event: ReputationEvent | undefined
}

/**
 * One missed epoch of a tracked host: below the threshold nothing but the count moves (a short
 * outage costs nothing). From `livenessMissThreshold` on each miss is a `livenessMiss` reputation
 * event; the one that suspends an active host also caps its reputation just under
 * `reputationSuspendBp`, so the suspension is the reputation rule's own: an unanswered audit keeps
 * it suspended (without the cap, computeHostStatus would lift a suspended host whose reputation is
 * still high), a passed one lifts it as it lifts any suspension (the next counted miss suspends it
 * again), and further misses lower it toward `reputationDisqualifyBp` (disqualified, final).
 */
export function computeLivenessMiss(host: Address, record: HostRecord, misses: number, params: LivenessParams, height: number): LivenessMiss {
  const next = Math.min(0xffff_ffff, misses + 1)
  if (next < params.livenessMissThreshold) return { record, misses: next, suspended: false, event: undefined }
  const update = computeReputationUpdate(host, record, REPUTATION_CAUSE.livenessMiss, params, height, host)
  const reputation = record.status === HOST_STATUS.active ? Math.min(update.record.reputation, Math.max(0, params.reputationSuspendBp - 1)) : update.record.reputation
  const status = reputation < params.reputationDisqualifyBp || update.record.status === HOST_STATUS.disqualified ? HOST_STATUS.disqualified : HOST_STATUS.suspended
  return { record: { ...update.record, reputation, status }, misses: next, suspended: record.status === HOST_STATUS.active, event: { ...update.event, after: reputation } }
}

/**
 * A heartbeat: misses return to 0, and a host suspended for missing (misses at the threshold or
 * more) is active again with its reputation back at `reputationSuspendBp` at least: eligible, at the
 * bottom of the eligible range. Shards already moved away stay moved.
 */
export function computeLivenessRestore(record: HostRecord, misses: number, params: LivenessParams): HostRecord {
  if (misses < params.livenessMissThreshold || record.status !== HOST_STATUS.suspended) return record
  return { ...record, status: HOST_STATUS.active, reputation: Math.max(record.reputation, params.reputationSuspendBp) }
}
