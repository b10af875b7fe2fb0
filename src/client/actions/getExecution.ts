import type { Hash } from '../../../blocks/schema.ts'
import type { ExecutionView } from '../../rpc/formats.ts'
import type { Client } from '../createClient.ts'

export interface GetExecutionParameters { id: Hash }
export type GetExecutionReturnType = ExecutionView | null

export async function getExecution(client: Client, params: GetExecutionParameters): Promise<GetExecutionReturnType> {
  return (await client.request('xsc_getExecution', [params.id])) ?? null
}
