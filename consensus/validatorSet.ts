import type { Address } from '../blocks/schema.ts'
import { compareBytes, toHex } from '../src/crypto/index.ts'
import { ConsensusError } from './errors.ts'

/** One validator as consensus sees it: its address (ed25519 public key) and bonded stake. */
export interface ValidatorStake {
  address: Address
  stake: bigint
}

/** A validator list in the one deterministic order (address bytes ascending), with its total. */
export interface ValidatorSet {
  validators: readonly ValidatorStake[]
  totalStake: bigint
  /** hex address → stake, for O(1) membership checks. */
  byAddress: ReadonlyMap<string, bigint>
}

/**
 * Normalizes a validator list: sorted by address, no duplicate address, no negative stake.
 * The input may come in any order (a Map walk, a db scan): the result never depends on it.
 * Zero-stake validators are kept (they are members) but never drawn and weigh nothing.
 */
export function computeValidatorSet(validators: readonly ValidatorStake[]): ValidatorSet {
  let sorted = validators
  for (let i = 1; i < validators.length; i++) {
    if (compareBytes(validators[i - 1]!.address, validators[i]!.address) >= 0) {
      sorted = [...validators].sort((a, b) => compareBytes(a.address, b.address))
      break
    }
  }
  const byAddress = new Map<string, bigint>()
  let totalStake = 0n
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!
    if (i > 0 && compareBytes(sorted[i - 1]!.address, v.address) === 0) {
      throw new ConsensusError('BAD_VALIDATOR_SET', 'duplicate validator address', { scheme: 'stake', address: toHex(v.address) })
    }
    if (typeof v.stake !== 'bigint' || v.stake < 0n) {
      throw new ConsensusError('BAD_VALIDATOR_SET', 'validator stake must be a non-negative bigint', { scheme: 'stake', address: toHex(v.address) })
    }
    byAddress.set(toHex(v.address), v.stake)
    totalStake += v.stake
  }
  return { validators: sorted, totalStake, byAddress }
}
