import type { Hash, SignedTx, TxPayload } from '../../../blocks/schema.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import type { Json } from '../../rpc/wire.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'
import { buildTx, computeFeeAt, signTx } from '../tx.ts'
import { forgetSuggestedFee, suggestedFeePerByte } from './estimateFee.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getNonce } from './getNonce.ts'
import { sendTransaction } from './sendTransaction.ts'

/** Who signs and how: the part every sending action takes besides its payload. */
export interface SenderParameters {
  account: KeyPair
  /** The tx fee; when absent the node's xsc_feeEstimate picks it (size × suggested fee per byte). */
  fee?: bigint | undefined
  nonce?: number | undefined
  chainId?: string | undefined
  /** Receives the signed tx before it is sent (e.g. to hand it to waitForTransaction, which can then tell a dropped tx). */
  onSigned?: ((tx: SignedTx) => void) | undefined
}
export interface SignAndSendParameters extends SenderParameters {
  payload: TxPayload
}
export type SignAndSendReturnType = Hash

/**
 * Builds a tx of any kind from its payload, signs it with `account` and sends it; chain id,
 * nonce and fee are fetched unless given (the fee: the tx's size at the node's suggested fee
 * per byte, see estimateFee, reused for FEE_REUSE_MS across this client's sends; `onSigned` shows
 * the fee chosen). A fetched nonce is the account's committed one; when the node
 * answers NONCE_TOO_LOW because txs of this account are still pending, the tx is signed again
 * once with the nonce the node expects (its `data.expected`), so commands can follow each other
 * without waiting for inclusion. A tx priced from a reused suggestion and refused FEE_TOO_LOW
 * (the base fee rose past it) is priced from a fresh one and sent once more.
 */
export async function signAndSend(client: Client, p: SignAndSendParameters): Promise<SignAndSendReturnType> {
  const chainId = p.chainId ?? (await getChainStatus(client)).chainId
  const nonce = p.nonce ?? (await getNonce(client, { address: p.account.publicKey }))
  // Priced at the widest nonce, so a retry with the nonce the node names still pays enough.
  const priced = (feePerByte: bigint): bigint => computeFeeAt({ chainId, from: p.account.publicKey, nonce: 0xffff_ffff, payload: p.payload }, feePerByte)
  const suggestion = p.fee === undefined ? await suggestedFeePerByte(client) : undefined
  const fee = p.fee ?? priced(suggestion!.feePerByte)
  try {
    return await sendAt(client, p, chainId, nonce, fee)
  } catch (err) {
    if (!suggestion?.reused || !(err instanceof RpcClientError) || err.code !== 'FEE_TOO_LOW' || err.details.data.reason === 'REPLACEMENT_UNDERPRICED') throw err
    forgetSuggestedFee(client)
    return sendAt(client, p, chainId, nonce, priced((await suggestedFeePerByte(client)).feePerByte))
  }
}

/** Signs and sends at `nonce`, once more at the nonce the node names when a fetched one was taken. */
async function sendAt(client: Client, p: SignAndSendParameters, chainId: string, nonce: number, fee: bigint): Promise<Hash> {
  const send = (n: number): Promise<Hash> => {
    const tx = signTx(buildTx({ chainId, from: p.account.publicKey, nonce: n, fee, payload: p.payload }), p.account.secretKey)
    p.onSigned?.(tx)
    return sendTransaction(client, { tx })
  }
  try {
    return await send(nonce)
  } catch (err) {
    // A fetched nonce may be taken by a tx pending on the node: NONCE_TOO_LOW, or, since a pending
    // nonce can be replaced by a higher fee, REPLACEMENT_UNDERPRICED (FEE_TOO_LOW); both say the next free one.
    const taken = err instanceof RpcClientError && (err.code === 'NONCE_TOO_LOW' || (err.code === 'FEE_TOO_LOW' && err.details.data.reason === 'REPLACEMENT_UNDERPRICED'))
    const expected = taken && p.nonce === undefined ? pendingNonce(err.details.data.expected) : undefined
    if (expected === undefined || expected <= nonce) throw err
    return send(expected)
  }
}

/** The next free nonce the node named (a number, or a decimal string from older nodes). */
function pendingNonce(expected: Json | undefined): number | undefined {
  const v = typeof expected === 'string' ? Number(expected) : expected
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined
}

/** signAndSend with the sender part of an action's parameters (extra fields of `sender` are not read). */
export function sendPayload(client: Client, sender: SenderParameters, payload: TxPayload): Promise<SignAndSendReturnType> {
  return signAndSend(client, { account: sender.account, fee: sender.fee, nonce: sender.nonce, chainId: sender.chainId, onSigned: sender.onSigned, payload })
}
