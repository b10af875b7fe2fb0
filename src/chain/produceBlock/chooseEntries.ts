import { XscError } from '../../../blocks/errors.ts'
import { txId } from '../../../blocks/ids.ts'
import { type Block, type BlockEntry, LIMITS, type SignedTx, type StorageAck } from '../../../blocks/schema.ts'
import { applyEntry, beginBlock } from '../../state/applyBlock.ts'
import type { ApplyContext } from '../../state/applyContext.ts'
import { computePlacement } from '../../state/applyDeployment.ts'
import { applyEvidence } from '../../state/applyEvidence.ts'
import { computeAssignment } from '../../state/applyExecution.ts'
import { computeMaxBlockTxBytes } from '../../state/fees.ts'
import { computeEscrow } from '../../state/market/index.ts'
import { StateTreeError } from '../../state/stateTree/errors.ts'
import { StateOverlay, type StateReader } from '../../state/stateView.ts'
import type { EvidenceSink } from '../evidencePool.ts'
import { assetTargetOf, type Mempool, type PoolKind } from '../mempool.ts'
import type { ReceiptPool } from '../receiptPool.ts'
import { type AuditAnswers, buildAuditEntry } from './buildAuditEntry.ts'
import { buildCompletions } from './buildCompletions.ts'
import { buildLivenessEntry, type HeartbeatPool } from './buildLivenessEntry.ts'
import { buildStorageAckEntry } from './buildStorageAckEntry.ts'

/** Completion entries one block carries at most. */
const MAX_COMPLETIONS_PER_BLOCK = 256

export interface ChooseEntriesInput {
  state: StateReader
  ctx: ApplyContext
  mempool: Pick<Mempool, 'select' | 'isPendingDeploy' | 'drop'>
  receipts: ReceiptPool
  maxTxs: number
  /** The hosts' answers, gathered before the lock when this block is due to carry an audit. */
  auditAnswers: AuditAnswers | undefined
  /** Offences waiting for a block (validator equivocations, contradicting receipts). */
  evidence?: EvidenceSink
  /** Storage acks gathered before the lock from the hosts of waiting placements. */
  storageAcks?: readonly StorageAck[]
  /** Hosts' heartbeats held for the open liveness epoch: they ride first in any block but audit blocks. */
  heartbeats?: Pick<HeartbeatPool, 'pending'>
  /** The block's beacon reveal: given, the entries are tried on the block's own transition, which the choice then carries (`applied`). */
  beaconReveal?: Uint8Array
}

export interface ChosenEntries {
  kind: Block['header']['kind']
  entries: BlockEntry[]
  /**
   * The block's transition so far (applyBlock's `beginBlock`, then exactly these entries in
   * order, as applyEntry): `finishBlock` on it gives the block's state root without applying
   * the entries a second time. Absent when the entries were not tried on it (audit, evidence
   * and storage blocks, or no reveal given): the block is then applied whole.
   */
  applied?: StateOverlay
}

/**
 * What this slot's block carries, by priority: the audit of a new epoch (when something is
 * stored), storage acks of waiting placements, settled executions, then a mempool kind chosen fairly (Mempool.select). Building may
 * be non-deterministic (arrival order, answers gathered); the block it yields is checked
 * deterministically by everyone, this node included.
 */
export function chooseEntries(input: ChooseEntriesInput): ChosenEntries {
  const block = openBlock(input)
  // Heartbeats go first in the block (any block but an audit block), so they are tried first.
  let liveness = input.auditAnswers !== undefined || input.heartbeats === undefined ? undefined : buildLivenessEntry(input.state, input.ctx, input.heartbeats)
  if (liveness !== undefined && block !== undefined && !tryEntry(block, liveness, input.ctx)) liveness = undefined
  const chosen = chooseMainEntries(input, block)
  return liveness === undefined ? chosen : { ...chosen, entries: [liveness, ...chosen.entries] }
}

/** The block's transition before its entries, when the reveal is known and it applies. */
function openBlock(input: ChooseEntriesInput): StateOverlay | undefined {
  if (input.beaconReveal === undefined) return undefined
  try {
    return beginBlock(input.state, { proposer: input.ctx.proposer, beaconReveal: input.beaconReveal }, input.ctx)
  } catch (err) {
    if (err instanceof StateTreeError) throw err // tree nodes not loaded yet: the caller loads them and runs again
    return undefined // the block will be applied whole (and fail the same way there)
  }
}

/** Applies `entry` on `block` if it applies (nothing of a failed one stays). */
function tryEntry(block: StateOverlay, entry: BlockEntry, ctx: ApplyContext): boolean {
  const attempt = block.child()
  try {
    applyEntry(attempt, entry, ctx, 0)
  } catch (err) {
    if (err instanceof StateTreeError) throw err
    return false
  }
  attempt.mergeInto(block)
  return true
}

function chooseMainEntries(input: ChooseEntriesInput, block: StateOverlay | undefined): ChosenEntries {
  const { state, ctx } = input
  if (input.auditAnswers !== undefined) return { kind: 'audit', entries: [buildAuditEntry(state, ctx, input.auditAnswers)] }
  // Evidence is rare and must land within the unbonding period: it goes before everything else.
  const evidence = chooseEvidence(state, ctx, input.evidence)
  if (evidence.length > 0) return { kind: 'ledger', entries: evidence }
  const acks = input.storageAcks && input.storageAcks.length > 0 ? buildStorageAckEntry(state, ctx, input.storageAcks) : undefined
  if (acks !== undefined) return { kind: 'storage', entries: [acks] }
  // Completions and txs are tried on the block's transition (or, without one, on an overlay of their own).
  const overlay = block ?? new StateOverlay(state)
  const applied = block
  const completions = buildCompletions(overlay, ctx, input.receipts, MAX_COMPLETIONS_PER_BLOCK)
  if (completions.length > 0) return { kind: 'completion', entries: completions, applied }
  const picked = input.mempool.select(input.maxTxs, ctx.slot, { baseFee: ctx.baseFee, maxBytes: computeMaxBlockTxBytes(ctx.genesis.params) })
  if (picked === undefined) return { kind: 'ledger', entries: [], applied }
  const entries: BlockEntry[] = []
  // Keep only txs that still apply, in order (a tx may depend on an earlier one).
  for (const tx of picked.txs) {
    const attempt = overlay.child()
    try {
      const entry = computeTxEntry(picked.kind, tx, ctx)
      applyEntry(attempt, entry, ctx, 0)
      attempt.mergeInto(overlay)
      entries.push(entry)
    } catch (err) {
      // Its asset's deployment is pending here and lands in a deployment block first: it waits.
      if (err instanceof XscError && err.code === 'UNKNOWN_ASSET' && input.mempool.isPendingDeploy(assetTargetOf(tx))) continue
      // A tx that cannot apply now leaves the pool with its successors, and the sender can see
      // why: kept, it would be picked again at every proposal.
      input.mempool.drop(tx, err instanceof XscError ? err : { code: 'INTERNAL', message: String(err) }, ctx.height)
    }
  }
  return { kind: entries.length > 0 ? picked.kind : 'ledger', entries, applied }
}

/** The entry a tx takes in a block of `kind`, with what the proposer adds (placement, assignment, escrow). */
function computeTxEntry(kind: PoolKind, tx: SignedTx, ctx: ApplyContext): BlockEntry {
  const p = tx.body.payload
  if (kind === 'deployment' && p.type === 'deploy') return { type: 'deployment', tx, placement: computePlacement(p, txId(tx), ctx) }
  if (kind === 'execution' && p.type === 'execute') return { type: 'execution', tx, assignment: computeAssignment(p, txId(tx), ctx), escrow: computeEscrow(p, ctx.genesis.params) }
  return { type: 'tx', tx }
}

/** Held offences that still apply on this state, in pool order (one that no longer applies waits for the pool's prune). */
function chooseEvidence(state: StateReader, ctx: ApplyContext, pool: EvidenceSink | undefined): BlockEntry[] {
  if (pool === undefined) return []
  const entries: BlockEntry[] = []
  const overlay = new StateOverlay(state)
  for (const offence of pool.pending(LIMITS.offencesPerBlock * 4)) {
    if (entries.length >= LIMITS.offencesPerBlock) break
    const entry: BlockEntry = { type: 'evidence', offence }
    try {
      applyEvidence(overlay, entry, ctx)
      entries.push(entry)
    } catch {
      // Already slashed, expired or never valid: not this block's business.
    }
  }
  return entries
}
