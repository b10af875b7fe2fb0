import { bytes32, type Infer, struct, u32, u128 } from '../../../blocks/codec.ts'

/**
 * The open liveness epoch (docs/storage.md "Liveness"): its number, the beacon mix its heartbeats
 * sign over, its blocks that could carry heartbeats and the stake of their distinct proposers.
 */
export const LivenessEpochRecord = struct('LivenessEpochRecord', { epoch: u32, mix: bytes32, blocks: u32, proposerStake: u128 })
export type LivenessEpochRecord = Infer<typeof LivenessEpochRecord>

/** A tracked host: the epoch it must heartbeat in next (its `livenessDue` index row) and its consecutive missed epochs. */
export const LivenessHostRecord = struct('LivenessHostRecord', { due: u32, misses: u32 })
export type LivenessHostRecord = Infer<typeof LivenessHostRecord>
