import type { SignedTx } from '../../../blocks/schema.ts'
import { ASSET_KIND } from '../../../blocks/schema.ts'
import { ASSET_STATUS, deleteAsset, extendAsset, getAsset, listAssets, waitForTransaction } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import { type Command, type CommandContext, DEFAULT_RPC, parseCommandArgs, print, required } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { nameOf } from './listHosts.ts'
import { parseAmount, parseCount, parseFee, parseHash, parseTimeoutMs, resolveAddress, senderOptions, withClient } from './parseOptions.ts'

const ASSET_USAGE = [
  '<asset-id> [--rpc URL]                                   show an asset: manifest, placement, shard health',
  'ls [ADDRESS | --key FILE] [--all] [--limit N] [--cursor C]    list an owner\'s assets, newest first',
  'extend <asset-id> --amount N --key FILE [--fee N] [--wait]     top up the deposit (anyone may pay)',
  'rm <asset-id> --key FILE [--fee N] [--wait]                   delete an asset you own (refunds the unspent deposit)',
].join('\n       xsc asset ')

export const assetCommand: Command = {
  name: 'asset',
  summary: 'show, list, extend or delete stored assets',
  usage: ASSET_USAGE,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv
    if (sub === 'ls') return assetList.run({ ...ctx, argv: rest })
    if (sub === 'extend') return assetExtend.run({ ...ctx, argv: rest })
    if (sub === 'rm') return assetRemove.run({ ...ctx, argv: rest })
    return assetShow.run(ctx)
  },
}

const assetShow: Command = {
  name: 'asset',
  summary: 'show a deployed asset: manifest, placement, shard health',
  usage: '<asset-id> [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { rpc: { type: 'string', default: DEFAULT_RPC } })
    if (positionals.length !== 1) throw new CliError('USAGE', `give one asset id\nusage: xsc asset ${this.usage}`)
    const id = parseHash(positionals[0]!, 'the asset id')
    const info = await withClient(values.rpc, (client) => getAsset(client, { id }))
    if (info === null) throw new CommandError('NOT_FOUND', `no asset ${positionals[0]} on this chain`, 'check the id printed by xsc deploy (a deploy becomes an asset once it is in a block: xsc deploy --wait); a deleted asset is gone (xsc asset ls shows it as deleted)', { asset: positionals[0] })
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

const assetList: Command = {
  name: 'asset ls',
  summary: "list an owner's assets",
  usage: '[ADDRESS | --key FILE] [--all] [--limit N] [--cursor C] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      key: { type: 'string' },
      all: { type: 'boolean', default: false },
      limit: { type: 'string', default: '50' },
      cursor: { type: 'string' },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    if (positionals.length > 1) throw new CliError('USAGE', `give at most one address\nusage: xsc asset ls ${this.usage}`)
    const owner = resolveAddress(positionals[0], values.key, `xsc asset ls ${this.usage}`)
    const limit = parseCount(values.limit, '--limit', 500, 1)
    const page = await withClient(values.rpc, (client) => listAssets(client, { owner, cursor: values.cursor, limit }))
    const items = page.items.filter((a) => values.all || !a.deleted).map((a) => ({
      id: toHex(a.id),
      deployedHeight: a.deployedHeight,
      status: a.deleted ? 'deleted' : nameOf(ASSET_STATUS, a.asset!.record.status),
      kind: a.asset ? nameOf(ASSET_KIND, a.asset.record.kind) : null,
      size: a.asset?.record.manifest.size ?? null,
      deposit: a.asset?.record.deposit ?? null,
    }))
    const more = page.nextCursor === undefined ? [] : [`more: xsc asset ls ${toHex(owner)} --cursor ${page.nextCursor}${values.all ? ' --all' : ''}`]
    print(ctx, { owner: toHex(owner), assets: items, nextCursor: page.nextCursor ?? null }, [
      items.length === 0 ? `no assets${values.all ? '' : ' (--all includes deleted ones)'}` : `${items.length} asset(s) of ${toHex(owner)}, newest first:`,
      ...items.map((a) => `  ${a.id} ${a.status.padEnd(8)} ${(a.kind ?? '').padEnd(9)} height ${a.deployedHeight}${a.size !== null ? `, ${a.size} bytes, deposit ${a.deposit}` : ''}`),
      ...more,
    ].join('\n'))
  },
}

async function sendAssetTx(ctx: CommandContext, cmd: Command, payload: 'extend' | 'rm'): Promise<void> {
  const { values, positionals } = parseCommandArgs(cmd, ctx.argv, { ...senderOptions('60'), amount: { type: 'string' }, wait: { type: 'boolean', default: false } })
  if (positionals.length !== 1) throw new CliError('USAGE', `give one asset id\nusage: xsc ${cmd.name} ${cmd.usage}`)
  const asset = parseHash(positionals[0]!, 'the asset id')
  const account = readKeyFile(required(values.key, '--key', cmd))
  const fee = parseFee(values.fee)
  const amount = payload === 'extend' ? parseAmount(required(values.amount, '--amount', cmd), '--amount') : 0n
  const timeoutMs = parseTimeoutMs(values.timeout)
  const result = await withClient(values.rpc, async (client) => {
    const before = await getAsset(client, { id: asset })
    if (before === null) throw new CommandError('NOT_FOUND', `no stored asset ${positionals[0]} on this chain`, 'check the id (xsc asset ls lists your assets); an expired or deleted asset cannot be extended or deleted', { asset: positionals[0] })
    let signed: SignedTx | undefined
    const send = { account, asset, fee, onSigned: (tx: SignedTx) => (signed = tx) }
    const id = payload === 'extend' ? await extendAsset(client, { ...send, amount }) : await deleteAsset(client, send)
    if (!values.wait) return { txId: toHex(id), block: null, deposit: before.record.deposit }
    const found = await waitForTransaction(client, { id, tx: signed!, timeoutMs, pollMs: 200 })
    const after = await getAsset(client, { id: asset })
    return { txId: toHex(id), block: { height: found.blockHeight, hash: toHex(found.blockHash) }, deposit: after?.record.deposit ?? before.record.deposit }
  })
  const what = payload === 'extend' ? `extend ${toHex(asset)} by ${amount}` : `delete ${toHex(asset)} (refund of the unspent deposit ${result.deposit} to the owner)`
  print(ctx, { asset: toHex(asset), ...result }, result.block === null
    ? `sent tx ${result.txId}: ${what}`
    : `${what}: in block ${result.block.height}${payload === 'extend' ? `, deposit now ${result.deposit}` : ''}`)
}

const assetExtend: Command = {
  name: 'asset extend',
  summary: "top up an asset's deposit",
  usage: '<asset-id> --amount N --key FILE [--fee N] [--wait] [--timeout S] [--rpc URL]',
  run(ctx) {
    return sendAssetTx(ctx, this, 'extend')
  },
}

const assetRemove: Command = {
  name: 'asset rm',
  summary: 'delete an asset you own',
  usage: '<asset-id> --key FILE [--fee N] [--wait] [--timeout S] [--rpc URL]',
  run(ctx) {
    return sendAssetTx(ctx, this, 'rm')
  },
}
