import type { Hash } from '../../../blocks/schema.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import type { Client } from '../createClient.ts'
import { signAndSend } from './signAndSend.ts'

export interface ExtendAssetParameters { account: KeyPair; asset: Hash; amount: bigint; fee?: bigint; nonce?: number; chainId?: string }

/** Tops up a stored asset's deposit (anyone may pay for anyone's asset); returns the tx id. */
export function extendAsset(client: Client, p: ExtendAssetParameters): Promise<Hash> {
  return signAndSend(client, { account: p.account, payload: { type: 'asset.extend', asset: p.asset, amount: p.amount }, fee: p.fee, nonce: p.nonce, chainId: p.chainId })
}

export interface DeleteAssetParameters { account: KeyPair; asset: Hash; fee?: bigint; nonce?: number; chainId?: string }

/** Deletes an asset the account owns: the unspent deposit comes back, hosts drop the shards; returns the tx id. */
export function deleteAsset(client: Client, p: DeleteAssetParameters): Promise<Hash> {
  return signAndSend(client, { account: p.account, payload: { type: 'asset.delete', asset: p.asset }, fee: p.fee, nonce: p.nonce, chainId: p.chainId })
}
