import type { CompletionEntry } from '../../blocks/schema.ts'
import { toHex } from '../crypto/index.ts'
import type { ApplyContext } from './applyContext.ts'
import { contradicts, slashReceiptOffence } from './applyEvidence.ts'
import { StateError } from './errors.ts'
import type { AgreedResult } from './records.ts'
import type { StateOverlay } from './stateView.ts'
import { TABLES } from './tables.ts'

/**
 * After an agreed completion: keep the agreed result in the execution's record (a receipt
 * contradicting it that arrives later is evidence, src/state/applyEvidence.ts; the record is
 * rewritten by the completion anyway, so this costs no state row of its own) and slash the bond
 * of every host whose signed receipt in the entry contradicts it. Slashed bond is burned; each
 * (execution, host) once.
 */
export function settleAgreedResult(state: StateOverlay, entry: CompletionEntry, ctx: ApplyContext): void {
  const row = TABLES.execution.at(entry.executionId)
  const rec = state.read(row)
  if (rec === undefined) throw new StateError('UNKNOWN_EXECUTION', `no execution ${toHex(entry.executionId)}`)
  const agreed: AgreedResult = { outcome: entry.outcome, resultHash: entry.resultHash, fuelUsed: entry.fuelUsed, settledHeight: ctx.height }
  state.write(row, { ...rec, agreed })
  for (const r of entry.receipts) if (contradicts(r, agreed)) slashReceiptOffence(state, r, ctx, 0)
}
