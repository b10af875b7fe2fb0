import type { Block, BlockEntry, BlockHeader, BlockKind } from '../../blocks/schema.ts'
import { bytesKey } from '../crypto/index.ts'
import { applyAudit } from './applyAudit.ts'
import { applyCompletion } from './applyCompletion.ts'
import type { ApplyContext } from './applyContext.ts'
import { applyDeployment } from './applyDeployment.ts'
import { applyEvidence } from './applyEvidence.ts'
import { applyExecution, pruneExpiredExecutions } from './applyExecution.ts'
import { applyLedgerTx } from './applyLedger.ts'
import { applyStorageAcks, settlePlacementDeadlines } from './applyStorageAck.ts'
import { applyBeaconReveal } from './beaconState.ts'
import { StateError } from './errors.ts'
import type { TreeNodeWrite } from './stateTree/treeNode.ts'
import { computeStateRoot, StateOverlay, type StateReader, type StateWrite } from './stateView.ts'
import { applyLiveness, settleLivenessEpoch } from './storage/livenessState.ts'
import { releaseUnbonded } from './unbonding.ts'

export interface ApplyResult {
  writes: StateWrite[]
  stateRoot: Uint8Array
  /** The state tree nodes the new root adds (the chain store persists them with the block). */
  treeNodes: TreeNodeWrite[]
}

/**
 * The state transition: the same block on the same state gives the same write set and state
 * root on every machine. Pure: facts from outside arrive in `ctx`; nothing here does I/O.
 * Entries apply in order; any failing entry fails the whole block.
 */
export function applyBlock(state: StateReader, block: Block, prevStateRoot: Uint8Array, ctx: ApplyContext): ApplyResult {
  const overlay = beginBlock(state, block.header, ctx)
  for (const entry of block.entries) applyEntry(overlay, entry, ctx, block.entries.length)
  return finishBlock(state, overlay, prevStateRoot, ctx, block.header.kind)
}

/**
 * What a block does before its entries, on a new overlay over `state`. A proposer that builds on
 * it (entry by entry, as applyEntry) and ends with finishBlock gets exactly applyBlock's result.
 */
export function beginBlock(state: StateReader, header: Pick<BlockHeader, 'proposer' | 'beaconReveal'>, ctx: ApplyContext): StateOverlay {
  const overlay = new StateOverlay(state)
  pruneExpiredExecutions(overlay, ctx)
  // Funds whose unbonding period ends at this height come back first, whatever the block holds.
  releaseUnbonded(overlay, ctx.height)
  // The reveal is checked against the parent's beacon record, before a validator.beacon tx of this
  // block can re-commit. Seeds never read the mix from state: they take ctx.beaconMix (the parent's).
  applyBeaconReveal(overlay, header, ctx.genesis.params.beaconChainLength)
  return overlay
}

/** One entry of a block of `entryCount` entries. */
export function applyEntry(overlay: StateOverlay, entry: BlockEntry, ctx: ApplyContext, entryCount: number): void {
  switch (entry.type) {
    case 'tx':
      applyLedgerTx(overlay, entry.tx, ctx)
      break
    case 'deployment':
      applyDeployment(overlay, entry, ctx)
      break
    case 'execution':
      applyExecution(overlay, entry, ctx)
      break
    case 'completion':
      applyCompletion(overlay, entry, ctx)
      break
    case 'audit':
      if (entryCount !== 1) throw new StateError('INVALID_TX', 'an audit block holds exactly one audit entry')
      applyAudit(overlay, entry, ctx)
      break
    case 'evidence':
      applyEvidence(overlay, entry, ctx)
      break
    case 'storageAck':
      applyStorageAcks(overlay, entry, ctx)
      break
    case 'liveness':
      applyLiveness(overlay, entry, ctx)
      break
    case 'genesis':
      throw new StateError('WRONG_ENTRY_KIND', 'a genesis entry can only be in the genesis block')
  }
}

/** What a block of `kind` does after its entries, then its write set and state root. */
export function finishBlock(state: StateReader, overlay: StateOverlay, prevStateRoot: Uint8Array, ctx: ApplyContext, kind: BlockKind): ApplyResult {
  // After the entries, so the proposer's per-entry checks saw the same state.
  settlePlacementDeadlines(overlay, ctx)
  settleLivenessEpoch(overlay, ctx, kind)
  const writes = overlay.writeSet()
  const { stateRoot, treeNodes, unchanged } = computeStateRoot(state.treeNodes, prevStateRoot, writes)
  // Writes that change nothing leave the set: a follower offered a block's writes takes any such write as padding.
  if (unchanged.length === 0) return { writes, stateRoot, treeNodes }
  const dropped = new Set(unchanged.map(bytesKey))
  return { writes: writes.filter((w) => !dropped.has(bytesKey(w.key))), stateRoot, treeNodes }
}
