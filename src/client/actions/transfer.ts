import type { Address, Hash } from '../../../blocks/schema.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import type { Client } from '../createClient.ts'
import { buildTransfer, signTx } from '../tx.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getNonce } from './getNonce.ts'
import { sendTransaction } from './sendTransaction.ts'

export interface TransferParameters { account: KeyPair; to: Address; amount: bigint; fee?: bigint; nonce?: number; chainId?: string }
export type TransferReturnType = Hash

/** Builds, signs and sends a transfer; chain id and nonce are fetched unless given. */
export async function transfer(client: Client, p: TransferParameters): Promise<TransferReturnType> {
  const chainId = p.chainId ?? (await getChainStatus(client)).chainId
  const nonce = p.nonce ?? (await getNonce(client, { address: p.account.publicKey }))
  const body = buildTransfer({ chainId, from: p.account.publicKey, nonce, fee: p.fee ?? 0n, to: p.to, amount: p.amount })
  return sendTransaction(client, { tx: signTx(body, p.account.secretKey) })
}
