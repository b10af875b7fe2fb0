/** Pure storage rules the state transition calls (audits, rent, repair decisions, chunk math). */
export {
  AUDIT_GRACE_BLOCKS,
  type AuditAnswers,
  type AuditEntryCheck,
  type AuditEpochInput,
  type AuditEpochOutput,
  type AuditParams,
  computeAuditChallenges,
  computeAuditEntry,
  isPastAuditGrace,
  verifyAuditEntry,
} from './computeAuditEntry.ts'
export {
  type ChunkProof,
  computeChunkCount,
  computeChunkLeaves,
  computeChunkLength,
  computeChunkProof,
  computeChunkRoot,
  computeShardSize,
  verifyManifestShape,
} from './computeChunkLeaves.ts'
export { type ChooseRepairHost, computeRepairs, computeShardsToRepair, type HostLookup, isShardLost, type RepairPlan } from './computeRepairs.ts'
export { computeShardRates, computeStorageRent, type RentAsset, type RentOutcome, type StorageRent } from './computeStorageRent.ts'
export { type AuditChallenge, type AuditedAsset, computeAuditEpoch, deriveAuditChallenges } from './deriveAuditChallenges.ts'
export { StorageError, type StorageErrorCode } from './errors.ts'
export { computeAuditOutcome, computeAuditResult, isValidChunkProof, verifyAuditResult } from './verifyAuditResult.ts'
