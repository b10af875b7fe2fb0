import type { Address, Hash } from '../../../blocks/schema.ts'
import type { EstimateResult } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface EstimateFuelParameters { asset: Hash; fn: string; input?: Uint8Array; fuelLimit?: bigint; from?: Address }
export type EstimateFuelReturnType = EstimateResult

/** Dry run on the node: outcome, fuel used and output, nothing written or paid. */
export function estimateFuel(client: Client, p: EstimateFuelParameters): Promise<EstimateFuelReturnType> {
  return client.request('xsc_estimateFuel', [{ asset: p.asset, fn: p.fn, input: p.input ?? new Uint8Array(0), fuelLimit: p.fuelLimit, from: p.from }])
}
