export { MarketError, type MarketErrorCode } from './errors.ts'
export { MARKET_PARAM_DEFAULTS, verifyMarketParams, type MarketParams } from './marketParams.ts'
export {
  U128_MAX,
  computeBpShare,
  computeUtilizationBp,
  computeStoragePrice,
  computePremiumBp,
  computeHostPay,
  computeFirstReceiptBonus,
  computeProposerFee,
  computeClearingPrice,
  computeEscrow,
  computeEscrowBreakdown,
  type EscrowInput,
  type EscrowBreakdown,
} from './pricing.ts'
export { REPUTATION_RULES, computeReputation, computeHostStatus, computeReputationUpdate, type ReputationUpdate } from './reputation.ts'
export { computeCompletion, mergePayouts, type CompletionInputs, type CompletionResult, type HostReputationUpdate } from './computeCompletion.ts'
export { verifyConservation } from './verifyConservation.ts'
export { verifyCompletionEntry } from './verifyCompletionEntry.ts'
