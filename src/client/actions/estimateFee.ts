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

/**
 * How long `signAndSend` reuses a client's last suggested fee per byte. The suggestion is
 * 2 × base fee + minimum and the base fee rises at most 1/8 a block, so a suggestion a few slots
 * old still pays; asking again before every tx doubled the requests a sender makes per transfer
 * (each an HTTP request the node parses and answers). A send refused FEE_TOO_LOW on a reused
 * suggestion is priced afresh and sent once more.
 */
export const FEE_REUSE_MS = 1_000

const suggested = new WeakMap<Client, { feePerByte: Promise<bigint>; atMs: number }>()

/**
 * The node's suggested fee per byte: the client's last answer if asked less than FEE_REUSE_MS
 * ago (`reused` says so; sends that start together share one question), else asked.
 */
export async function suggestedFeePerByte(client: Client, nowMs = Date.now()): Promise<{ feePerByte: bigint; reused: boolean }> {
  const last = suggested.get(client)
  if (last !== undefined && nowMs - last.atMs >= 0 && nowMs - last.atMs < FEE_REUSE_MS) return { feePerByte: await last.feePerByte, reused: true }
  const feePerByte = estimateFee(client).then((e) => e.feePerByte)
  const entry = { feePerByte, atMs: nowMs }
  suggested.set(client, entry)
  try {
    return { feePerByte: await feePerByte, reused: false }
  } catch (err) {
    if (suggested.get(client) === entry) suggested.delete(client)
    throw err
  }
}

/** Drops the client's reusable suggestion (a send it priced was refused as too cheap). */
export function forgetSuggestedFee(client: Client): void {
  suggested.delete(client)
}
