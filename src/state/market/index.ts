export { type CompletionInputs, type CompletionResult, computeCompletion, type HostReputationUpdate, isModuleRetrievableByAudits, mergePayouts } from './computeCompletion.ts'
export { MarketError, type MarketErrorCode } from './errors.ts'
export { MARKET_PARAM_DEFAULTS, type MarketParams, verifyMarketParams } from './marketParams.ts'
export {
  computeBpShare,
  computeClearingPrice,
  computeEscrow,
  computeEscrowBreakdown,
  computeFirstReceiptBonus,
  computeHostPay,
  computePremiumBp,
  computeProposerFee,
  computeStoragePrice,
  computeUtilizationBp,
  type EscrowBreakdown,
  type EscrowInput,
  U128_MAX,
} from './pricing.ts'
export { computeHostStatus, computeReputation, computeReputationUpdate, REPUTATION_RULES, type ReputationUpdate } from './reputation.ts'
export { verifyCompletionEntry } from './verifyCompletionEntry.ts'
export { verifyConservation } from './verifyConservation.ts'
