import type { Hash, SignedTx } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'
import type { BatchAnswer } from '../transports/transport.ts'

export interface SendTransactionsParameters { txs: readonly SignedTx[] }
export type SendTransactionsReturnType = BatchAnswer<Hash>[]

/**
 * Submits signed txs in one round trip (a JSON-RPC batch of xsc_sendTransaction: one POST on HTTP,
 * one message on a WebSocket, as a wallet or an exchange sends many at once), admitted in the order given, so one sender's
 * consecutive nonces can share a batch. Each tx gets its id or its own RpcClientError
 * (NONCE_TOO_LOW, INSUFFICIENT_FUNDS, ...); rejects only when the batch as a whole failed.
 */
export function sendTransactions(client: Client, params: SendTransactionsParameters): Promise<SendTransactionsReturnType> {
  return client.requestBatch('xsc_sendTransaction', params.txs.map((tx) => [tx] as [SignedTx]))
}
