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

/**
 * The fee of `body` at `feePerByte`: size × feePerByte, where the size counts the fee's own
 * bytes (amounts are encoded without leading zeros, so the fee is settled by iterating).
 */
export function computeFeeAt(body: Omit<TxBody, 'fee'>, feePerByte: bigint): bigint {
  let fee = 0n
  for (let i = 0; i < 4; i++) {
    const size = BigInt(encode(SignedTx, { body: { ...body, fee }, signature: new Uint8Array(64) }).length)
    const next = size * feePerByte
    if (next === fee) break
    fee = next
  }
  // The last step may have lengthened the fee by a byte: price that byte too.
  const size = BigInt(encode(SignedTx, { body: { ...body, fee }, signature: new Uint8Array(64) }).length)
  return size * feePerByte > fee ? size * feePerByte : fee
}

export function signTx(body: TxBody, secretKey: Uint8Array): SignedTx {
  return { body, signature: sign(secretKey, txSigningHash(body)) }
}

export function encodeSignedTx(tx: SignedTx): Uint8Array {
  return encode(SignedTx, tx)
}

export { txId }
