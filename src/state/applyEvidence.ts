import { receiptSigningHash } from '../../blocks/ids.ts'
import type { Address, EvidenceEntry, Offence, Receipt } from '../../blocks/schema.ts'
import { BftError } from '../../consensus/bft/errors.ts'
import type { Evidence } from '../../consensus/bft/messages.ts'
import { evidenceOffender, verifyEvidence } from '../../consensus/evidence.ts'
import { computeValidatorSet } from '../../consensus/validatorSet.ts'
import { equalBytes, toHex, verify } from '../crypto/index.ts'
import type { ApplyContext } from './applyContext.ts'
import { StateError } from './errors.ts'
import { AgreedResult, BOND_KIND, EXECUTION_STATUS } from './records.ts'
import { StateOverlay, type StateReader } from './stateView.ts'
import { TABLES } from './tables.ts'
import { beginUnbonding, burnFromSupply, computeShare, readBondAccount, slashableUnbonding, slashUnbonding, tombstone } from './unbonding.ts'

/**
 * Applies one evidence entry: checks the offence against the state and slashes its offender
 * once. Slashed funds are burned. Invalid, expired or repeated evidence throws, so a block
 * carrying it is rejected (and the gossip/RPC path refuses it before it reaches a block).
 */
export function applyEvidence(state: StateOverlay, entry: EvidenceEntry, ctx: ApplyContext): void {
  const s = state.child()
  if (entry.offence.type === 'equivocation') slashEquivocation(s, entry.offence.evidence, ctx)
  else slashContradictingReceipt(s, entry.offence.receipt, ctx)
  s.mergeInto(state)
}

/**
 * Whether the offence would apply in the next block on `state` (height = head + 1), without
 * writing anything: what gossip, RPC and the pool check. Throws the typed error of applyEvidence.
 */
export function checkOffence(state: StateReader, offence: Offence, ctx: ApplyContext): void {
  applyEvidence(new StateOverlay(state), { type: 'evidence', offence }, ctx)
}

export interface ValidatorSlash { offender: Address; burned: bigint }

/**
 * A validator's equivocation. Its stake at the offence height is taken to be what it still has
 * bonded plus what it began unbonding at or after that height (stake added later is counted
 * too: the set only grows by staking, and an equivocator loses its share of all of it). The
 * first valid evidence burns `slashShareBps` of both, removes the validator, starts the rest
 * unbonding and tombstones the address; any later evidence against it is ALREADY_SLASHED.
 */
export function slashEquivocation(state: StateOverlay, evidence: Evidence, ctx: ApplyContext): ValidatorSlash {
  const params = ctx.genesis.params
  const offender = evidenceOffender(evidence)
  const offenceHeight = evidence.first.body.height
  const bonded = state.read(TABLES.validator.at(offender))
  const stakeThen = (bonded?.stake ?? 0n) + slashableUnbonding(state, offender, BOND_KIND.validatorStake, offenceHeight)
  verifyEvidence(evidence, {
    chainId: ctx.genesis.chainId,
    validatorsAtHeight: computeValidatorSet(stakeThen > 0n ? [{ address: offender, stake: stakeThen }] : []),
    currentHeight: ctx.height,
    maxAgeHeights: params.unbondingHeights,
  })
  // After the evidence check, so that held evidence of a slashed validator still expires (the pool drops it then).
  if (readBondAccount(state, offender).slashedAtHeight !== undefined) throw new BftError('ALREADY_SLASHED', 'offender was already slashed', { validator: toHex(offender) })
  let burned = slashUnbonding(state, offender, BOND_KIND.validatorStake, offenceHeight, params.slashShareBps)
  if (bonded !== undefined) {
    const cut = computeShare(bonded.stake, params.slashShareBps)
    burned += cut
    state.write(TABLES.validator.at(offender), undefined)
    if (bonded.stake > cut) beginUnbonding(state, { owner: offender, kind: BOND_KIND.validatorStake, amount: bonded.stake - cut }, ctx.height, params)
  }
  burnFromSupply(state, burned)
  tombstone(state, offender, ctx.height)
  return { offender, burned }
}

/** Whether a receipt's result differs from the one its execution settled with. */
export function contradicts(receipt: Receipt, agreed: AgreedResult): boolean {
  const b = receipt.body
  return b.outcome !== agreed.outcome || b.fuelUsed !== agreed.fuelUsed || !equalBytes(b.resultHash, agreed.resultHash)
}

/**
 * Slashes `hostSlashShareBps` of a host's bond (or of its unbonding bond, if it left) for its
 * signed receipt of an execution contradicting the agreed result, once per (execution, host).
 * Used by late evidence and by a completion that carries the dissenting receipt itself.
 */
export function slashReceiptOffence(state: StateOverlay, receipt: Receipt, ctx: ApplyContext, sinceHeight: number): bigint {
  const { executionId, host } = receipt.body
  const mark = TABLES.receiptOffence.key(executionId, host)
  if (state.get(mark) !== undefined) throw new BftError('ALREADY_SLASHED', 'this receipt offence was already slashed', { validator: toHex(host) })
  const burned = slashHostBond(state, host, ctx.genesis.params.hostSlashShareBps, sinceHeight)
  state.set(mark, new Uint8Array([1]))
  return burned
}

/**
 * Burns `bps` of a host's bond: of the bond it holds, and of host bonds it has unbonding since
 * `sinceHeight` (a host that left is still answerable for what it did before). Returns the burn.
 */
export function slashHostBond(state: StateOverlay, host: Address, bps: number, sinceHeight: number): bigint {
  const record = state.read(TABLES.host.at(host))
  let burned = 0n
  if (record !== undefined && record.bond > 0n) {
    const cut = computeShare(record.bond, bps)
    burned += cut
    state.write(TABLES.host.at(host), { ...record, bond: record.bond - cut })
  }
  burned += slashUnbonding(state, host, BOND_KIND.hostBond, sinceHeight, bps)
  burnFromSupply(state, burned)
  return burned
}

function slashContradictingReceipt(state: StateOverlay, receipt: Receipt, ctx: ApplyContext): void {
  const b = receipt.body
  if (b.chainId !== ctx.genesis.chainId) throw new StateError('WRONG_CHAIN', 'receipt for another chain', { got: b.chainId, expected: ctx.genesis.chainId })
  const execution = state.read(TABLES.execution.at(b.executionId))
  if (execution === undefined) throw new StateError('UNKNOWN_EXECUTION', `no execution ${toHex(b.executionId)}`)
  if (!execution.assignment.some((h) => equalBytes(h, b.host))) throw new StateError('BAD_EVIDENCE', 'the host was not assigned this execution', { field: 'receipt.host' })
  const agreed = execution.agreed
  if (execution.status !== EXECUTION_STATUS.completed || agreed === undefined) throw new StateError('BAD_EVIDENCE', 'the execution did not settle with an agreed result', { field: 'receipt.executionId' })
  if (ctx.height - agreed.settledHeight > ctx.genesis.params.unbondingHeights) {
    throw new BftError('EVIDENCE_EXPIRED', 'receipt evidence older than the unbonding period', { height: agreed.settledHeight, currentHeight: ctx.height, maxAgeHeights: ctx.genesis.params.unbondingHeights })
  }
  if (!contradicts(receipt, agreed)) throw new StateError('BAD_EVIDENCE', 'the receipt agrees with the settled result', { field: 'receipt' })
  if (!verify(b.host, receiptSigningHash(b), receipt.signature)) throw new StateError('BAD_SIGNATURE', `receipt from ${toHex(b.host)} has a bad signature`, { host: toHex(b.host) })
  // A host that left since still has its bond unbonding: that is slashed instead.
  slashReceiptOffence(state, receipt, ctx, 0)
}
