import { encode } from '../../blocks/codec.ts'
import type { Address, Hash } from '../../blocks/schema.ts'
import type { Chain } from '../chain/chain.ts'
import { toHex } from '../crypto/index.ts'
import { type NetNode, protocolId, PROTOCOLS, ShardGetRequest } from '../net/index.ts'
import type { AssetSource } from '../rpc/assetRoute.ts'
import { readRow, TABLES } from '../state/tables.ts'
import type { ShardStore } from '../storage/ShardStore.ts'
import { streamAsset } from '../storage/streamAsset.ts'
import type { HostDirectory } from './hostDirectory.ts'
import type { Logger } from './logger.ts'

export interface AssetReaderModules { chain: Chain; net: NetNode; hosts: HostDirectory; log: Logger; /** This node's own shards, when it is a host. */ store?: ShardStore }

/** A host whose shard failed a read is tried last for this long. */
const BAD_HOST_MS = 60_000
/** A shard stream has this long per MiB (plus a floor) before the net layer cuts it. */
const SHARD_STREAM_MS_PER_MIB = 1_000
const SHARD_STREAM_MIN_MS = 30_000

/**
 * What GET /assets/<id> reads through: the asset's manifest and placement from the node's
 * state, shards streamed from their hosts over the shard/get protocol (or from this node's own
 * store), rebuilt and verified by streamAsset. Hosts that failed recently and shards the chain
 * counts as failing are tried last.
 */
export function createAssetSource(m: AssetReaderModules): AssetSource {
  const badUntil = new Map<string, number>()
  const penalty = (host: Address, shardIndex: number): number => ((badUntil.get(`${toHex(host)}/${shardIndex}`) ?? 0) > Date.now() ? 2 : 0)

  async function* openShard(asset: Hash, host: Address, shardIndex: number, shardSize: bigint): AsyncGenerator<Uint8Array> {
    if (m.store !== undefined && (await m.store.has(asset, shardIndex))) {
      yield* m.store.getStream(asset, shardIndex)
      return
    }
    const peer = await m.hosts.peerOf(host)
    const mib = Number(shardSize >> 20n)
    yield* m.net.requestStream(peer, protocolId(m.net.chainId, PROTOCOLS.shardGet), encode(ShardGetRequest, { asset, shardIndex }), {
      timeoutMs: SHARD_STREAM_MIN_MS + mib * SHARD_STREAM_MS_PER_MIB,
      maxResponseBytes: Number(shardSize),
    })
  }

  return {
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
        read: (start, end) => streamAsset(manifest, placement, (host, i) => openShard(id, host, i, manifest.shardSize), {
          start,
          end,
          order,
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
