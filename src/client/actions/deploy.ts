import { randomBytes } from 'node:crypto'

import { ASSET_KIND, type AssetKind, type Coord, type Hash, type Manifest, ROUTE_STRATEGY, type RouteStrategy } from '../../../blocks/schema.ts'
import { type BlobOwnerKey, computeEncryptedSize, encryptBlob, encryptBlobStream } from '../../storage/blobCipher.ts'
import { type CodingParams, computeManifest, encodeAssetStream } from '../../storage/encodeAsset.ts'
import type { Client } from '../createClient.ts'
import { type SenderParameters, sendPayload } from './signAndSend.ts'
import { type StreamedBytes, uploadBlob } from './uploadBlob.ts'

export interface DeployParameters extends SenderParameters {
  /** The raw module or blob (or a stream of it): uploaded by PUT /blob before the tx is sent. */
  bytes: Uint8Array | StreamedBytes
  /** The erasure-coding manifest of `bytes` (computed with src/storage); its dataHash must match the upload. */
  manifest: Manifest
  kind?: AssetKind
  deposit: bigint
  bidPerByteEpoch: bigint
  origin?: Coord
  /** Hard allow-list of host zones (default: any zone). */
  zones?: readonly string[]
  /** How the router ranks the band the placement is drawn from (default balanced). */
  strategy?: RouteStrategy
  /** Upload progress (bytes handed to the socket, total). */
  onUploadProgress?(sent: number, total: number): void
}
/** The asset id, which is the deploy tx's id. */
export type DeployReturnType = Hash

/** Uploads the bytes, checks the node hashed them as the manifest says, then sends the deploy tx. */
export async function deploy(client: Client, p: DeployParameters): Promise<DeployReturnType> {
  const { dataHash } = await uploadBlob(client, { bytes: p.bytes, ...(p.bytes instanceof Uint8Array ? {} : { dataHash: p.manifest.dataHash }), account: p.account, ...(p.chainId ? { chainId: p.chainId } : {}), ...(p.onUploadProgress ? { onProgress: p.onUploadProgress } : {}) })
  if (Buffer.compare(Buffer.from(dataHash), Buffer.from(p.manifest.dataHash)) !== 0) throw new RangeError('the node hashed the upload differently from manifest.dataHash')
  return sendPayload(client, p, {
    type: 'deploy',
    assetKind: ASSET_KIND[p.kind ?? 'module'],
    manifest: p.manifest,
    deposit: p.deposit,
    bidPerByteEpoch: p.bidPerByteEpoch,
    origin: p.origin ?? { x: 0, y: 0, z: 0 },
    zones: [...(p.zones ?? [])],
    strategy: ROUTE_STRATEGY[p.strategy ?? 'balanced'],
  })
}

export interface PrepareBlobParameters {
  /** The file's bytes (plaintext). */
  bytes: Uint8Array
  /** The owner's account key: the blob key is derived from it (src/storage/blobCipher.ts) and never leaves the client. */
  owner: BlobOwnerKey
  /** Store plaintext (readable by anyone over GET /assets/<id>); default false: encrypted at rest. */
  public?: boolean
  /** codingParamsOf(chain params). */
  coding: CodingParams
}
export interface PrepareBlobReturnType { bytes: Uint8Array; manifest: Manifest; encrypted: boolean }

/**
 * The encryption step of a blob deploy: what hosts and validators will hold is ciphertext
 * (AES-256-GCM, key from the owner's key), erasure-coded into the manifest deploy() sends.
 */
export async function prepareBlob(p: PrepareBlobParameters): Promise<PrepareBlobReturnType> {
  const bytes = p.public === true ? p.bytes : await encryptBlob(p.bytes, p.owner)
  return { bytes, manifest: computeManifest(bytes, p.coding), encrypted: p.public !== true }
}

export interface PrepareBlobStreamParameters extends Omit<PrepareBlobParameters, 'bytes'> {
  /** The plaintext, as a stream that can be opened twice (a file): once for the manifest, once for the upload. */
  plain: StreamedBytes
}
export interface PrepareBlobStreamReturnType { bytes: StreamedBytes; manifest: Manifest; encrypted: boolean }

/**
 * prepareBlob with bounded memory: the manifest is computed from one encrypted pass, and the upload
 * encrypts again with the same salt (the same bytes, since encryption is deterministic given the
 * key and salt). If the file changes in between, the node's data hash differs and deploy() refuses.
 */
export async function prepareBlobStream(p: PrepareBlobStreamParameters): Promise<PrepareBlobStreamReturnType> {
  const isPublic = p.public === true
  const salt = randomBytes(32)
  const bytes: StreamedBytes = {
    size: isPublic ? p.plain.size : computeEncryptedSize(p.plain.size),
    open: () => (isPublic ? p.plain.open() : encryptBlobStream(p.plain.open(), p.owner, { salt, plainSize: p.plain.size })),
  }
  const manifest = await encodeAssetStream(bytes.open(), p.coding, () => undefined)
  return { bytes, manifest, encrypted: !isPublic }
}
