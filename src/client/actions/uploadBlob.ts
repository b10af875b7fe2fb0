import type { Hash } from '../../../blocks/schema.ts'
import { fromHex } from '../../crypto/bytes.ts'
import type { Client } from '../createClient.ts'
import { fromRpcErrorObject, RpcClientError } from '../errors.ts'

export interface UploadBlobParameters { bytes: Uint8Array; timeoutMs?: number }
export interface UploadBlobReturnType { dataHash: Hash; size: number }

/** Raw bytes by HTTP PUT /blob (no base64 through JSON); the deploy tx then names the data hash. */
export async function uploadBlob(client: Client, p: UploadBlobParameters): Promise<UploadBlobReturnType> {
  const url = `${client.transport.url}/blob`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: p.bytes,
      signal: AbortSignal.timeout(p.timeoutMs ?? 120_000),
    })
  } catch (cause) {
    throw new RpcClientError('TRANSPORT_FAILED', `upload to ${url} failed`, { url }, { cause })
  }
  const body = (await res.json().catch(() => undefined)) as { dataHash?: unknown; size?: unknown; error?: unknown } | undefined
  if (body === undefined) throw new RpcClientError('BAD_RESPONSE', `upload: HTTP ${res.status} without a JSON body`, { status: res.status })
  if (body.error !== undefined) throw fromRpcErrorObject(body.error)
  if (typeof body.dataHash !== 'string' || typeof body.size !== 'number') throw new RpcClientError('BAD_RESPONSE', 'upload: missing dataHash')
  return { dataHash: fromHex(body.dataHash, 32), size: body.size }
}
