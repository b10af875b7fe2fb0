import type { CompletionEntry } from '../../blocks/schema.ts'
import type { ApplyContext } from './applyContext.ts'
import { contradicts, slashReceiptOffence } from './applyEvidence.ts'
import { AgreedResult } from './records.ts'
import type { StateOverlay } from './stateView.ts'
import { TABLES } from './tables.ts'

/**
 * After an agreed completion: keep the agreed result (a receipt contradicting it that arrives
 * later is evidence, src/state/applyEvidence.ts) and slash the bond of every host whose signed
 * receipt in the entry contradicts it. Slashed bond is burned; each (execution, host) once.
 */
export function settleAgreedResult(state: StateOverlay, entry: CompletionEntry, ctx: ApplyContext): void {
  const agreed: AgreedResult = { outcome: entry.outcome, resultHash: entry.resultHash, fuelUsed: entry.fuelUsed, settledHeight: ctx.height }
  state.write(TABLES.agreedResult.at(entry.executionId), agreed)
  for (const r of entry.receipts) if (contradicts(r, agreed)) slashReceiptOffence(state, r, ctx, 0)
}
