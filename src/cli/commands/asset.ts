import { ASSET_KIND } from '../../../blocks/schema.ts'
import { ASSET_STATUS, getAsset } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { nameOf } from './listHosts.ts'
import { parseHash, withClient } from './parseOptions.ts'

export const assetCommand: Command = {
  name: 'asset',
  summary: 'show a deployed asset: manifest, placement, shard health',
  usage: '<asset-id> [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { rpc: { type: 'string', default: DEFAULT_RPC } })
    if (positionals.length !== 1) throw new CliError('USAGE', `give one asset id\nusage: xsc asset ${this.usage}`)
    const id = parseHash(positionals[0]!, 'the asset id')
    const info = await withClient(values.rpc, (client) => getAsset(client, { id }))
    if (info === null) throw new CommandError('NOT_FOUND', `no asset ${positionals[0]} on this chain`, 'check the id printed by xsc deploy; a deploy becomes an asset once it is in a block (xsc deploy --wait)', { asset: positionals[0] })
    const r = info.record
    const m = r.manifest
    const healthy = info.shards.filter((s) => s.healthy).length
    const view = {
      id: toHex(info.id),
      owner: toHex(r.owner),
      kind: nameOf(ASSET_KIND, r.kind),
      status: nameOf(ASSET_STATUS, r.status),
      createdHeight: r.createdHeight,
      deposit: r.deposit,
      bidPerByteEpoch: r.bidPerByteEpoch,
      manifest: m,
      shards: info.shards.map((s) => ({ index: s.index, host: toHex(s.host), failures: s.failures, lastAuditHeight: s.lastAuditHeight ?? null, healthy: s.healthy })),
      healthyShards: healthy,
      recoverable: healthy >= m.k,
    }
    print(ctx, view, [
      `asset   ${view.id} (${view.kind}, ${view.status})`,
      `owner   ${view.owner}, created at height ${view.createdHeight}`,
      `data    ${m.size} bytes, hash ${toHex(m.dataHash)}`,
      `coding  k=${m.k} m=${m.m}, segment ${m.segmentSize}, shard ${m.shardSize}, chunk ${m.chunkSize}`,
      `deposit ${view.deposit}, bid ${view.bidPerByteEpoch}/byte-epoch`,
      `shards  ${healthy}/${info.shards.length} healthy${view.recoverable ? '' : ' (fewer than k: data not recoverable)'}`,
      ...view.shards.map((s) => `  ${String(s.index).padStart(3)} ${s.host} ${s.healthy ? 'ok' : 'UNHEALTHY'} failures ${s.failures}${s.lastAuditHeight !== null ? ` last audit ${s.lastAuditHeight}` : ''}`),
    ].join('\n'))
  },
}
