import type { Address, BlockHeader, Hash } from '../../blocks/schema.ts'
import { computeNextMix, isValidReveal, NO_REVEAL } from '../../consensus/beacon.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { StateError } from './errors.ts'
import type { BeaconRecord } from './records.ts'
import type { StateOverlay, StateReader } from './stateView.ts'
import { readRow, TABLES } from './tables.ts'

/**
 * The RANDAO beacon in state (consensus/beacon.ts): one running mix, and per validator the last
 * value its hash chain revealed (initially its commitment), how many reveals it made and which of
 * its chains this is. Every seed of the transition (placement, execution assignment, audit
 * sample, repairs) reads the mix of the parent state (`readBeaconMix`) before this block's reveal
 * folds in, so a proposer can at most withhold its reveal, never choose the outcome.
 */

export function readBeaconMix(state: StateReader): Hash {
  const mix = readRow(state, TABLES.beaconMix.at())
  if (mix === undefined) throw new StateError('UNSUPPORTED', 'state has no beacon mix (genesis writes one)')
  return mix
}

export function readBeaconRecord(state: StateReader, validator: Address): BeaconRecord | undefined {
  return readRow(state, TABLES.beaconRecord.at(validator))
}

/** Registers `commitment` as the tip of the validator's next chain (genesis, or a `validator.beacon` tx). */
export function writeBeaconCommitment(state: StateOverlay, validator: Address, commitment: Hash): void {
  const previous = readBeaconRecord(state, validator)
  state.write(TABLES.beaconRecord.at(validator), { lastRevealed: commitment, revealed: 0, generation: previous === undefined ? 0 : previous.generation + 1 })
}

/** Whether `record` can still reveal: a proposer with a live chain must reveal, one without must not. */
export function hasLiveChain(record: BeaconRecord | undefined, chainLength: number): boolean {
  return record !== undefined && record.revealed < chainLength
}

/**
 * Checks the header's reveal against its proposer's chain and folds it into the mix. A proposer
 * with a live chain must reveal the next preimage (anything else: BAD_REVEAL); one without a live
 * chain (never committed, or exhausted) must reveal zero and leaves the mix unchanged.
 */
export function applyBeaconReveal(state: StateOverlay, header: Pick<BlockHeader, 'proposer' | 'beaconReveal'>, chainLength: number): void {
  const record = readBeaconRecord(state, header.proposer)
  const proposer = toHex(header.proposer)
  if (record === undefined || !hasLiveChain(record, chainLength)) {
    if (!equalBytes(header.beaconReveal, NO_REVEAL)) throw new StateError('BAD_REVEAL', 'the proposer has no live beacon chain, so its block must reveal zero', { proposer, reason: 'unexpected' })
    return
  }
  if (equalBytes(header.beaconReveal, NO_REVEAL)) throw new StateError('BAD_REVEAL', 'the proposer has a live beacon chain and must reveal its next link', { proposer, reason: 'missing' })
  if (!isValidReveal(record.lastRevealed, header.beaconReveal)) throw new StateError('BAD_REVEAL', 'the reveal is not the preimage of the proposer\'s last revealed value', { proposer, reason: 'not-preimage' })
  state.write(TABLES.beaconRecord.at(header.proposer), { ...record, lastRevealed: header.beaconReveal, revealed: record.revealed + 1 })
  state.write(TABLES.beaconMix.at(), computeNextMix(readBeaconMix(state), header.beaconReveal))
}
