import { randomBytes } from 'node:crypto'

import type { Address, Hash } from '../../../blocks/schema.ts'
import { toHex } from '../../crypto/index.ts'
import { createNetNode, fetchShardPageRoots, fetchShardRange, type NetNode } from '../../net/index.ts'
import { streamAsset } from '../../storage/streamAsset.ts'
import type { Client } from '../createClient.ts'
import { type GetAssetDataParameters, type GetAssetDataStream, plaintextOf } from './getAssetData.ts'
import { proveAsset } from './getAssetDataHosts.ts'
import { getChainStatus } from './getChainStatus.ts'

export interface GetAssetDataDirectParameters extends Omit<GetAssetDataParameters, 'timeoutMs'> {
  /** One window request (a few MiB from one host) has this long before the next shard is asked (default 60 s). */
  windowTimeoutMs?: number
}

export interface GetAssetDataDirectStream extends GetAssetDataStream {
  /** The finalized block whose state proved the manifest, placement and host addresses. */
  provenAt: { height: number; blockHash: Hash }
  /** Stops the client's libp2p node (also done when `data` ends or throws). */
  close(): Promise<void>
}

/**
 * Reads an asset straight from its hosts, the node serving only as a source of proofs: the
 * asset record (manifest, placement) and the hosts' records (their multiaddrs) are proven
 * against the state root of a block whose commit this client checked (verifyBlockCommit:
 * more than 2/3 of the validator set's stake; the set is the node's word unless the caller
 * checks it), so a lying node cannot point the read at hosts or a manifest of its choosing.
 * A client-only libp2p node (no listen address) then dials the hosts and runs streamAsset:
 * windows from k+1 shards, each window one codeword, every shard read whole hashed against the
 * proven manifest before the last window is released, ranges checked page by page against the
 * chunk roots. Bytes that come out are therefore the manifest's; no second hash pass is needed
 * (a manifest whose shards do not make its data never gets its shards placed: the hand-off
 * recomputes it from the uploaded blob). A private blob is decrypted with `key`, as in
 * getAssetDataStream.
 */
export async function getAssetDataDirectStream(client: Client, p: GetAssetDataDirectParameters): Promise<GetAssetDataDirectStream> {
  const { manifest, placement, multiaddrs, provenAt: pin } = await proveAsset(client, p.id)
  const { height } = pin
  const addrOf = new Map<string, string>()
  placement.forEach((host, i) => {
    const addr = multiaddrs[i]
    if (addr !== undefined) addrOf.set(toHex(host), addr)
  })
  const { chainId } = await getChainStatus(client)

  const net: NetNode = createNetNode({ secretKey: new Uint8Array(randomBytes(32)), chainId, listen: [] })
  await net.start()
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await net.stop()
  }
  const dials = new Map<string, Promise<string>>()
  const peerOf = (host: Address): Promise<string> => {
    const id = toHex(host)
    let peer = dials.get(id)
    if (peer === undefined) {
      const addr = addrOf.get(id)
      peer = addr === undefined ? Promise.reject(new Error(`host ${id} has no record at height ${height}`)) : net.dial(addr)
      peer.catch(() => dials.delete(id))
      dials.set(id, peer)
    }
    return peer
  }
  const timeoutMs = p.windowTimeoutMs ?? 60_000
  const start = p.range?.start ?? 0
  const end = p.range?.end ?? Number(manifest.size)
  const total = end - start
  async function* stored(): AsyncGenerator<Uint8Array> {
    let received = 0
    try {
      const bytes = streamAsset(manifest, placement, async (host, shardIndex, offset, length, into) => fetchShardRange(net, await peerOf(host), { asset: p.id, shardIndex, offset, length, timeoutMs, ...(into !== undefined ? { into } : {}) }), {
        start,
        end,
        readPageRoots: async (host, shardIndex) => fetchShardPageRoots(net, await peerOf(host), { asset: p.id, shardIndex }),
      })
      for await (const chunk of bytes) {
        received += chunk.length
        p.onProgress?.(received, total)
        yield chunk
      }
    } finally {
      await close()
    }
  }
  if (p.range !== undefined) return { manifest, encrypted: () => undefined, data: stored(), provenAt: pin, close }
  return { manifest, ...plaintextOf(stored(), p.key), provenAt: pin, close }
}
