import type { Hash, SignedTx } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'

export interface SendTransactionParameters { tx: SignedTx }
export type SendTransactionReturnType = Hash

/** Submits a signed tx; resolves to its id, or rejects with RpcClientError (NONCE_TOO_LOW, INSUFFICIENT_FUNDS, ...). */
export function sendTransaction(client: Client, params: SendTransactionParameters): Promise<SendTransactionReturnType> {
  return client.request('xsc_sendTransaction', [params.tx])
}
