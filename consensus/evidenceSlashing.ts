import type { Address } from '../blocks/schema.ts'
import { compareBytes, equalBytes, toHex } from '../src/crypto/index.ts'
import { BftError } from './bft/errors.ts'
import type { Evidence } from './bft/messages.ts'
import { type VerifiedEvidence, verifyEvidence } from './evidence.ts'
import { computeValidatorSet, type ValidatorSet, type ValidatorStake } from './validatorSet.ts'

/**
 * Slashing over a validator-set value, pure. Unstaking does not release stake at once: it sits
 * in `unbonding` for `unbondingHeights` heights, during which evidence of an offence committed
 * while it was bonded still burns it. Evidence older than that period is refused, because the
 * stake it would burn may be gone. An offender is slashed once: the first valid evidence burns
 * `slashShareBps` of its bonded and unbonding stake, removes it from the set, moves the rest to
 * unbonding, and tombstones the address, so any further evidence against it is refused
 * (ALREADY_SLASHED), whichever offence or spelling it carries.
 */

export interface SlashingParams {
  /** Share of the offender's stake burned, in basis points (0..10,000). A genesis parameter. */
  slashShareBps: number
  /** How long unstaked funds stay slashable, and the maximum age of evidence, in heights. */
  unbondingHeights: number
}

export interface UnbondingEntry {
  address: Address
  amount: bigint
  /** The height at which the stake left the bonded set. */
  startHeight: number
  /** From this height on the funds are free (and no longer slashable). */
  releaseHeight: number
}

export interface SlashRecord {
  address: Address
  /** Height of the offence. */
  offenceHeight: number
  /** Height of the block whose evidence slashed it. */
  slashedAtHeight: number
  burned: bigint
}

export interface StakeLedger {
  /** Bonded validators, address order. */
  validators: readonly ValidatorStake[]
  unbonding: readonly UnbondingEntry[]
  /** Tombstones, address order. */
  slashed: readonly SlashRecord[]
}

export interface SlashingContext {
  chainId: string
  params: SlashingParams
  /** Height of the block carrying the evidence. */
  currentHeight: number
  /** The validator set at the offence's height. */
  validatorsAtHeight: ValidatorSet
}

export interface SlashingResult {
  ledger: StakeLedger
  offender: Address
  burned: bigint
}

export function checkSlashingParams(params: SlashingParams): void {
  if (!Number.isSafeInteger(params.slashShareBps) || params.slashShareBps < 0 || params.slashShareBps > 10_000) {
    throw new BftError('BAD_PARAMS', 'slashShareBps must be an integer in [0, 10000]', { got: params.slashShareBps })
  }
  if (!Number.isSafeInteger(params.unbondingHeights) || params.unbondingHeights < 1) {
    throw new BftError('BAD_PARAMS', 'unbondingHeights must be a positive integer', { got: params.unbondingHeights })
  }
}

export function createStakeLedger(validators: readonly ValidatorStake[]): StakeLedger {
  return { validators: computeValidatorSet(validators).validators, unbonding: [], slashed: [] }
}

export function isSlashed(ledger: StakeLedger, address: Address): boolean {
  return ledger.slashed.some((s) => equalBytes(s.address, address))
}

/** Moves `amount` of a validator's bonded stake into unbonding (a validator at 0 leaves the set). */
export function beginUnbonding(ledger: StakeLedger, address: Address, amount: bigint, height: number, params: SlashingParams): StakeLedger {
  const current = ledger.validators.find((v) => equalBytes(v.address, address))
  if (current === undefined) throw new BftError('UNKNOWN_VALIDATOR', 'not a bonded validator', { validator: toHex(address) })
  if (amount <= 0n || amount > current.stake) throw new BftError('BAD_PARAMS', 'unbonding amount must be in (0, stake]', { got: amount.toString(), stake: current.stake.toString() })
  const validators = ledger.validators
    .map((v) => (equalBytes(v.address, address) ? { address: v.address, stake: v.stake - amount } : v))
    .filter((v) => v.stake > 0n)
  const entry: UnbondingEntry = { address, amount, startHeight: height, releaseHeight: height + params.unbondingHeights }
  return { ...ledger, validators, unbonding: [...ledger.unbonding, entry] }
}

/** Drops unbonding entries that are free at `height`; returns them so the caller can credit them. */
export function releaseUnbonded(ledger: StakeLedger, height: number): { ledger: StakeLedger; released: UnbondingEntry[] } {
  const released = ledger.unbonding.filter((u) => u.releaseHeight <= height)
  if (released.length === 0) return { ledger, released }
  return { ledger: { ...ledger, unbonding: ledger.unbonding.filter((u) => u.releaseHeight > height) }, released }
}

function burnShare(amount: bigint, bps: number): bigint {
  return (amount * BigInt(bps)) / 10_000n
}

/**
 * Verifies the evidence (verifyEvidence with the unbonding period as maximum age) and slashes
 * its offender once. Throws BftError for invalid evidence and ALREADY_SLASHED for a tombstoned
 * offender. The ledger value is not mutated.
 */
export function applySlashing(ledger: StakeLedger, evidence: Evidence, ctx: SlashingContext): SlashingResult {
  checkSlashingParams(ctx.params)
  const verified: VerifiedEvidence = verifyEvidence(evidence, {
    chainId: ctx.chainId,
    validatorsAtHeight: ctx.validatorsAtHeight,
    currentHeight: ctx.currentHeight,
    maxAgeHeights: ctx.params.unbondingHeights,
  })
  const offender = verified.offender
  if (isSlashed(ledger, offender)) throw new BftError('ALREADY_SLASHED', 'offender was already slashed', { validator: toHex(offender) })
  let burned = 0n
  const remainderEntries: UnbondingEntry[] = []
  const validators: ValidatorStake[] = []
  for (const v of ledger.validators) {
    if (!equalBytes(v.address, offender)) {
      validators.push(v)
      continue
    }
    const burn = burnShare(v.stake, ctx.params.slashShareBps)
    burned += burn
    if (v.stake - burn > 0n) {
      remainderEntries.push({ address: offender, amount: v.stake - burn, startHeight: ctx.currentHeight, releaseHeight: ctx.currentHeight + ctx.params.unbondingHeights })
    }
  }
  // Stake that began unbonding after the offence was bonded when it was committed: it pays too.
  const unbonding: UnbondingEntry[] = []
  for (const u of ledger.unbonding) {
    if (equalBytes(u.address, offender) && u.startHeight >= verified.height) {
      const burn = burnShare(u.amount, ctx.params.slashShareBps)
      burned += burn
      if (u.amount - burn > 0n) unbonding.push({ ...u, amount: u.amount - burn })
    } else {
      unbonding.push(u)
    }
  }
  const record: SlashRecord = { address: offender, offenceHeight: verified.height, slashedAtHeight: ctx.currentHeight, burned }
  const slashed = [...ledger.slashed, record].sort((a, b) => compareBytes(a.address, b.address))
  return { ledger: { validators, unbonding: [...unbonding, ...remainderEntries], slashed }, offender, burned }
}
