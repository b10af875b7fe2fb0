import { MarketError } from './errors.ts'
import { BP, BP_N, type MarketParams } from './marketParams.ts'

/**
 * Prices, all integer bigint arithmetic with floor division (the remainder rule: every division
 * rounds down, and whatever the floors leave over stays with the payer, i.e. goes to the refund).
 */

export const U128_MAX = (1n << 128n) - 1n

/** `amount × bp / 10000`, rounded down. */
export function computeBpShare(amount: bigint, bp: number): bigint {
  return (amount * BigInt(bp)) / BP_N
}

/** Network storage utilization in basis points: used / capacity, clamped to 0..10000; 0 for an empty network. */
export function computeUtilizationBp(usedBytes: bigint, capacityBytes: bigint): number {
  if (capacityBytes <= 0n || usedBytes <= 0n) return 0
  if (usedBytes >= capacityBytes) return BP
  return Number((usedBytes * BP_N) / capacityBytes)
}

/**
 * Effective storage price per byte-epoch: the host's ask scaled up with utilization,
 * `ask × (10^8 + slopeBp × utilizationBp) / 10^8`. With slope 10000 (1x) a full network pays 2x the
 * ask, a half-full one 1.5x, an empty one the ask itself.
 */
export function computeStoragePrice(askPerByteEpoch: bigint, utilizationBp: number, params: Pick<MarketParams, 'storageUtilizationSlopeBp'>): bigint {
  const scale = BP_N * BP_N
  return (askPerByteEpoch * (scale + BigInt(params.storageUtilizationSlopeBp) * BigInt(utilizationBp))) / scale
}

/** 10000 (1x) for a public execution, privatePremiumBp (2x by default) for a private one. */
export function computePremiumBp(isPrivate: boolean, params: Pick<MarketParams, 'privatePremiumBp'>): number {
  return isPrivate ? params.privatePremiumBp : BP
}

/** What one agreeing host earns: `fuel × price × premiumBp / 10000`, rounded down. */
export function computeHostPay(fuel: bigint, pricePerFuel: bigint, premiumBp: number): bigint {
  return computeBpShare(fuel * pricePerFuel, premiumBp)
}

/** The first agreeing receipt's bonus: `hostPay × firstReceiptBonusBp / 10000`. */
export function computeFirstReceiptBonus(hostPay: bigint, params: Pick<MarketParams, 'firstReceiptBonusBp'>): bigint {
  return computeBpShare(hostPay, params.firstReceiptBonusBp)
}

/** The proposer's protocol fee, charged to the client on top of what hosts earn: `hostTotal × proposerFeeBp / 10000`. */
export function computeProposerFee(hostTotal: bigint, params: Pick<MarketParams, 'proposerFeeBp'>): bigint {
  return computeBpShare(hostTotal, params.proposerFeeBp)
}

/**
 * Clearing price per fuel: the highest ask among the agreeing hosts (so every one of them is paid
 * at least its ask), capped at the client's bid (a host that raised its ask after assignment
 * cannot charge more than the client agreed to). No known ask → the bid.
 */
export function computeClearingPrice(asks: readonly bigint[], bidPerFuel: bigint): bigint {
  if (asks.length === 0) return bidPerFuel
  let max = 0n
  for (const a of asks) if (a > max) max = a
  return max < bidPerFuel ? max : bidPerFuel
}

export interface EscrowInput {
  fuelLimit: bigint
  bidPerFuel: bigint
  replicas: number
  private: boolean
}

export interface EscrowBreakdown {
  /** replicas × floor(fuelLimit × bid × premiumBp / 10000): every host paid in full at the bid. */
  hosts: bigint
  /** Headroom for the first-receipt bonus at the largest possible host pay. */
  bonus: bigint
  /** Headroom for the proposer fee on hosts + bonus. */
  fee: bigint
  total: bigint
}

/**
 * What an execute tx locks from the client: the most the completion can ever pay out. Each part is
 * an upper bound of the matching payout (fuelUsed ≤ fuelLimit, clearing ≤ bid, agreeing ≤ replicas
 * and floor is monotone), so `escrow ≥ payouts` holds and the refund is never negative.
 */
export function computeEscrowBreakdown(input: EscrowInput, params: Pick<MarketParams, 'privatePremiumBp' | 'firstReceiptBonusBp' | 'proposerFeeBp'>): EscrowBreakdown {
  if (typeof input.fuelLimit !== 'bigint' || input.fuelLimit < 0n) throw new MarketError('BAD_INPUT', 'fuelLimit must be a non-negative bigint', { fuelLimit: input.fuelLimit })
  if (typeof input.bidPerFuel !== 'bigint' || input.bidPerFuel < 0n) throw new MarketError('BAD_INPUT', 'bidPerFuel must be a non-negative bigint', { bidPerFuel: input.bidPerFuel })
  if (!Number.isInteger(input.replicas) || input.replicas < 1 || input.replicas > 255) throw new MarketError('BAD_INPUT', 'replicas must be in 1..255', { replicas: input.replicas })
  const perHost = computeHostPay(input.fuelLimit, input.bidPerFuel, computePremiumBp(input.private, params))
  const hosts = perHost * BigInt(input.replicas)
  const bonus = computeFirstReceiptBonus(perHost, params)
  const fee = computeProposerFee(hosts + bonus, params)
  const total = hosts + bonus + fee
  if (total > U128_MAX) throw new MarketError('OVERFLOW', 'escrow does not fit in u128', { total })
  return { hosts, bonus, fee, total }
}

/** `computeEscrowBreakdown(...).total`: the amount the execution entry records as escrow. */
export function computeEscrow(input: EscrowInput, params: Pick<MarketParams, 'privatePremiumBp' | 'firstReceiptBonusBp' | 'proposerFeeBp'>): bigint {
  return computeEscrowBreakdown(input, params).total
}
