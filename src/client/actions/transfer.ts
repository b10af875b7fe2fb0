import type { Address, Hash } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'
import { type SenderParameters,sendPayload } from './signAndSend.ts'

export interface TransferParameters extends SenderParameters { to: Address; amount: bigint }
export type TransferReturnType = Hash

/** Builds, signs and sends a transfer; chain id, nonce and fee are fetched unless given. */
export function transfer(client: Client, p: TransferParameters): Promise<TransferReturnType> {
  return sendPayload(client, p, { type: 'transfer', to: p.to, amount: p.amount })
}
