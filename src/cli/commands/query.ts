import { ASSET_KIND, OUTCOME } from '../../../blocks/schema.ts'
import { getAsset, query, queryAssetState } from '../../client/index.ts'
import { fromHex, toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { describeOutput } from './describeOutput.ts'
import { computeCallInput } from './exec.ts'
import { nameOf } from './listHosts.ts'
import { parseAmount, parseCount, parseHash, withClient } from './parseOptions.ts'

/**
 * `xsc query <asset> <fn> [args]`: a read-only call answered by one node from the asset state at
 * its head (no key, no fee, writes discarded). `xsc query <asset> --state` lists the asset's
 * key-value state a page at a time.
 */
export const queryCommand: Command = {
  name: 'query',
  summary: 'read-only call of an asset function on a node (no fee, nothing written), or --state to list its key-value state',
  usage: '<asset> <fn> [args...] [--input-hex 0x.. | --input-file F | --input TEXT] [--fuel N] [--rpc URL]\n       xsc query <asset> --state [--cursor 0xKEY] [--limit 100] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      'input-hex': { type: 'string' },
      'input-file': { type: 'string' },
      input: { type: 'string' },
      fuel: { type: 'string' },
      state: { type: 'boolean', default: false },
      cursor: { type: 'string' },
      limit: { type: 'string', default: '100' },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    const [assetArg, fn, ...args] = positionals
    if (assetArg === undefined || (fn === undefined && !values.state)) throw new CliError('USAGE', `give the asset id and the function name (or --state)\nusage: xsc query ${this.usage}`)
    const asset = parseHash(assetArg, 'the asset id')
    if (values.state) {
      const limit = parseCount(values.limit, '--limit', 1000, 1)
      let cursor: Uint8Array | undefined
      try {
        cursor = values.cursor === undefined ? undefined : fromHex(values.cursor)
      } catch {
        throw new CliError('USAGE', `--cursor takes the 0x-hex key printed as "next", got "${values.cursor}"`)
      }
      const page = await withClient(values.rpc, (client) => queryAssetState(client, { asset, limit, ...(cursor ? { cursor } : {}) }))
      const out = { asset: assetArg, height: page.height, finalized: page.finalized, entries: page.entries.map((e) => ({ key: describeOutput(e.key), value: describeOutput(e.value) })), next: page.next && toHex(page.next) }
      print(ctx, out, [
        `asset state at block ${page.height}${page.finalized ? ' (final)' : ' (not final yet)'}: ${page.entries.length} key(s)`,
        ...out.entries.map((e) => `${e.key.utf8 !== null ? `"${e.key.utf8}"` : e.key.hex} = ${e.value.hex}${e.value.u32 !== null ? `  u32 ${e.value.u32}` : ''}`),
        ...(out.next ? [`more: xsc query ${assetArg} --state --cursor ${out.next}`] : []),
      ].join('\n'))
      return
    }
    const fuelLimit = values.fuel === undefined ? undefined : parseAmount(values.fuel, '--fuel')
    const r = await withClient(values.rpc, async (client) => {
      const info = await getAsset(client, { id: asset })
      if (info === null) throw new CommandError('NOT_FOUND', `no asset ${assetArg} on this chain`, 'check the id printed by xsc deploy', { asset: assetArg })
      if (info.record.kind === ASSET_KIND.blob) throw new CliError('USAGE', `asset ${assetArg} is a blob (data); only modules and components run`)
      const input = computeCallInput(info.record.kind, args, { inputHex: values['input-hex'], inputFile: values['input-file'], input: values.input })
      return query(client, { asset, fn: fn!, input, ...(fuelLimit !== undefined ? { fuelLimit } : {}) })
    })
    const out = { asset: assetArg, fn, outcome: nameOf(OUTCOME, r.outcome), output: describeOutput(r.output), fuelUsed: r.fuelUsed, height: r.height, blockHash: toHex(r.blockHash), finalized: r.finalized }
    const o = out.output
    print(ctx, out, [
      `query ${fn}: ${out.outcome} at block ${out.height}${out.finalized ? ' (final)' : ' (not final yet)'}`,
      `output    ${o.hex}${o.utf8 !== null ? `  "${o.utf8}"` : ''}${o.u32 !== null ? `  u32 ${o.u32}` : ''}`,
      `fuel      ${out.fuelUsed} (not charged)`,
    ].join('\n'))
  },
}
