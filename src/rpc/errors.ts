import { type Mismatch, XscError } from '../../blocks/errors.ts'
import { toHex } from '../crypto/bytes.ts'
import type { Json } from './wire.ts'

/**
 * JSON-RPC error codes: the five standard ones and XSC's application codes, which live in the
 * implementation-defined server range -32000..-32099. Every application error carries
 * `data: { reason, ...details }` where `reason` is the stable machine code (e.g. NONCE_TOO_LOW).
 * This table is the documented list (docs/rpc.md is generated from it).
 */
export const RPC_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  // application codes
  REJECTED: -32000,
  NONCE_TOO_LOW: -32010,
  NONCE_TOO_HIGH: -32011,
  INSUFFICIENT_FUNDS: -32012,
  BAD_SIGNATURE: -32013,
  WRONG_CHAIN: -32014,
  MEMPOOL_FULL: -32015,
  ALREADY_KNOWN: -32016,
  FEE_TOO_LOW: -32017,
  INVALID_TX: -32018,
  UNKNOWN_ASSET: -32020,
  UNKNOWN_EXECUTION: -32021,
  FUEL_LIMIT_TOO_HIGH: -32022,
  BLOB_TOO_LARGE: -32030,
  REQUEST_TOO_LARGE: -32031,
  BLOB_UNAUTHORIZED: -32032,
  BLOB_QUOTA_EXCEEDED: -32033,
  RATE_LIMITED: -32040,
  BATCH_TOO_LARGE: -32041,
  TOO_MANY_SUBSCRIPTIONS: -32042,
  HISTORY_UNAVAILABLE: -32043,
  TIMEOUT: -32044,
  UNAVAILABLE: -32050,
} as const

export type RpcCodeName = keyof typeof RPC_CODES

export const RPC_CODE_DESCRIPTIONS: Record<RpcCodeName, string> = {
  PARSE_ERROR: 'The body is not valid JSON.',
  INVALID_REQUEST: 'Not a JSON-RPC 2.0 request object (or an empty batch).',
  METHOD_NOT_FOUND: 'No such method.',
  INVALID_PARAMS: 'Params missing, of the wrong type or out of range; data.path names the field.',
  INTERNAL_ERROR: 'The node failed; no details are sent.',
  REJECTED: 'The node refused the request for a domain reason not listed below; data.reason has its code.',
  NONCE_TOO_LOW: 'The tx nonce was already used by this sender.',
  NONCE_TOO_HIGH: 'The tx nonce leaves a gap after the sender\'s next nonce.',
  INSUFFICIENT_FUNDS: 'The sender cannot pay amount + fee (+ escrow or deposit).',
  BAD_SIGNATURE: 'The signature does not verify for the sender and body.',
  WRONG_CHAIN: 'The tx names another chain id.',
  MEMPOOL_FULL: 'The mempool is full; retry later or with a higher fee.',
  ALREADY_KNOWN: 'The same tx is already in the mempool or a block.',
  FEE_TOO_LOW: 'The fee is below size × (base fee + minimum per byte) (data.required names the fee), or a replacement does not pay more than the tx it replaces.',
  INVALID_TX: 'The tx is malformed or breaks a protocol rule; data.reason says which.',
  UNKNOWN_ASSET: 'No asset with that id.',
  UNKNOWN_EXECUTION: 'No execution with that id.',
  FUEL_LIMIT_TOO_HIGH: 'The fuel limit exceeds the chain maximum.',
  BLOB_TOO_LARGE: 'The uploaded blob exceeds the node\'s limit.',
  REQUEST_TOO_LARGE: 'The request body (or WebSocket message) exceeds the node\'s limit.',
  BLOB_UNAUTHORIZED: 'PUT /blob needs the x-xsc-blob-auth header signed by a funded account for this blob\'s hash, not expired; data.reason says what failed.',
  BLOB_QUOTA_EXCEEDED: 'The account\'s unreferenced uploads would exceed the node\'s per-account quota; deploy or wait for the TTL.',
  RATE_LIMITED: 'Too many calls on this connection; slow down.',
  BATCH_TOO_LARGE: 'The batch has more entries than the documented cap.',
  TOO_MANY_SUBSCRIPTIONS: 'This WebSocket already holds the maximum number of subscriptions.',
  HISTORY_UNAVAILABLE: 'fromHeight is older than the node replays; resubscribe from a newer height.',
  TIMEOUT: 'The call took longer than the server\'s per-call timeout.',
  UNAVAILABLE: 'The node is not ready (starting, syncing or shutting down).',
}

export interface RpcErrorObject { code: number; message: string; data?: { [key: string]: Json } }

/** What the server's own errors carry (sent as `data` beside `reason`). */
export type RpcErrorPayloads = { [C in RpcCodeName]: {} } & {
  INVALID_PARAMS: { path?: string }
  REQUEST_TOO_LARGE: { max: number }
  BLOB_TOO_LARGE: { max: number }
  BATCH_TOO_LARGE: { max: number; got: number }
  TOO_MANY_SUBSCRIPTIONS: { max: number }
  HISTORY_UNAVAILABLE: { oldest?: number }
}

/** A JSON-RPC error the server raises itself (parse, validation, limits). */
export class RpcError extends XscError<RpcErrorPayloads> {
  toObject(): RpcErrorObject {
    return { code: RPC_CODES[this.code], message: this.message, data: { reason: this.code, ...jsonDetails(this.details) } }
  }
}

export type WireErrorCode = 'WRONG_TYPE' | 'OUT_OF_RANGE' | 'TOO_LARGE' | 'MISSING' | 'UNKNOWN_TAG'

/** A value on the wire is not of the expected shape; `details.path` says where. */
export class WireError extends XscError<Record<WireErrorCode, { path?: string }>> {}

/**
 * Codes a backend throws for refusals the client can act on, with what each carries. Each maps
 * to one documented JSON-RPC application code below. Other XscError codes map to a generic refusal.
 */
export type BackendErrorPayloads = {
  NONCE_TOO_LOW: Mismatch<number>
  NONCE_TOO_HIGH: Mismatch<number>
  INSUFFICIENT_FUNDS: { balance: bigint; needed: bigint }
  BAD_SIGNATURE: { from: Uint8Array }
  WRONG_CHAIN: Mismatch<string>
  MEMPOOL_FULL: { cap?: number }
  ALREADY_KNOWN: { id: Uint8Array }
  FEE_TOO_LOW: { min?: bigint }
  INVALID_TX: { field?: string }
  UNKNOWN_ASSET: { asset: Uint8Array }
  UNKNOWN_EXECUTION: { id?: Uint8Array }
  FUEL_LIMIT_TOO_HIGH: { max: bigint }
  BLOB_TOO_LARGE: { size: number; max: number }
  /** No x-xsc-blob-auth header. */
  BLOB_AUTH_MISSING: {}
  /** The header does not parse, or its signature does not verify (`field` says which part). */
  BLOB_AUTH_INVALID: { field: string }
  BLOB_AUTH_EXPIRED: { expiresAtMs: number; nowMs: number }
  /** The signing account holds nothing. */
  BLOB_ACCOUNT_UNFUNDED: { address: Uint8Array }
  /** The body does not hash to the data hash the header signed. */
  BLOB_HASH_MISMATCH: { expected: Uint8Array; got: Uint8Array }
  BLOB_QUOTA_EXCEEDED: { usedBytes: number; quotaBytes: number; size: number }
  HISTORY_UNAVAILABLE: { oldest: number }
  UNAVAILABLE: {}
}
export type BackendErrorCode = keyof BackendErrorPayloads

export class RpcBackendError extends XscError<BackendErrorPayloads> {}

/**
 * The fields each application error's `data` may carry beside `reason`, as a client reads them:
 * JSON (bytes as hex, bigints as decimal strings), and only as trustworthy as the node.
 */
type DataFields = {
  INVALID_PARAMS: 'path'
  NONCE_TOO_LOW: 'expected' | 'got'
  NONCE_TOO_HIGH: 'expected' | 'got'
  INSUFFICIENT_FUNDS: 'balance' | 'needed' | 'address'
  /** A replacement's refusal (reason REPLACEMENT_UNDERPRICED) names the pending tx, its fee and the next free nonce. */
  FEE_TOO_LOW: 'txId' | 'fee' | 'expected' | 'required' | 'baseFee' | 'size'
  WRONG_CHAIN: 'expected' | 'got'
  FUEL_LIMIT_TOO_HIGH: 'max'
  BLOB_TOO_LARGE: 'size' | 'max'
  BLOB_UNAUTHORIZED: 'field' | 'expiresAtMs' | 'nowMs' | 'address' | 'expected' | 'got'
  BLOB_QUOTA_EXCEEDED: 'usedBytes' | 'quotaBytes' | 'size'
  REQUEST_TOO_LARGE: 'max'
  BATCH_TOO_LARGE: 'max' | 'got'
  TOO_MANY_SUBSCRIPTIONS: 'max'
  HISTORY_UNAVAILABLE: 'oldest'
}
export type RpcErrorData<C extends RpcCodeName> = { reason?: Json } & { [K in C extends keyof DataFields ? DataFields[C] : never]?: Json }

/** Domain codes (XscError.code) that map to an application code of the same name. */
const DOMAIN_CODES = new Set<string>([
  'NONCE_TOO_LOW', 'NONCE_TOO_HIGH', 'INSUFFICIENT_FUNDS', 'BAD_SIGNATURE', 'WRONG_CHAIN', 'MEMPOOL_FULL',
  'ALREADY_KNOWN', 'FEE_TOO_LOW', 'INVALID_TX', 'UNKNOWN_ASSET', 'UNKNOWN_EXECUTION', 'FUEL_LIMIT_TOO_HIGH',
  'BLOB_TOO_LARGE', 'BLOB_QUOTA_EXCEEDED', 'HISTORY_UNAVAILABLE', 'UNAVAILABLE',
])

/** Common synonyms other domains use for the same refusals. */
const ALIASES: Record<string, RpcCodeName> = {
  WRONG_CHAIN_ID: 'WRONG_CHAIN',
  CHAIN_ID_MISMATCH: 'WRONG_CHAIN',
  INVALID_SIGNATURE: 'BAD_SIGNATURE',
  BAD_NONCE: 'NONCE_TOO_LOW',
  NONCE_GAP: 'NONCE_TOO_HIGH',
  DUPLICATE_TX: 'ALREADY_KNOWN',
  DUPLICATE: 'ALREADY_KNOWN',
  INSUFFICIENT_BALANCE: 'INSUFFICIENT_FUNDS',
  ASSET_UNKNOWN: 'UNKNOWN_ASSET',
  FUEL_LIMIT: 'FUEL_LIMIT_TOO_HIGH',
  // Blob upload refusals (src/node/blobUploadAuth.ts): data.reason keeps the exact code.
  BLOB_AUTH_MISSING: 'BLOB_UNAUTHORIZED',
  BLOB_AUTH_INVALID: 'BLOB_UNAUTHORIZED',
  BLOB_AUTH_EXPIRED: 'BLOB_UNAUTHORIZED',
  BLOB_ACCOUNT_UNFUNDED: 'BLOB_UNAUTHORIZED',
  BLOB_HASH_MISMATCH: 'BLOB_UNAUTHORIZED',
  SENDER_QUEUE_FULL: 'MEMPOOL_FULL',
  REPLACEMENT_UNDERPRICED: 'FEE_TOO_LOW',
  // State-transition rules a tx breaks (src/state/errors.ts): data.reason keeps the exact code.
  INVALID_KEY: 'INVALID_TX',
  OVERFLOW: 'INVALID_TX',
  HOST_EXISTS: 'INVALID_TX',
  UNKNOWN_HOST: 'INVALID_TX',
  STAKE_TOO_LOW: 'INVALID_TX',
  BELOW_EXISTENTIAL_DEPOSIT: 'INVALID_TX',
  UNSUPPORTED: 'INVALID_TX',
}

/** Codec errors on a submitted tx mean the tx bytes are not a valid tx. */
const CODEC_CODES = new Set(['MALFORMED', 'TRAILING_BYTES', 'WRONG_TYPE', 'OUT_OF_RANGE', 'UNKNOWN_VERSION', 'UNKNOWN_TAG', 'NON_CANONICAL', 'TOO_LARGE'])

/**
 * Maps anything a handler threw to a JSON-RPC error object. Domain errors keep their code as
 * `data.reason` and their details (bytes as hex, bigints as strings); anything else is an
 * internal error with no details: no messages or stack traces of unexpected failures leak.
 */
export function toRpcErrorObject(err: unknown): RpcErrorObject {
  if (err instanceof RpcError) return err.toObject()
  if (err instanceof XscError) {
    const code = err.code
    const name: RpcCodeName = DOMAIN_CODES.has(code) ? (code as RpcCodeName) : ALIASES[code] ?? (CODEC_CODES.has(code) ? 'INVALID_TX' : 'REJECTED')
    return { code: RPC_CODES[name], message: err.message, data: { reason: code, ...jsonDetails(err.details) } }
  }
  return { code: RPC_CODES.INTERNAL_ERROR, message: 'Internal error' }
}

/** Details as JSON, shallow and bounded: bytes → hex, bigint → decimal, other objects dropped. */
function jsonDetails(details: object): { [key: string]: Json } {
  const out: { [key: string]: Json } = {}
  let n = 0
  for (const [k, v] of Object.entries(details)) {
    if (++n > 16) break
    if (k === 'reason' || k === 'stack' || k === 'cause') continue
    if (typeof v === 'string') out[k] = v.length > 256 ? v.slice(0, 256) : v
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[k] = v
    else if (typeof v === 'bigint') out[k] = v.toString()
    else if (v instanceof Uint8Array && v.length <= 64) out[k] = toHex(v)
  }
  return out
}
