import type { ChainParams } from '../../../blocks/schema.ts'
import { MarketError } from './errors.ts'

/** The ChainParams fields the market reads. */
export type MarketParams = Pick<
  ChainParams,
  | 'gridSize'
  | 'privatePremiumBp'
  | 'firstReceiptBonusBp'
  | 'proposerFeeBp'
  | 'storageUtilizationSlopeBp'
  | 'reputationInitialBp'
  | 'reputationAlphaBp'
  | 'reputationSuspendBp'
  | 'reputationDisqualifyBp'
>

export const BP = 10_000
export const BP_N = 10_000n

/** Suggested genesis values (documented in docs/economics.md); genesis.json is the authority. */
export const MARKET_PARAM_DEFAULTS: MarketParams = {
  gridSize: 1024,
  privatePremiumBp: 20_000,
  firstReceiptBonusBp: 1_000,
  proposerFeeBp: 500,
  storageUtilizationSlopeBp: 10_000,
  reputationInitialBp: 5_000,
  reputationAlphaBp: 1_000,
  reputationSuspendBp: 3_000,
  reputationDisqualifyBp: 1_000,
}

/**
 * Rejects parameter sets the formulas are not defined for: a premium below 1x would let a private
 * execution pay less than a public one, thresholds must be ordered so suspension comes first.
 */
export function verifyMarketParams(p: MarketParams): void {
  const bad = (field: keyof MarketParams, why: string): never => {
    throw new MarketError('BAD_PARAMS', `${field}: ${why}`, { field, value: p[field] })
  }
  const isInt = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max
  if (!isInt(p.gridSize, 0xffff_ffff) || p.gridSize < 1) bad('gridSize', 'must be an integer in 1..2^32-1')
  if (!isInt(p.privatePremiumBp, 1_000_000) || p.privatePremiumBp < BP) bad('privatePremiumBp', 'must be in 10000..1000000 (1x..100x)')
  if (!isInt(p.firstReceiptBonusBp, 100_000)) bad('firstReceiptBonusBp', 'must be in 0..100000')
  if (!isInt(p.proposerFeeBp, BP)) bad('proposerFeeBp', 'must be in 0..10000')
  if (!isInt(p.storageUtilizationSlopeBp, 1_000_000)) bad('storageUtilizationSlopeBp', 'must be in 0..1000000')
  if (!isInt(p.reputationInitialBp, BP)) bad('reputationInitialBp', 'must be in 0..10000')
  if (!isInt(p.reputationAlphaBp, BP) || p.reputationAlphaBp < 1) bad('reputationAlphaBp', 'must be in 1..10000')
  if (!isInt(p.reputationSuspendBp, BP)) bad('reputationSuspendBp', 'must be in 0..10000')
  if (!isInt(p.reputationDisqualifyBp, BP)) bad('reputationDisqualifyBp', 'must be in 0..10000')
  if (p.reputationDisqualifyBp > p.reputationSuspendBp) bad('reputationDisqualifyBp', 'must not exceed reputationSuspendBp')
  if (p.reputationInitialBp < p.reputationSuspendBp) bad('reputationInitialBp', 'a new host must start active (>= reputationSuspendBp)')
}
