import { computeResultHash, computeWriteSetHash } from '../../blocks/executionHashes.ts'
import { type Hash, LIMITS, OUTCOME } from '../../blocks/schema.ts'
import type { ExecutionResult } from './executeModule.ts'
import { encryptPrivateOutput, PRIVATE_OUTPUT_OVERHEAD } from './privateExecutionCipher.ts'

/**
 * What a host reports for a private execution: the output encrypted under the key derived from
 * K, the execution and the state it ran on (identical on every honest host), no writes (private
 * executions leave state alone, src/state/market/computeCompletion.ts) and no guest logs; the
 * result hash is over the ciphertext, so validators compare hosts without learning the output.
 * An output too long to fit the receipt once encrypted is the `limit` outcome with an empty output.
 */
export function sealPrivateResult(key: Uint8Array, executionId: Hash, preStateHash: Hash, result: ExecutionResult): ExecutionResult {
  const fits = result.output.length + PRIVATE_OUTPUT_OVERHEAD <= LIMITS.output
  const outcome = fits ? result.outcome : OUTCOME.limit
  const output = encryptPrivateOutput(key, executionId, preStateHash, fits ? result.output : new Uint8Array(0))
  return { outcome, reason: fits ? result.reason : 'encrypted output over the limit', output, fuelUsed: result.fuelUsed, logs: [], writeSet: [], resultHash: computeResultHash(outcome, output), writeSetHash: computeWriteSetHash([]) }
}
