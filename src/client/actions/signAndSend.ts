import type { Hash, SignedTx, TxPayload } from '../../../blocks/schema.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import type { Client } from '../createClient.ts'
import { buildTx, signTx } from '../tx.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getNonce } from './getNonce.ts'
import { sendTransaction } from './sendTransaction.ts'

export interface SignAndSendParameters {
  account: KeyPair
  payload: TxPayload
  fee?: bigint | undefined
  nonce?: number | undefined
  chainId?: string | undefined
  /** Receives the signed tx before it is sent (e.g. to hand it to waitForTransaction, which can then tell a dropped tx). */
  onSigned?: ((tx: SignedTx) => void) | undefined
}
export type SignAndSendReturnType = Hash

/** Builds a tx of any kind from its payload, signs it with `account` and sends it; chain id and nonce are fetched unless given. */
export async function signAndSend(client: Client, p: SignAndSendParameters): Promise<SignAndSendReturnType> {
  const chainId = p.chainId ?? (await getChainStatus(client)).chainId
  const nonce = p.nonce ?? (await getNonce(client, { address: p.account.publicKey }))
  const body = buildTx({ chainId, from: p.account.publicKey, nonce, fee: p.fee ?? 0n, payload: p.payload })
  const tx = signTx(body, p.account.secretKey)
  p.onSigned?.(tx)
  return sendTransaction(client, { tx })
}
