import { encode } from '../../blocks/codec.ts'
import { txId, txSigningHash } from '../../blocks/ids.ts'
import { type Address, SignedTx, type TxBody, type TxPayload } from '../../blocks/schema.ts'
import { sign } from '../crypto/ed25519.ts'

/** Transaction builders and signing: a body from its parts, signed over `txSigningHash`. */
export interface BuildTxParameters { chainId: string; from: Address; nonce: number; fee?: bigint; payload: TxPayload }

export function buildTx(p: BuildTxParameters): TxBody {
  return { chainId: p.chainId, from: p.from, nonce: p.nonce, fee: p.fee ?? 0n, payload: p.payload }
}

export function buildTransfer(p: Omit<BuildTxParameters, 'payload'> & { to: Address; amount: bigint }): TxBody {
  return buildTx({ ...p, payload: { type: 'transfer', to: p.to, amount: p.amount } })
}

export function signTx(body: TxBody, secretKey: Uint8Array): SignedTx {
  return { body, signature: sign(secretKey, txSigningHash(body)) }
}

export function encodeSignedTx(tx: SignedTx): Uint8Array {
  return encode(SignedTx, tx)
}

export { txId }
