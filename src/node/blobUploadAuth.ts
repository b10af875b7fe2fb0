import { blobUploadSigningHash } from '../../blocks/ids.ts'
import { fromHex, verify } from '../crypto/index.ts'
import { BLOB_AUTH_HEADER, type BlobUploadAuth } from '../rpc/backend.ts'
import { RpcBackendError } from '../rpc/errors.ts'

export { BLOB_AUTH_HEADER, type BlobUploadAuth }

/** An upload authorization cannot be valid further ahead than this (bounds replay of a leaked header). */
export const MAX_BLOB_AUTH_AHEAD_MS = 10 * 60_000

/**
 * Parses and checks an upload authorization, `<address>:<dataHash>:<expiresAtMs>:<signature>`
 * (hex, hex, decimal, hex; signBlobUpload in src/client/actions/uploadBlob.ts makes it): well formed, not expired, not too far ahead, and
 * signed by the named address over (chain id, address, data hash, expiry). Whether the account is
 * funded and within its quota is the caller's check (it needs the state and the store).
 */
export function verifyBlobUploadAuth(header: string | undefined, chainId: string, nowMs: number): BlobUploadAuth {
  if (header === undefined || header === '') throw new RpcBackendError('BLOB_AUTH_MISSING', `PUT /blob needs the ${BLOB_AUTH_HEADER} header`, {})
  const parts = header.split(':')
  const bad = (field: string): never => {
    throw new RpcBackendError('BLOB_AUTH_INVALID', `${BLOB_AUTH_HEADER}: bad ${field}`, { field })
  }
  if (parts.length !== 4) bad('format (address:dataHash:expiresAtMs:signature)')
  const [addressHex, hashHex, expiryText, signatureHex] = parts as [string, string, string, string]
  let address: Uint8Array = new Uint8Array(0)
  let dataHash: Uint8Array = new Uint8Array(0)
  let signature: Uint8Array = new Uint8Array(0)
  try {
    address = fromHex(addressHex, 32)
  } catch {
    bad('address')
  }
  try {
    dataHash = fromHex(hashHex, 32)
  } catch {
    bad('dataHash')
  }
  try {
    signature = fromHex(signatureHex, 64)
  } catch {
    bad('signature')
  }
  if (!/^[0-9]{1,16}$/.test(expiryText)) bad('expiresAtMs')
  const expiresAtMs = Number(expiryText)
  if (expiresAtMs <= nowMs) throw new RpcBackendError('BLOB_AUTH_EXPIRED', `${BLOB_AUTH_HEADER} expired at ${expiresAtMs}`, { expiresAtMs, nowMs })
  if (expiresAtMs > nowMs + MAX_BLOB_AUTH_AHEAD_MS) bad(`expiresAtMs (at most ${MAX_BLOB_AUTH_AHEAD_MS} ms ahead)`)
  if (!verify(address, blobUploadSigningHash(chainId, address, dataHash, expiresAtMs), signature)) bad('signature')
  return { address, dataHash, expiresAtMs }
}
