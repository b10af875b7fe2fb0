import { txId } from '../../blocks/ids.ts'
import { type Address, ASSET_KIND, type ExecutePayload, type ExecutionEntry } from '../../blocks/schema.ts'
import { equalBytes, toHex } from '../crypto/index.ts'
import { computeExecutionRequest, findPlacementConstraintError, route } from '../router/index.ts'
import { debit } from './accounts.ts'
import type { ApplyContext } from './applyContext.ts'
import { beginTx } from './applyLedger.ts'
import { StateError } from './errors.ts'
import { enqueueExecution } from './executionQueue.ts'
import { computeEscrow } from './market/index.ts'
import { ASSET_STATUS, EXECUTION_STATUS } from './records.ts'
import { computeRouteSeed } from './routeSeed.ts'
import type { StateOverlay } from './stateView.ts'
import { TABLES } from './tables.ts'


export function computeAssignment(payload: ExecutePayload, id: Uint8Array, ctx: ApplyContext): Address[] {
  if (!ctx.hostIndex) throw new StateError('UNSUPPORTED', 'execution needs the host index')
  return route(computeExecutionRequest(payload), ctx.hostIndex, computeRouteSeed(ctx.beaconMix, id))
}

/** Checks an execute payload against the chain's parameters and the asset; throws typed errors. */
export function checkExecutePayload(state: StateOverlay, p: ExecutePayload, ctx: ApplyContext): void {
  const params = ctx.genesis.params
  const bad = (field: string, why: string): never => {
    throw new StateError('INVALID_TX', `execute: ${field} ${why}`, { field })
  }
  const asset = state.read(TABLES.asset.at(p.asset))
  if (asset === undefined || asset.status === ASSET_STATUS.expired || asset.status === ASSET_STATUS.refunded) throw new StateError('UNKNOWN_ASSET', `no stored asset ${toHex(p.asset)}`, { asset: toHex(p.asset) })
  if (asset.kind === ASSET_KIND.blob) bad('asset', 'is a data blob, not a WASM module or component')
  if (p.replicas < 1 || p.replicas > params.maxReplicas) bad('replicas', `must be 1..${params.maxReplicas}`)
  if (p.quorum < 1 || p.quorum > p.replicas) bad('quorum', 'must be 1..replicas')
  if (p.fuelLimit === 0n) bad('fuelLimit', 'must be positive')
  if (p.fuelLimit > params.maxFuelLimit) throw new StateError('INVALID_TX', `execute: fuelLimit exceeds the chain maximum ${params.maxFuelLimit}`, { field: 'fuelLimit', code: 'FUEL_LIMIT_TOO_HIGH', max: params.maxFuelLimit.toString() })
  if (p.deadlineSlots < 1 || p.deadlineSlots > 10_000) bad('deadlineSlots', 'must be 1..10000')
  const why = findPlacementConstraintError(p)
  if (why !== undefined) bad(why.field, why.reason)
}

/**
 * An execution: the client pays the fee and escrows the most the completion can pay; the
 * assignment must be exactly the router's answer; the record waits for receipts until its
 * deadline slot.
 */
export function applyExecution(state: StateOverlay, entry: ExecutionEntry, ctx: ApplyContext): void {
  const { tx } = entry
  if (tx.body.payload.type !== 'execute') throw new StateError('WRONG_ENTRY_KIND', `an execution entry carries a ${tx.body.payload.type} tx`)
  const p = tx.body.payload
  checkExecutePayload(state, p, ctx)
  const s = beginTx(state, tx, ctx)
  const id = txId(tx)
  const escrow = computeEscrow({ fuelLimit: p.fuelLimit, bidPerFuel: p.bidPerFuel, replicas: p.replicas, private: p.private }, ctx.genesis.params)
  if (entry.escrow !== escrow) throw new StateError('ENTRY_MISMATCH', 'escrow differs', { field: 'escrow', got: entry.escrow.toString(), expected: escrow.toString() })
  const expected = computeAssignment(p, id, ctx)
  if (expected.length < p.replicas) throw new StateError('INVALID_TX', `only ${expected.length} eligible compute hosts for ${p.replicas} replicas at this bid`, { needed: p.replicas, found: expected.length })
  if (entry.assignment.length !== expected.length || entry.assignment.some((h, i) => !equalBytes(h, expected[i]!))) {
    throw new StateError('ENTRY_MISMATCH', 'assignment differs from the router', { field: 'assignment', got: entry.assignment.map(toHex), expected: expected.map(toHex) })
  }
  if (s.read(TABLES.execution.at(id)) !== undefined) throw new StateError('INVALID_TX', 'execution already exists')
  debit(s, tx.body.from, escrow)
  const seq = enqueueExecution(s, p.asset, id, ctx.slot)
  s.write(TABLES.execution.at(id), {
    client: tx.body.from,
    asset: p.asset,
    fn: p.fn,
    input: p.input,
    fuelLimit: p.fuelLimit,
    bidPerFuel: p.bidPerFuel,
    replicas: p.replicas,
    quorum: p.quorum,
    private: p.private,
    assignment: expected,
    escrow,
    startSlot: ctx.slot,
    deadlineSlot: ctx.slot + p.deadlineSlots,
    status: EXECUTION_STATUS.pending,
    origin: p.origin,
    seq,
    agreed: undefined,
  })
  s.mergeInto(state)
}

/**
 * A settled execution's input leaves state `executionRetentionHeights` blocks after its
 * settlement (blocks keep it): its id joins the list of that expiry height, so pruning reads one
 * key per block instead of scanning.
 */
export function scheduleExecutionExpiry(state: StateOverlay, id: Uint8Array, ctx: Pick<ApplyContext, 'height' | 'genesis'>): void {
  const at = ctx.height + Math.max(1, ctx.genesis.params.executionRetentionHeights)
  const row = TABLES.executionExpiry.at(at)
  const list = state.read(row)?.executions ?? []
  state.write(row, { executions: [...list, id] })
}

/** At the start of each block: the executions due at its height keep their record but lose their input. */
export function pruneExpiredExecutions(state: StateOverlay, ctx: Pick<ApplyContext, 'height'>): void {
  const row = TABLES.executionExpiry.at(ctx.height)
  const due = state.read(row)
  if (due === undefined) return
  for (const id of due.executions) {
    const rec = state.read(TABLES.execution.at(id))
    if (rec !== undefined && rec.status !== EXECUTION_STATUS.pending) state.write(TABLES.execution.at(id), { ...rec, input: new Uint8Array(0) })
  }
  state.write(row, undefined)
}
