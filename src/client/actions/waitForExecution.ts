import type { Hash } from '../../../blocks/schema.ts'
import type { ExecutionView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'
import { getExecution } from './getExecution.ts'

export interface WaitForExecutionParameters { id: Hash; timeoutMs?: number; pollMs?: number; onProgress?(execution: ExecutionView | null): void }
export type WaitForExecutionReturnType = ExecutionView & { completion: NonNullable<ExecutionView['completion']> }

/** Polls until a completion block settled the execution (agreed or failed); the result is in `completion.entry`. */
export async function waitForExecution(client: Client, p: WaitForExecutionParameters): Promise<WaitForExecutionReturnType> {
  const deadline = Date.now() + (p.timeoutMs ?? 120_000)
  for (;;) {
    const ex = await getExecution(client, { id: p.id })
    p.onProgress?.(ex)
    if (ex !== null && ex.completion !== undefined) return ex as WaitForExecutionReturnType
    if (Date.now() > deadline) throw new RpcClientError('TIMEOUT', 'execution not settled before the timeout', { id: p.id })
    await new Promise((r) => setTimeout(r, p.pollMs ?? 250))
  }
}
