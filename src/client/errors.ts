import { XscError, type XscErrorArgs } from '../../blocks/errors.ts'
import type { Hash } from '../../blocks/schema.ts'
import { RPC_CODES, type RpcCodeName, type RpcErrorData } from '../rpc/errors.ts'
import type { Json } from '../rpc/wire.ts'

/** An error the node answered: its number and its data object (reason and the code's fields). */
type Answered<C extends RpcCodeName> = { rpcCode: number; data: RpcErrorData<C> }

/**
 * For an error the node answered, `code` is the documented name (NONCE_TOO_LOW, INVALID_PARAMS,
 * ...), `details.rpcCode` the number and `details.data` the error's data; transport failures have
 * their own codes. TIMEOUT is both the node's (an answer) and ours (no answer in time).
 */
export type ClientErrorPayloads = { [C in Exclude<RpcCodeName, 'TIMEOUT'>]: Answered<C> } & {
  TIMEOUT: Answered<'TIMEOUT'> | { id?: Hash; url?: string }
  UNKNOWN_RPC_CODE: { rpcCode: number; data: { reason?: Json } }
  TRANSPORT_FAILED: { url?: string }
  /** `status` of an HTTP answer, `path` of a result that is not of the expected shape. */
  BAD_RESPONSE: { status?: number; path?: string }
  CLOSED: {}
  /**
   * A tx the node had accepted left its mempool without being included: the node said so (its
   * refusal `code`, `reason` and the `height`), or it was gone for `blocks` blocks (waitForTransaction with `tx`).
   */
  DROPPED: { id: Hash; code: string; reason: string; height: number } | { id: Hash; blocks: number; reason?: string }
}
export type ClientErrorCode = keyof ClientErrorPayloads

/** Every failure a client call can end in. */
export class RpcClientError extends XscError<ClientErrorPayloads> {}

const NAME_OF_CODE = new Map<number, RpcCodeName>(Object.entries(RPC_CODES).map(([name, code]) => [code, name as RpcCodeName]))

export function fromRpcErrorObject(error: unknown): RpcClientError {
  if (typeof error !== 'object' || error === null) return new RpcClientError('BAD_RESPONSE', 'error is not an object')
  const e = error as { code?: unknown; message?: unknown; data?: unknown }
  const rpcCode = typeof e.code === 'number' ? e.code : NaN
  const message = typeof e.message === 'string' ? e.message : 'RPC error'
  // The node's data, typed by the documented table: each field is JSON and read with a type check.
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as { [k: string]: Json }
  // Any data object fits every code's payload (all fields optional JSON); the compiler cannot pair a code known only at run time with its payload.
  return new RpcClientError(...([NAME_OF_CODE.get(rpcCode) ?? 'UNKNOWN_RPC_CODE', message, { rpcCode, data }] as XscErrorArgs<ClientErrorPayloads>))
}
