import { XscError } from '../../blocks/errors.ts'
import type { RpcCodeName } from '../rpc/rpcErrors.ts'
import { RPC_CODES } from '../rpc/rpcErrors.ts'
import type { Json } from '../rpc/wire.ts'

/** DROPPED: a tx the node had accepted left its mempool without being included (waitForTransaction with `tx`). */
export type ClientErrorCode = RpcCodeName | 'UNKNOWN_RPC_CODE' | 'TRANSPORT_FAILED' | 'BAD_RESPONSE' | 'TIMEOUT' | 'CLOSED' | 'DROPPED'

/**
 * Every failure a client call can end in. For an error the node answered, `code` is the
 * documented name (NONCE_TOO_LOW, INVALID_PARAMS, ...), `details.rpcCode` the number and
 * `details.data` the error's data object; transport failures have their own codes.
 */
export class RpcClientError extends XscError<ClientErrorCode> {}

const NAME_OF_CODE = new Map<number, RpcCodeName>(Object.entries(RPC_CODES).map(([name, code]) => [code, name as RpcCodeName]))

export function fromRpcErrorObject(error: unknown): RpcClientError {
  if (typeof error !== 'object' || error === null) return new RpcClientError('BAD_RESPONSE', 'error is not an object')
  const e = error as { code?: unknown; message?: unknown; data?: unknown }
  const rpcCode = typeof e.code === 'number' ? e.code : NaN
  const message = typeof e.message === 'string' ? e.message : 'RPC error'
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as { [k: string]: Json }
  return new RpcClientError(NAME_OF_CODE.get(rpcCode) ?? 'UNKNOWN_RPC_CODE', message, { rpcCode, data })
}
