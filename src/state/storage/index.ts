/** Pure storage rules the state transition calls (audits, rent, repair decisions, chunk math). */
export { StorageError, type StorageErrorCode } from './errors.ts'
export {
  computeChunkCount, computeChunkLength, computeChunkLeaves, computeChunkRoot, computeChunkProof, computeShardSize, verifyManifestShape, type ChunkProof,
} from './computeChunkLeaves.ts'
export { deriveAuditChallenges, computeAuditEpoch, type AuditChallenge, type AuditedAsset } from './deriveAuditChallenges.ts'
export { computeAuditOutcome, computeAuditResult, isValidChunkProof, verifyAuditResult } from './verifyAuditResult.ts'
export { computeStorageRent, computeShardRates, type RentAsset, type RentOutcome, type StorageRent } from './computeStorageRent.ts'
export { computeRepairs, computeShardsToRepair, isShardLost, type ChooseRepairHost, type HostLookup, type RepairPlan } from './computeRepairs.ts'
export {
  AUDIT_GRACE_BLOCKS, computeAuditEntry, computeAuditChallenges, isPastAuditGrace, verifyAuditEntry, type AuditAnswers, type AuditEntryCheck, type AuditEpochInput, type AuditEpochOutput, type AuditParams,
} from './computeAuditEntry.ts'
