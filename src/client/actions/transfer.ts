import type { Address, Hash } from '../../../blocks/schema.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import type { Client } from '../createClient.ts'
import { signAndSend } from './signAndSend.ts'

export interface TransferParameters { account: KeyPair; to: Address; amount: bigint; fee?: bigint; nonce?: number; chainId?: string }
export type TransferReturnType = Hash

/** Builds, signs and sends a transfer; chain id and nonce are fetched unless given. */
export function transfer(client: Client, p: TransferParameters): Promise<TransferReturnType> {
  return signAndSend(client, { account: p.account, payload: { type: 'transfer', to: p.to, amount: p.amount }, fee: p.fee, nonce: p.nonce, chainId: p.chainId })
}
