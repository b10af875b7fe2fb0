import { toHex } from '../../crypto/index.ts'
import { readGenesisFile } from '../../node/genesisFile.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import { XscNode, type HostOpts, type P2pOpts } from '../../node/node.ts'
import { parseCapabilities } from './host.ts'
import { parseAmount, parseCoord, parseCount } from './parseOptions.ts'
import { CliError, parseCommandArgs, required, type Command } from '../args.ts'

export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?([0-9]{1,5})$/.exec(value)
  if (!m || Number(m[2]) > 65535) throw new CliError('USAGE', `--rpc takes [HOST:]PORT, got "${value}"`)
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) }
}

/** libp2p flags: listen addresses (default loopback, any port), bootstrap peers, identity key file. */
function p2pOpts(values: { listen?: string[]; bootstrap?: string[]; 'p2p-key'?: string | undefined }): P2pOpts {
  return {
    ...(values.listen && values.listen.length > 0 ? { listen: values.listen } : {}),
    bootstrap: values.bootstrap ?? [],
    ...(values['p2p-key'] ? { keyFile: values['p2p-key'] } : {}),
  }
}

/** The host role's flags: who it is, where it is, what it offers and at what price. */
function hostOpts(values: { 'host-key'?: string | undefined; coord: string; zone: string; capacity: string; asks: string; caps: string; 'compute-workers': string }, cmd: Pick<Command, 'name' | 'usage'>): HostOpts {
  const [fuel, byteEpoch, extra] = values.asks.split(',')
  if (fuel === undefined || byteEpoch === undefined || extra !== undefined) throw new CliError('USAGE', `--asks takes FUEL,BYTE_EPOCH, got "${values.asks}"`)
  return {
    key: readKeyFile(required(values['host-key'], '--host-key', cmd)),
    coord: parseCoord(values.coord, '--coord'),
    zone: values.zone,
    capacityBytes: parseAmount(values.capacity, '--capacity'),
    capabilities: parseCapabilities(values.caps),
    askPerFuel: parseAmount(fuel, '--asks'),
    askPerByteEpoch: parseAmount(byteEpoch, '--asks'),
    computeWorkers: parseCount(values['compute-workers'], '--compute-workers', 16, 1),
  }
}

export const nodeCommand: Command = {
  name: 'node',
  summary: 'run a node (a validator with --key)',
  usage: '--data DIR [--genesis genesis.json] [--key validator.json] [--rpc 127.0.0.1:8545] [--cors ORIGIN] [--log-level info] [--listen /ip4/127.0.0.1/tcp/0 ...] [--bootstrap MULTIADDR ...] [--p2p-key p2p.json] [--host --host-key host.json --coord x,y,z --zone Z --capacity BYTES --asks FUEL,BYTE_EPOCH [--caps storage,compute] [--compute-workers 1]]',
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.argv, {
      data: { type: 'string' },
      genesis: { type: 'string', default: 'genesis.json' },
      key: { type: 'string' },
      rpc: { type: 'string', default: '127.0.0.1:8545' },
      cors: { type: 'string', multiple: true, default: [] },
      'log-level': { type: 'string', default: process.env.XSC_LOG_LEVEL ?? 'info' },
      validator: { type: 'boolean', default: true },
      listen: { type: 'string', multiple: true, default: [] },
      bootstrap: { type: 'string', multiple: true, default: [] },
      'p2p-key': { type: 'string' },
      host: { type: 'boolean', default: false },
      'host-key': { type: 'string' },
      coord: { type: 'string', default: '0,0,0' },
      zone: { type: 'string', default: 'local' },
      capacity: { type: 'string', default: String(1n << 30n) },
      asks: { type: 'string', default: '1,1' },
      caps: { type: 'string', default: 'storage,compute' },
      'compute-workers': { type: 'string', default: '1' },
    })
    const dataDir = required(values.data, '--data', this)
    const genesis = readGenesisFile(values.genesis)
    const rpc = parseHostPort(values.rpc)
    const node = await XscNode.start({
      dataDir,
      genesis,
      ...(values.key ? { validatorKey: readKeyFile(values.key) } : {}),
      rpc: { ...rpc, corsOrigins: values.cors },
      logLevel: values['log-level'],
      p2p: p2pOpts(values),
      ...(values.host ? { host: hostOpts(values, this) } : {}),
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
