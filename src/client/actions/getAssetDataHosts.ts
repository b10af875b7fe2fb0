import { decode } from '../../../blocks/codec.ts'
import type { Address, Hash, Manifest } from '../../../blocks/schema.ts'
import { equalBytes, toHex } from '../../crypto/bytes.ts'
import { RPC_CODES } from '../../rpc/errors.ts'
import { HostRecord } from '../../state/records.ts'
import { TABLES } from '../../state/tables.ts'
import { BlobError } from '../../storage/errors.ts'
import { createIncrementalHash } from '../../storage/incrementalHash.ts'
import { ShardHttpReader, urlMatchesMultiaddr } from '../../storage/shardHttpReader.ts'
import { streamAsset } from '../../storage/streamAsset.ts'
import type { Client } from '../createClient.ts'
import { RpcClientError } from '../errors.ts'
import { type GetAssetDataParameters, type GetAssetDataStream, getAssetDataStream, plaintextOf } from './getAssetData.ts'
import { getChainStatus } from './getChainStatus.ts'
import { getVerifiedAsset, getVerifiedState } from './getVerifiedState.ts'
import { verifyBlockCommit } from './verifyBlockCommit.ts'

/** An asset's manifest and placement, proven against the state root of a finalized block whose commit the client checked. */
export interface ProvenAsset {
  manifest: Manifest
  placement: Address[]
  /** Each placement slot's host multiaddr from its proven host record (undefined: no record). */
  multiaddrs: (string | undefined)[]
  provenAt: { height: number; blockHash: Hash }
}

/**
 * The asset record at the node's finalized height, proven against that block's state root
 * (verifyBlockCommit: more than 2/3 of the validator set's stake signed it), so a lying node
 * cannot hand the reader a manifest of its choosing.
 */
export async function proveAsset(client: Client, id: Hash): Promise<ProvenAsset> {
  const status = await getChainStatus(client)
  const height = status.finalized.height
  const commit = await verifyBlockCommit(client, { height })
  if (commit === null) throw new RpcClientError('BAD_RESPONSE', `the node has no commit for its finalized height ${height}`, { path: 'result' })
  const provenAt = { height, blockHash: commit.hash }
  const { value: record } = await getVerifiedAsset(client, { id, ...provenAt })
  if (record === undefined) throw new RpcClientError('UNKNOWN_ASSET', `no asset ${toHex(id)} at finalized height ${height}`, { rpcCode: RPC_CODES.UNKNOWN_ASSET, data: {} })
  const hosts = await getVerifiedState(client, { keys: record.placement.map((h) => TABLES.host.key(h)), ...provenAt })
  const multiaddrs = hosts.values.map((bytes) => (bytes === undefined ? undefined : decode(HostRecord, bytes).params.peerId))
  return { manifest: record.manifest, placement: record.placement, multiaddrs, provenAt }
}

/**
 * The node's hints of each placement slot's shard HTTP URL (GET /assets/<id>/hosts), kept only
 * where the URL names the IP of the host's proven multiaddr (a lying node cannot send the
 * client's requests to another machine); none when the node has no such route.
 */
async function fetchShardUrls(client: Client, id: Hash, multiaddrs: readonly (string | undefined)[]): Promise<(string | undefined)[]> {
  try {
    const res = await fetch(`${client.transport.url}/assets/${toHex(id)}/hosts`, { signal: AbortSignal.timeout(15_000) })
    if (res.status !== 200) return []
    const body = (await res.json()) as { shardUrls?: unknown }
    if (!Array.isArray(body.shardUrls)) return []
    return multiaddrs.map((addr, i) => {
      const u: unknown = (body.shardUrls as unknown[])[i]
      return typeof u === 'string' && addr !== undefined && urlMatchesMultiaddr(u, addr) ? u : undefined
    })
  } catch {
    return []
  }
}

export interface GetAssetDataHostsParameters extends GetAssetDataParameters {
  /** One window request (a few MiB from one host) has this long before the next shard is asked (default 60 s). */
  windowTimeoutMs?: number
}

export interface GetAssetDataHostsStream extends GetAssetDataStream {
  provenAt: { height: number; blockHash: Hash }
  /** Where the bytes came from, known once `data` ended: the hosts' HTTP servers, the node (fallback), or both (the node took over mid-read). */
  via(): 'hosts' | 'node' | 'hosts+node'
  /** Releases the kept-alive connections to the hosts (also done when `data` ends or throws). */
  close(): Promise<void>
}

/**
 * What `xsc get` does by default: read an asset's shard windows straight from its hosts' plain
 * HTTP servers (no libp2p in the client; shard bytes need no transport security), with the
 * node only proving the manifest and naming the hosts' URLs. streamAsset checks every window
 * (k+1 shards form one codeword; whole reads hash every shard used against the proven manifest;
 * ranges check pages against the chunk roots), drops a host that fails or lies and asks the next
 * shard (another host, or parity to rebuild from). If the hosts cannot give k good shards, the
 * rest is read through the node (`GET /assets/<id>`, as getAssetDataStream), and a whole read is
 * then checked against the manifest's data hash over every byte yielded. Memory: a few windows.
 */
export async function getAssetDataHostsStream(client: Client, p: GetAssetDataHostsParameters): Promise<GetAssetDataHostsStream> {
  const { manifest, placement, multiaddrs, provenAt } = await proveAsset(client, p.id)
  const urls = await fetchShardUrls(client, p.id, multiaddrs)
  const reader = new ShardHttpReader({ timeoutMs: p.windowTimeoutMs ?? 60_000 })
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    reader.close()
  }
  const start = p.range?.start ?? 0
  const end = p.range?.end ?? Number(manifest.size)
  const total = end - start
  const whole = p.range === undefined
  const urlOf = (shardIndex: number): string => {
    const url = urls[shardIndex]
    if (url === undefined) throw new Error(`no shard HTTP URL for shard ${shardIndex}`)
    return url
  }
  let usedHosts = false
  let usedNode = false
  async function* stored(): AsyncGenerator<Uint8Array> {
    let received = 0
    // Only needed if the node takes over mid-read: the bytes already yielded were checked as codewords, not yet by shard hashes.
    const hash = whole ? createIncrementalHash() : undefined
    try {
      if (urls.some((u) => u !== undefined)) {
        try {
          const bytes = streamAsset(manifest, placement, async (_host, i, offset, length, into) => reader.readRange(urlOf(i), p.id, i, offset, length, into), {
            start,
            end,
            readPageRoots: async (_host, i) => reader.pageRoots(urlOf(i), p.id, i),
          })
          for await (const chunk of bytes) {
            usedHosts = true
            received += chunk.length
            hash?.update(chunk)
            p.onProgress?.(received, total)
            yield chunk
          }
          return
        } catch (err) {
          if (!(err instanceof BlobError) || (err.code !== 'UNAVAILABLE' && err.code !== 'VERIFY_FAILED')) throw err
          // Every byte already out but the final shard-hash check failed: only the data hash can still clear them.
          if (received === total) {
            if (hash === undefined || !equalBytes(hash.digest(), manifest.dataHash)) throw err
            return
          }
          // fewer than k hosts gave good shards: the node reads the rest (over libp2p where HTTP fails)
        }
      }
      usedNode = true
      const rest = await getAssetDataStream(client, { id: p.id, ...(received > 0 || !whole ? { range: { start: start + received, end } } : {}), ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}) })
      for await (const chunk of rest.data) {
        received += chunk.length
        hash?.update(chunk)
        p.onProgress?.(received, total)
        yield chunk
      }
      if (hash !== undefined && received > 0 && !equalBytes(hash.digest(), manifest.dataHash)) throw new BlobError('VERIFY_FAILED', 'the bytes read from the hosts and the node do not hash to the manifest data hash', { what: 'data hash' })
    } finally {
      await close()
    }
  }
  const via = (): 'hosts' | 'node' | 'hosts+node' => (usedHosts && usedNode ? 'hosts+node' : usedNode ? 'node' : 'hosts')
  if (!whole) return { manifest, encrypted: () => undefined, data: stored(), provenAt, via, close }
  return { manifest, ...plaintextOf(stored(), p.key), provenAt, via, close }
}
