import type { Hash } from '../../../blocks/schema.ts'
import { equalBytes } from '../../crypto/bytes.ts'
import type { CompletionView, ExecutionView } from '../../rpc/formats.ts'
import { EXECUTION_STATUS } from '../../state/records.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'
import { getBlock } from './getBlock.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getExecution } from './getExecution.ts'

export interface WaitForExecutionParameters { id: Hash; timeoutMs?: number; pollMs?: number; onProgress?(execution: ExecutionView | null): void }
export type WaitForExecutionReturnType = ExecutionView & { completion: NonNullable<ExecutionView['completion']> }

/**
 * Polls until a completion block settled the execution (agreed or failed); the result is in
 * `completion.entry`. A node without an execution index reports the settled record but no
 * completion: the completion entry is then found in the blocks after the scheduling block.
 */
export async function waitForExecution(client: Client, p: WaitForExecutionParameters): Promise<WaitForExecutionReturnType> {
  const deadline = Date.now() + (p.timeoutMs ?? 120_000)
  let scanFrom: number | undefined
  for (;;) {
    const ex = await getExecution(client, { id: p.id })
    p.onProgress?.(ex)
    if (ex !== null && ex.completion !== undefined) return ex as WaitForExecutionReturnType
    if (ex !== null && ex.record.status !== EXECUTION_STATUS.pending) {
      scanFrom ??= ex.scheduled.height + 1
      const found = await findCompletion(client, p.id, scanFrom)
      if (found.completion !== undefined) return { ...ex, completion: found.completion }
      scanFrom = found.next
    }
    if (Date.now() > deadline) throw new RpcClientError('TIMEOUT', 'execution not settled before the timeout', { id: p.id })
    await new Promise((r) => setTimeout(r, p.pollMs ?? 250))
  }
}

/** The completion entry of `id` in a completion block at or after `from` (entry ids of completions are execution ids). */
async function findCompletion(client: Client, id: Hash, from: number): Promise<{ completion?: CompletionView; next: number }> {
  const head = (await getChainStatus(client)).head.height
  for (let h = from; h <= head; h++) {
    const block = await getBlock(client, { height: h })
    if (block === null) return { next: h }
    if (block.header.kind !== 'completion' || !block.entryIds.some((e) => equalBytes(e, id))) continue
    const full = await getBlock(client, { height: h, includeEntries: true })
    for (const entry of full?.entries ?? []) {
      if (entry.type === 'completion' && equalBytes(entry.executionId, id)) {
        const { type: _type, ...rest } = entry
        return { completion: { block: { height: h, hash: block.hash }, entry: rest }, next: h }
      }
    }
  }
  return { next: head + 1 }
}
