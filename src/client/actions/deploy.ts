import { ASSET_KIND, type AssetKind, type Coord, type Hash, type Manifest, ROUTE_STRATEGY, type RouteStrategy } from '../../../blocks/schema.ts'
import type { Client } from '../createClient.ts'
import { type SenderParameters, sendPayload } from './signAndSend.ts'
import { uploadBlob } from './uploadBlob.ts'

export interface DeployParameters extends SenderParameters {
  /** The raw module or blob: uploaded by PUT /blob before the tx is sent. */
  bytes: Uint8Array
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
  const { dataHash } = await uploadBlob(client, { bytes: p.bytes, account: p.account, ...(p.chainId ? { chainId: p.chainId } : {}), ...(p.onUploadProgress ? { onProgress: p.onUploadProgress } : {}) })
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
