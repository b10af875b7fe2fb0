import type { Address, Hash } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { toHex } from '../crypto/index.ts'
import { fetchShardHttpUrl, fetchShardPageRoots, fetchShardRange, type NetNode } from '../net/index.ts'
import type { AssetSource } from '../rpc/assetRoute.ts'
import { readRow, TABLES } from '../state/tables.ts'
import { ShardHttpReader, urlMatchesMultiaddr } from '../storage/shardHttpReader.ts'
import type { ShardStore } from '../storage/ShardStore.ts'
import { streamAsset } from '../storage/streamAsset.ts'
import type { HostDirectory } from './hostDirectory.ts'
import type { Logger } from './logger.ts'

export interface AssetReaderModules { chain: Chain; net: NetNode; hosts: HostDirectory; log: Logger; /** This node's own shards, when it is a host. */ store?: ShardStore }

/** A host whose shard failed a read is tried last for this long. */
const BAD_HOST_MS = 60_000
/** A window request (a few MiB) has this long before the net layer cuts it and streamAsset asks another shard. */
const RANGE_TIMEOUT_MS = 60_000
/** A host's shard HTTP URL is asked again after this (it may restart on another port). */
const HTTP_URL_TTL_MS = 5 * 60_000
/** A host whose HTTP server failed (or that has none) is read over libp2p for this long. */
const HTTP_RETRY_MS = 30_000
/** shard/http is one tiny answer, but a loaded host may take a while to give it. */
const HTTP_URL_TIMEOUT_MS = 15_000

/**
 * What GET /assets/<id> reads through: the asset's manifest and placement from the node's
 * state, shard windows fetched from their hosts over shard/range (or this node's own store),
 * checked, rebuilt and ordered by streamAsset. Hosts that failed recently and shards the chain
 * counts as failing are tried last.
 */
export function createAssetSource(m: AssetReaderModules): AssetSource {
  const badUntil = new Map<string, number>()
  const penalty = (host: Address, shardIndex: number): number => ((badUntil.get(`${toHex(host)}/${shardIndex}`) ?? 0) > Date.now() ? 2 : 0)
  // Shard windows over the hosts' plain HTTP servers when they have one (no noise, no yamux:
  // a fraction of the CPU per byte); libp2p shard/range otherwise. Both are checked alike.
  const http = new ShardHttpReader({ timeoutMs: RANGE_TIMEOUT_MS })
  const urls = new Map<string, { url: Promise<string | undefined>; until: number }>()
  /** Hosts whose HTTP server failed this node's own read: read over libp2p until then (their URL is still given to clients). */
  const httpDown = new Map<string, number>()

  /**
   * The host's shard HTTP URL (asked over shard/http, cached). A stale URL is still answered
   * while a fresh one is asked for, so a slow answer under load never hides a known URL.
   */
  async function urlOf(host: Address): Promise<string | undefined> {
    const id = toHex(host)
    const known = urls.get(id)
    if (known !== undefined && known.until > Date.now()) return known.url
    if (urls.size > 10_000) urls.clear()
    // Followed only to the IP of the host's on-chain multiaddr: a host cannot point the node's reads at another machine.
    const multiaddr = readRow(m.chain.store.state, TABLES.host.at(host))?.params.peerId ?? ''
    const fresh = m.hosts.peerOf(host).then((peer) => fetchShardHttpUrl(m.net, peer, HTTP_URL_TIMEOUT_MS)).then((u) => (u !== undefined && urlMatchesMultiaddr(u, multiaddr) ? u : undefined)).catch(() => undefined)
    const previous = known?.url
    const url = previous === undefined ? fresh : Promise.all([previous, fresh]).then(([old, now]) => now ?? old)
    urls.set(id, { url, until: Date.now() + HTTP_URL_TTL_MS })
    void url.then((u) => {
      if (u === undefined) urls.set(id, { url, until: Date.now() + HTTP_RETRY_MS })
    })
    return previous !== undefined ? previous : url
  }
  const httpFailed = (host: Address): void => {
    if (httpDown.size > 10_000) httpDown.clear()
    httpDown.set(toHex(host), Date.now() + HTTP_RETRY_MS)
  }
  const httpUsable = async (host: Address): Promise<string | undefined> => ((httpDown.get(toHex(host)) ?? 0) > Date.now() ? undefined : urlOf(host))

  async function readRange(asset: Hash, host: Address, shardIndex: number, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    if (m.store !== undefined && (await m.store.has(asset, shardIndex))) return m.store.getRange(asset, shardIndex, offset, length)
    const url = await httpUsable(host)
    if (url !== undefined) {
      try {
        return await http.readRange(url, asset, shardIndex, offset, length, into)
      } catch {
        httpFailed(host)
      }
    }
    const peer = await m.hosts.peerOf(host)
    return fetchShardRange(m.net, peer, { asset, shardIndex, offset, length, timeoutMs: RANGE_TIMEOUT_MS, ...(into !== undefined ? { into } : {}) })
  }

  async function readPageRoots(asset: Hash, host: Address, shardIndex: number): Promise<Uint8Array> {
    const local = m.store !== undefined ? await m.store.pageRoots(asset, shardIndex) : undefined
    if (local !== undefined) return local
    const url = await httpUsable(host)
    if (url !== undefined) {
      try {
        return await http.pageRoots(url, asset, shardIndex)
      } catch {
        httpFailed(host)
      }
    }
    return fetchShardPageRoots(m.net, await m.hosts.peerOf(host), { asset, shardIndex })
  }

  return {
    close: () => http.close(),
    async shardUrls(id) {
      const record = readRow(m.chain.store.state, TABLES.asset.at(id))
      if (record === undefined) return undefined
      return Promise.all(record.placement.map(async (host) => (await urlOf(host)) ?? null))
    },
    async open(id) {
      const record = readRow(m.chain.store.state, TABLES.asset.at(id))
      if (record === undefined) return undefined
      const { manifest, placement } = record
      const threshold = m.chain.genesis.params.auditFailThreshold
      const rank = (i: number): number => penalty(placement[i]!, i) + ((record.shardFailures[i] ?? 0) >= threshold ? 1 : 0)
      // Data shards first (no decoding needed), then parity; suspect shards after healthy ones.
      const order = Array.from({ length: placement.length }, (_, i) => i).sort((a, b) => rank(a) - rank(b) || a - b)
      return {
        manifest,
        read: (start, end) => streamAsset(manifest, placement, (host, i, offset, length, into) => readRange(id, host, i, offset, length, into), {
          start,
          end,
          order,
          readPageRoots: (host, i) => readPageRoots(id, host, i),
          onBad: ({ host, shardIndex, reason }) => {
            if (badUntil.size > 10_000) badUntil.clear()
            badUntil.set(`${toHex(host)}/${shardIndex}`, Date.now() + BAD_HOST_MS)
            m.log.debug({ asset: toHex(id), host: toHex(host), shard: shardIndex, reason }, 'shard read failed')
          },
        }),
      }
    },
  }
}
