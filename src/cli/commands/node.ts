import { fromHex, toHex } from '../../crypto/index.ts'
import { NODE_SETTINGS, type PartialNodeSettings, SETTING_NAMES } from '../../node/config/nodeSettings.ts'
import { readNodeConfigFile } from '../../node/config/parseNodeConfig.ts'
import { type ResolvedNodeSettings, resolveNodeSettings } from '../../node/config/resolveNodeSettings.ts'
import { readGenesisFile } from '../../node/genesisFile.ts'
import type { StateSyncOpts } from '../../node/network/stateSync.ts'
import { type HostOpts, type P2pOpts, XscNode } from '../../node/node.ts'
import { type Command, parseCommandArgs } from '../args.ts'
import { CliError } from '../errors.ts'
import { loadKeyFile, type PassphraseSource } from '../passphrase.ts'
import { parseCapabilities } from './host.ts'
import { parseAmount, parseCoord, parseCount } from './parseOptions.ts'

export function parseHostPort(value: string, label = '--rpc'): { host: string; port: number } {
  const m = /^(?:(.+):)?([0-9]{1,5})$/.exec(value)
  if (!m || Number(m[2]) > 65535) throw new CliError('USAGE', `${label} takes [HOST:]PORT, got "${value}"`)
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) }
}

/** Multiaddrs from a flag or the config file: each must start with / (the net layer checks the rest). */
function multiaddrs(values: string[], label: string): string[] {
  for (const v of values) if (!v.startsWith('/') || v.length > 256) throw new CliError('USAGE', `${label} takes multiaddrs like /ip4/10.0.0.1/tcp/4001, got "${v.slice(0, 80)}"`)
  return values
}

/** libp2p settings: listen and announce addresses, bootstrap peers, identity key file. */
function p2pOpts(s: ResolvedNodeSettings): P2pOpts {
  const { values: v, label } = s
  return {
    ...(v.listen.length > 0 ? { listen: multiaddrs(v.listen, label('listen')) } : {}),
    ...(v.announce.length > 0 ? { announce: multiaddrs(v.announce, label('announce')) } : {}),
    bootstrap: multiaddrs(v.bootstrap, label('bootstrap')),
    ...(v['p2p-key'] ? { keyFile: v['p2p-key'] } : {}),
  }
}

/** The host role's settings: who it is, where it is, what it offers and at what price. */
async function hostOpts(s: ResolvedNodeSettings, passphrase: PassphraseSource): Promise<HostOpts> {
  const { values: v, label } = s
  const [fuel, byteEpoch, extra] = v.asks.split(',')
  if (fuel === undefined || byteEpoch === undefined || extra !== undefined) throw new CliError('USAGE', `${label('asks')} takes FUEL,BYTE_EPOCH, got "${v.asks}"`)
  if (!v['host-key']) throw new CliError('USAGE', `the host role needs --host-key (or "host-key" in the config file)`)
  return {
    key: await loadKeyFile(v['host-key'], passphrase),
    coord: parseCoord(v.coord, label('coord')),
    zone: v.zone,
    capacityBytes: parseAmount(v.capacity, label('capacity')),
    capabilities: parseCapabilities(v.caps),
    askPerFuel: parseAmount(fuel, label('asks')),
    askPerByteEpoch: parseAmount(byteEpoch, label('asks')),
    computeWorkers: parseCount(v['compute-workers'], label('compute-workers'), 16, 1),
    shardHttp: v['shard-http'] === 'off' ? false : parseHostPort(v['shard-http'], label('shard-http')),
  }
}

/** State sync on an empty data dir (--state-sync), with CometBFT's trust options. */
function stateSyncOpts(s: ResolvedNodeSettings): StateSyncOpts | undefined {
  const { values: v, label } = s
  if (!v['state-sync']) {
    if (v['trust-height'] || v['trust-hash']) throw new CliError('USAGE', `${label('trust-height')} and ${label('trust-hash')} go with --state-sync`)
    return undefined
  }
  const hash = v['trust-hash']
  if (hash && !/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new CliError('USAGE', `${label('trust-hash')} takes a block hash 0x + 64 hex digits, got "${hash.slice(0, 80)}"`)
  if (hash && !v['trust-height']) throw new CliError('USAGE', `${label('trust-hash')} needs ${label('trust-height')} (the height of that block)`)
  return {
    ...(v['trust-height'] ? { trustHeight: parseCount(v['trust-height'], label('trust-height'), 0xffffffff, 1) } : {}),
    ...(hash ? { trustHash: fromHex(hash, 32) } : {}),
  }
}

/** parseArgs options for every node setting, without defaults (so a missing flag is undefined and the file can fill it). */
const FLAG_OPTIONS = Object.fromEntries(SETTING_NAMES.map((n) => [n, NODE_SETTINGS[n].kind === 'boolean' ? { type: 'boolean' } : { type: 'string', ...(NODE_SETTINGS[n].kind === 'strings' ? { multiple: true } : {}) }])) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>

/** Flags, then the config file, then defaults: the settings `xsc node` runs with. */
export function resolveNodeCommandSettings(argv: string[]): ResolvedNodeSettings {
  const { values } = parseCommandArgs(nodeCommand, argv, { ...FLAG_OPTIONS, config: { type: 'string' } })
  const given = values as Record<string, string | string[] | boolean | undefined>
  const configPath = typeof given.config === 'string' ? given.config : undefined
  const file = configPath !== undefined ? readNodeConfigFile(configPath) : {}
  const flags = Object.fromEntries(SETTING_NAMES.filter((n) => given[n] !== undefined).map((n) => [n, given[n]])) as PartialNodeSettings
  return resolveNodeSettings(flags, file, configPath)
}

export const nodeCommand: Command = {
  name: 'node',
  summary: 'run a node (a validator with --key, a host with --host); settings from --config FILE',
  usage: '[--config node.toml] [--data DIR] [--genesis genesis.json] [--key validator.json] [--passphrase-file FILE] [--rpc 127.0.0.1:8545] [--cors ORIGIN] [--log-level info] [--prune BLOCKS] [--check-committed-signatures] [--activity-index] [--state-sync [--trust-height H --trust-hash 0xBLOCK]] [--listen /ip4/0.0.0.0/tcp/4001 ...] [--announce /ip4/PUBLIC_IP/tcp/4001 ...] [--bootstrap MULTIADDR ...] [--p2p-key p2p.json] [--host --host-key host.json --coord x,y,z --zone Z --capacity BYTES --asks FUEL,BYTE_EPOCH [--caps storage,compute] [--compute-workers 1]]\n  flags override the config file (xsc init writes one, documenting every key); encrypted keys read their passphrase from --passphrase-file, $XSC_PASSPHRASE or a prompt',
  async run(ctx) {
    const settings = resolveNodeCommandSettings(ctx.argv)
    const v = settings.values
    if (!v.data) throw new CliError('USAGE', `missing --data (or "data" in the config file)\nusage: xsc node ${this.usage}`)
    const passphrase: PassphraseSource = { file: v['passphrase-file'] }
    const genesis = readGenesisFile(v.genesis)
    const rpc = parseHostPort(v.rpc, settings.label('rpc'))
    const stateSync = stateSyncOpts(settings)
    const node = await XscNode.start({
      dataDir: v.data,
      genesis,
      ...(v.key ? { validatorKey: await loadKeyFile(v.key, passphrase) } : {}),
      rpc: { ...rpc, corsOrigins: v.cors },
      logLevel: v['log-level'],
      pruneKeepBlocks: Number(v.prune),
      validatorLinks: v['validator-links'],
      checkCommittedSignatures: v['check-committed-signatures'],
      ...(v['activity-index'] === undefined ? {} : { activityIndex: v['activity-index'] }),
      ...(stateSync ? { stateSync } : {}),
      p2p: p2pOpts(settings),
      ...(v.host ? { host: await hostOpts(settings, passphrase) } : {}),
    })
    ctx.out(JSON.stringify({ event: 'ready', host: node.host ? toHex(node.host.address) : null, rpc: node.rpc.url, ws: node.rpc.wsUrl, chainId: genesis.chainId, head: node.chain.head.height, peerId: node.net?.peerId ?? null, p2p: node.net?.multiaddrs() ?? [] }))
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await node.stop()
  },
}
