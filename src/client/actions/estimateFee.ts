import type { FeeEstimate } from '../../rpc/backend.ts'
import type { Client } from '../createClient.ts'

export interface EstimateFeeParameters {
  /** Size of the tx in bytes (its canonical encoding); the node assumes a transfer's when absent. */
  size?: number
}
export type EstimateFeeReturnType = FeeEstimate

/** The next block's fee for a tx of `size` bytes: the least it takes (`required`) and a suggested `fee` with headroom. */
export function estimateFee(client: Client, p: EstimateFeeParameters = {}): Promise<EstimateFeeReturnType> {
  return client.request('xsc_feeEstimate', [p.size])
}
