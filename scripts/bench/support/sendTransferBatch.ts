import type { Address, Hash } from '../../../blocks/schema.ts'
import { type BatchAnswer, buildTransfer, type Client, computeFeeAt, sendTransactions, signTx, suggestedFeePerByte } from '../../../src/client/index.ts'
import type { KeyPair } from '../../../src/crypto/index.ts'

/**
 * A sender's transfers with consecutive `nonces` in one JSON-RPC batch (sendTransactions), priced
 * by the client's suggested fee (one estimate per FEE_REUSE_MS, as signAndSend), as a wallet or an exchange sends many at once.
 */
export async function sendTransferBatch(c: Client, s: KeyPair, nonces: number[], p: { to: Address; amount: bigint; chainId: string }): Promise<BatchAnswer<Hash>[]> {
  const { feePerByte } = await suggestedFeePerByte(c)
  const fee = computeFeeAt({ chainId: p.chainId, from: s.publicKey, nonce: 0xffff_ffff, payload: { type: 'transfer', to: p.to, amount: p.amount } }, feePerByte)
  return sendTransactions(c, { txs: nonces.map((nonce) => signTx(buildTransfer({ chainId: p.chainId, from: s.publicKey, nonce, fee, to: p.to, amount: p.amount }), s.secretKey)) })
}
