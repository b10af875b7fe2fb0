import { CAPABILITY } from '../../../blocks/schema.ts'
import { getChainParams, getChainStatus, HOST_STATUS } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { listHosts } from './listHosts.ts'
import { withClient } from './parseOptions.ts'

export const statusCommand: Command = {
  name: 'status',
  summary: 'chain head, finality, peers, token, parameters, hosts',
  usage: '[--rpc URL]',
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.argv, { rpc: { type: 'string', default: DEFAULT_RPC } })
    const { s, chain, hosts } = await withClient(values.rpc, async (client) => {
      const [s, chain, hosts] = await Promise.all([getChainStatus(client), getChainParams(client), listHosts(client)])
      return { s, chain, hosts }
    })
    const active = hosts.filter((h) => h.record.status === HOST_STATUS.active)
    const hostCounts = {
      total: hosts.length,
      active: active.length,
      storage: active.filter((h) => (h.record.params.capabilities & CAPABILITY.storage) !== 0).length,
      compute: active.filter((h) => (h.record.params.capabilities & CAPABILITY.compute) !== 0).length,
    }
    const p = chain.params
    const view = {
      ...s,
      rpc: values.rpc,
      token: { symbol: chain.tokenSymbol, decimals: chain.tokenDecimals },
      slotMs: chain.slotMs,
      genesisTime: chain.genesisTime,
      params: p,
      consensus: chain.consensus,
      hosts: hostCounts,
    }
    print(ctx, view, [
      `chain     ${s.chainId} (${chain.tokenSymbol}, ${chain.tokenDecimals} decimals, ${chain.slotMs} ms slots, consensus ${chain.consensus.schemes.join('+')})`,
      `head      ${s.head.height} ${toHex(s.head.hash)}`,
      `finalized ${s.finalized.height} ${toHex(s.finalized.hash)}`,
      `peers     ${s.peers}${s.syncing ? ' (syncing)' : ''}`,
      `hosts     ${hostCounts.active} active of ${hostCounts.total} (${hostCounts.storage} storage, ${hostCounts.compute} compute)`,
      `storage   ${p.dataShards}+${p.parityShards} shards, segment ${p.segmentSize}, chunk ${p.chunkSize}, modules up to ${p.maxModuleBytes} bytes`,
      `compute   fuel limit up to ${p.maxFuelLimit}, up to ${p.maxReplicas} replicas`,
    ].join('\n'))
  },
}
