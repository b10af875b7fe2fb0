import { sameValue } from '../../../blocks/ids.ts'
import type { CompletionEntry } from '../../../blocks/schema.ts'
import { equalBytes, toHex } from '../../crypto/bytes.ts'
import { type CompletionInputs, type CompletionResult, computeCompletion } from './computeCompletion.ts'
import { MarketError } from './errors.ts'
import { verifyConservation } from './verifyConservation.ts'

function mismatch(field: string, got: unknown, expected: unknown): never {
  throw new MarketError('MISMATCH', `completion ${field} differs from the recomputed value`, { field, got, expected })
}

/**
 * A validator's check of a completion entry: recompute it from the previous state and the entry's
 * own receipts and compare every field, then check conservation against the escrow. Returns the
 * recomputed result (host updates to apply). Throws MarketError: 'MISMATCH' with {field, got,
 * expected}, 'NOT_COMPLETABLE' when the receipts reach no quorum before the deadline, and the
 * receipt admissibility codes of computeCompletion.
 * The write set is not checked here (it is data the shell supplies with the agreed writeSetHash).
 */
export function verifyCompletionEntry(entry: CompletionEntry, inputs: Omit<CompletionInputs, 'receipts'>): CompletionResult {
  if (!equalBytes(entry.executionId, inputs.executionId)) mismatch('executionId', toHex(entry.executionId), toHex(inputs.executionId))
  const want = computeCompletion({ ...inputs, receipts: entry.receipts })
  if (want === undefined) throw new MarketError('NOT_COMPLETABLE', 'the receipts reach no quorum and the deadline has not passed', { receipts: entry.receipts.length })
  if (entry.status !== want.status) mismatch('status', entry.status, want.status)
  if (entry.outcome !== want.outcome) mismatch('outcome', entry.outcome, want.outcome)
  if (!equalBytes(entry.resultHash, want.resultHash)) mismatch('resultHash', toHex(entry.resultHash), toHex(want.resultHash))
  if (entry.fuelUsed !== want.fuelUsed) mismatch('fuelUsed', entry.fuelUsed, want.fuelUsed)
  if (!equalBytes(entry.output, want.output)) mismatch('output', toHex(entry.output), toHex(want.output))
  // Field by field (every node runs this for every completion: no encoding of both lists).
  if (!sameValue(entry.payouts, want.payouts)) mismatch('payouts', entry.payouts, want.payouts)
  if (entry.refund !== want.refund) mismatch('refund', entry.refund, want.refund)
  if (entry.burn !== want.burn) mismatch('burn', entry.burn, want.burn)
  if (!sameValue(entry.reputation, want.reputation)) mismatch('reputation', entry.reputation, want.reputation)
  verifyConservation(inputs.execution.escrow, entry)
  return want
}
