import type { Address } from '../blocks/schema.ts'
import { compareBytes, equalBytes, toHex } from '../src/crypto/index.ts'
import { BftError } from './bft/errors.ts'
import { computeValidatorSet, type ValidatorStake } from './validatorSet.ts'

/**
 * Proposer order: CometBFT's stake-weighted round robin (types/validator_set.go), in bigint.
 *
 * Every validator carries a priority. One step adds each validator's stake to its priority,
 * picks the highest (ties: lowest address) as proposer and subtracts the total stake from it.
 * Over any window each validator proposes in proportion to its stake, within a small constant.
 * The state depends only on the validator-set history: no block hash, timestamp or other
 * proposer-chosen bytes enter it, so a proposer cannot steer who comes next (unlike the old
 * `sha256(prevHash ‖ slot)` draw, which the previous proposer could grind).
 *
 * Use: the state of height h gives round 0's proposer (`state.proposer`); round r's is the
 * state incremented r more times (`computeRoundProposer`). After committing h, the next
 * height's state is `computeNextHeightPriorities(state, validators of h+1)` (one increment, as
 * CometBFT does per block, after applying set changes such as a slashed validator's removal).
 */

export interface PriorityEntry {
  address: Address
  stake: bigint
  priority: bigint
}

export interface ProposerPriorityState {
  /** Validators with stake > 0, in address order. */
  entries: readonly PriorityEntry[]
  totalStake: bigint
  /** The proposer chosen by the last increment: round 0's proposer of the state's height. */
  proposer: Address
}

/** CometBFT's PriorityWindowSizeFactor: priorities are kept within 2·total of each other. */
const WINDOW_FACTOR = 2n

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q
}

function rescaleAndCenter(entries: PriorityEntry[], totalStake: bigint): void {
  const diffMax = WINDOW_FACTOR * totalStake
  let max = entries[0]!.priority
  let min = max
  for (const e of entries) {
    if (e.priority > max) max = e.priority
    if (e.priority < min) min = e.priority
  }
  const diff = max - min
  if (diffMax > 0n && diff > diffMax) {
    const ratio = (diff + diffMax - 1n) / diffMax
    for (const e of entries) e.priority /= ratio // truncation toward zero, as Go's int64 division
  }
  let sum = 0n
  for (const e of entries) sum += e.priority
  const avg = floorDiv(sum, BigInt(entries.length)) // big.Int.Div: Euclidean
  for (const e of entries) e.priority -= avg
}

function incrementOnce(entries: PriorityEntry[], totalStake: bigint): PriorityEntry {
  let best = entries[0]!
  for (const e of entries) {
    e.priority += e.stake
  }
  for (const e of entries) {
    if (e.priority > best.priority || (e.priority === best.priority && compareBytes(e.address, best.address) < 0)) best = e
  }
  best.priority -= totalStake
  return best
}

function incremented(state: { entries: readonly PriorityEntry[]; totalStake: bigint }, times: number): ProposerPriorityState {
  if (!Number.isSafeInteger(times) || times < 1) throw new BftError('BAD_PARAMS', 'priority increments must be a positive integer', { got: times })
  const entries = state.entries.map((e) => ({ ...e }))
  rescaleAndCenter(entries, state.totalStake)
  let proposer = entries[0]!
  for (let i = 0; i < times; i++) proposer = incrementOnce(entries, state.totalStake)
  return { entries, totalStake: state.totalStake, proposer: proposer.address }
}

function staked(validators: readonly ValidatorStake[]): ValidatorStake[] {
  const set = computeValidatorSet(validators)
  const out = set.validators.filter((v) => v.stake > 0n)
  if (out.length === 0) throw new BftError('NO_STAKE', 'no validator has stake: nobody can propose')
  return out
}

/** The genesis state: all priorities zero, then one increment (CometBFT's NewValidatorSet). */
export function computeInitialPriorities(validators: readonly ValidatorStake[]): ProposerPriorityState {
  const list = staked(validators)
  const totalStake = list.reduce((a, v) => a + v.stake, 0n)
  return incremented({ entries: list.map((v) => ({ address: v.address, stake: v.stake, priority: 0n })), totalStake }, 1)
}

/** `times` more steps of the round robin. */
export function computeIncrementedPriorities(state: ProposerPriorityState, times: number): ProposerPriorityState {
  return incremented(state, times)
}

/** The proposer of `round` at the state's height. O(round · n): rounds stay small in practice. */
export function computeRoundProposer(state: ProposerPriorityState, round: number): Address {
  if (!Number.isSafeInteger(round) || round < 0) throw new BftError('BAD_PARAMS', 'round must be a non-negative integer', { got: round })
  return round === 0 ? state.proposer : incremented(state, round).proposer
}

/**
 * The state for the next height given that height's validator set: removed validators drop out,
 * changed stakes take effect with their priority kept, new validators start at −1.125·total (so a
 * validator cannot leave and rejoin to jump the queue), then priorities are rescaled and centred
 * and incremented once.
 */
export function computeNextHeightPriorities(state: ProposerPriorityState, nextValidators: readonly ValidatorStake[]): ProposerPriorityState {
  const list = staked(nextValidators)
  const totalStake = list.reduce((a, v) => a + v.stake, 0n)
  const previous = new Map(state.entries.map((e) => [toHex(e.address), e.priority]))
  const newcomerPriority = -(totalStake + (totalStake >> 3n))
  const entries = list.map((v) => ({ address: v.address, stake: v.stake, priority: previous.get(toHex(v.address)) ?? newcomerPriority }))
  rescaleAndCenter(entries, totalStake)
  return incremented({ entries, totalStake }, 1)
}

/** Round-0 proposers of `count` consecutive heights on an unchanging set (tests, schedules). */
export function computeProposerSequence(validators: readonly ValidatorStake[], count: number): Address[] {
  let state = computeInitialPriorities(validators)
  const out: Address[] = []
  for (let i = 0; i < count; i++) {
    out.push(state.proposer)
    state = incremented(state, 1)
  }
  return out
}

export function isProposer(state: ProposerPriorityState, round: number, address: Address): boolean {
  return equalBytes(computeRoundProposer(state, round), address)
}
