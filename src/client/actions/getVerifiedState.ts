import { type Codec, decode } from '../../../blocks/codec.ts'
import { blockHash } from '../../../blocks/ids.ts'
import type { Address, BlockHeader, Hash } from '../../../blocks/schema.ts'
import { equalBytes, toHex } from '../../crypto/index.ts'
import { Account, AssetRecord, ExecutionRecord, HostRecord } from '../../state/records.ts'
import { verifyStateProof } from '../../state/stateTree/stateProof.ts'
import { TABLES } from '../../state/tables.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'

export interface GetVerifiedStateParameters {
  keys: Uint8Array[]
  /** Block height; absent: the node's head. */
  height?: number
  /** The hash of the block the answer must be about (e.g. a finalized hash the caller trusts); absent: the node's header is taken as is. */
  blockHash?: Hash
}

/** Values proven against one header: `values[i]` is the value of `keys[i]`, undefined when the key is absent from state. */
export interface VerifiedState { header: BlockHeader; blockHash: Hash; values: (Uint8Array | undefined)[] }

/**
 * State values with their Merkle proofs (xsc_getProof), each checked here against the header's
 * stateRoot: a node that lies about a value, omits one or answers for another key or block fails
 * with RpcClientError BAD_RESPONSE. Trust rests on the header: pass `blockHash` to pin it.
 */
export async function getVerifiedState(client: Client, params: GetVerifiedStateParameters): Promise<VerifiedState> {
  const answer = await client.request('xsc_getProof', [params.keys, params.height])
  if (answer === undefined) throw new RpcClientError('BAD_RESPONSE', `no block at height ${params.height ?? 'head'}`, { path: 'result' })
  const hash = blockHash(answer.header)
  const refuse = (reason: string): never => {
    throw new RpcClientError('BAD_RESPONSE', `state proof refused: ${reason}`, { path: 'result.proofs' })
  }
  if (params.height !== undefined && answer.header.height !== params.height) refuse(`header is for height ${answer.header.height}, asked ${params.height}`)
  if (params.blockHash !== undefined && !equalBytes(hash, params.blockHash)) refuse(`header hashes to ${toHex(hash)}, expected ${toHex(params.blockHash)}`)
  if (answer.proofs.length !== params.keys.length) refuse(`${answer.proofs.length} proofs for ${params.keys.length} keys`)
  const values = params.keys.map((key, i) => {
    const proof = answer.proofs[i]!
    if (!equalBytes(proof.key, key)) refuse(`proof ${i} is for another key`)
    try {
      verifyStateProof(answer.header.stateRoot, proof)
    } catch (err) {
      throw new RpcClientError('BAD_RESPONSE', `state proof refused: ${(err as Error).message}`, { path: `result.proofs.${i}` }, { cause: err })
    }
    return proof.value
  })
  return { header: answer.header, blockHash: hash, values }
}

/** One record, verified: `value` undefined when the key is absent (proven absent). */
export interface VerifiedRecord<T> { header: BlockHeader; blockHash: Hash; value: T | undefined }

async function getVerifiedRecord<T>(client: Client, codec: Codec<T>, key: Uint8Array, pin: Omit<GetVerifiedStateParameters, 'keys'>): Promise<VerifiedRecord<T>> {
  const state = await getVerifiedState(client, { ...pin, keys: [key] })
  const bytes = state.values[0]
  return { header: state.header, blockHash: state.blockHash, value: bytes === undefined ? undefined : decode(codec, bytes) }
}

type Pin = Omit<GetVerifiedStateParameters, 'keys'>

/** An account's balance and nonce as of a header, proven (an absent account is balance 0, nonce 0). */
export async function getVerifiedAccount(client: Client, params: { address: Address } & Pin): Promise<VerifiedRecord<Account> & { account: Account }> {
  const r = await getVerifiedRecord(client, Account, TABLES.account.key(params.address), params)
  return { ...r, account: r.value ?? { balance: 0n, nonce: 0 } }
}

export function getVerifiedAsset(client: Client, params: { id: Hash } & Pin): Promise<VerifiedRecord<AssetRecord>> {
  return getVerifiedRecord(client, AssetRecord, TABLES.asset.key(params.id), params)
}

export function getVerifiedExecution(client: Client, params: { id: Hash } & Pin): Promise<VerifiedRecord<ExecutionRecord>> {
  return getVerifiedRecord(client, ExecutionRecord, TABLES.execution.key(params.id), params)
}

export function getVerifiedHost(client: Client, params: { address: Address } & Pin): Promise<VerifiedRecord<HostRecord>> {
  return getVerifiedRecord(client, HostRecord, TABLES.host.key(params.address), params)
}
