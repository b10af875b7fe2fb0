import { CAPABILITY, type HostParams, type SignedTx } from '../../../blocks/schema.ts'
import { type Client, getChainParams, getHost, HOST_STATUS, REPUTATION_CAUSE, signAndSend, waitForTransaction } from '../../client/index.ts'
import { DEFAULT_LIMITS } from '../../compute/executeModule.ts'
import type { KeyPair } from '../../crypto/ed25519.ts'
import { toHex } from '../../crypto/index.ts'
import { deriveHostEncryptionKey } from '../../crypto/x25519.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import { type Command, type CommandContext, DEFAULT_RPC, parseCommandArgs, print, required } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { formatCapabilities, nameOf } from './listHosts.ts'
import { parseAmount, parseCoord, parseFee, parseTimeoutMs, resolveAddress, senderOptions, withClient } from './parseOptions.ts'

const USAGE = [
  'join --key FILE --coord x,y,z --zone ZONE --capacity BYTES --asks FUEL,BYTE_EPOCH [--caps storage,compute,private] [--peer MULTIADDR] [--memory BYTES] [--fee N] [--wait] [--rpc URL]',
  'status <0xADDRESS | --key FILE> [--rpc URL]',
  'leave --key FILE [--fee N] [--wait] [--rpc URL]',
]

/** "storage,compute" → capability bits; unknown names are a usage error. */
export function parseCapabilities(value: string): number {
  let bits = 0
  for (const name of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const bit = (CAPABILITY as Record<string, number>)[name]
    if (bit === undefined) throw new CliError('USAGE', `--caps takes a list of ${Object.keys(CAPABILITY).join(', ')}; got "${name}"`)
    bits |= bit
  }
  if (bits === 0) throw new CliError('USAGE', '--caps must name at least one capability')
  return bits
}

function parseAsks(value: string): { askPerFuel: bigint; askPerByteEpoch: bigint } {
  const parts = value.split(',')
  if (parts.length !== 2) throw new CliError('USAGE', `--asks takes FUEL,BYTE_EPOCH (two prices in base units), got "${value}"`)
  return { askPerFuel: parseAmount(parts[0]!.trim(), '--asks (per fuel)'), askPerByteEpoch: parseAmount(parts[1]!.trim(), '--asks (per byte-epoch)') }
}

/** The libp2p address peers use to reach the host: HostParams.peerId holds the full multiaddr. */
function parsePeer(value: string | undefined): string {
  if (value === undefined) return ''
  if (!value.startsWith('/') || value.length > 256) throw new CliError('USAGE', `--peer takes a multiaddr like /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo… (at most 256 chars), got "${value.slice(0, 80)}"`)
  return value
}

async function sendHostTx(client: Client, account: KeyPair, payload: { type: 'host.join'; host: HostParams } | { type: 'host.leave' }, fee: bigint | undefined, wait: boolean, timeoutMs: number): Promise<{ txId: string; block: { height: number; hash: string } | null }> {
  let signed: SignedTx | undefined
  const id = await signAndSend(client, { account, payload, fee, onSigned: (tx) => (signed = tx) })
  if (!wait) return { txId: toHex(id), block: null }
  const found = await waitForTransaction(client, { id, tx: signed!, timeoutMs, pollMs: 200 })
  return { txId: toHex(id), block: { height: found.blockHeight, hash: toHex(found.blockHash) } }
}

async function join(ctx: CommandContext, cmd: Command): Promise<void> {
  const { values } = parseCommandArgs(cmd, ctx.argv.slice(1), {
    ...senderOptions('60'),
    wait: { type: 'boolean', default: false },
    coord: { type: 'string' },
    zone: { type: 'string' },
    capacity: { type: 'string' },
    asks: { type: 'string' },
    caps: { type: 'string', default: 'storage,compute' },
    peer: { type: 'string' },
    memory: { type: 'string', default: String(DEFAULT_LIMITS.maxMemoryPages * 65_536) },
  })
  const account = readKeyFile(required(values.key, '--key', cmd))
  const coord = parseCoord(required(values.coord, '--coord', cmd), '--coord')
  const zone = required(values.zone, '--zone', cmd)
  if (zone.length === 0 || zone.length > 32) throw new CliError('USAGE', '--zone must be 1..32 characters')
  const host: HostParams = {
    coord,
    zone,
    capacityBytes: parseAmount(required(values.capacity, '--capacity', cmd), '--capacity'),
    capabilities: parseCapabilities(values.caps),
    ...parseAsks(required(values.asks, '--asks', cmd)),
    peerId: parsePeer(values.peer),
    memoryBytes: parseAmount(values.memory, '--memory'),
    encryptionKey: undefined,
  }
  // The node derives the same key from the same host key (src/node/node.ts): private executions need it.
  if ((host.capabilities & CAPABILITY.private) !== 0) host.encryptionKey = deriveHostEncryptionKey(account.secretKey).publicKey
  if (host.capacityBytes >= 1n << 64n) throw new CliError('USAGE', '--capacity must fit u64')
  const fee = parseFee(values.fee)
  const timeoutMs = parseTimeoutMs(values.timeout)
  const r = await withClient(values.rpc, async (client) => {
    const { params } = await getChainParams(client)
    const g = params.gridSize
    if (coord.x >= g || coord.y >= g || coord.z >= g) throw new CliError('USAGE', `--coord must be below this chain's grid size ${g} on each axis`)
    const existing = await getHost(client, { address: account.publicKey })
    if (existing !== null && existing.record.status !== HOST_STATUS.left) {
      throw new CommandError('HOST_EXISTS', `${toHex(account.publicKey)} is already a host (${nameOf(HOST_STATUS, existing.record.status)})`, 'see it with xsc host status --key K, or leave first (xsc host leave)')
    }
    return sendHostTx(client, account, { type: 'host.join', host }, fee, values.wait, timeoutMs)
  })
  const view = { address: toHex(account.publicKey), ...r, host: { ...host, capabilities: formatCapabilities(host.capabilities) } }
  print(ctx, view, `host ${view.address} join sent: tx ${r.txId}${r.block ? `\nincluded in block ${r.block.height} ${r.block.hash}` : '\nsee it with xsc host status ' + view.address + ' once included (or pass --wait)'}`)
}

async function leave(ctx: CommandContext, cmd: Command): Promise<void> {
  const { values } = parseCommandArgs(cmd, ctx.argv.slice(1), {
    ...senderOptions('60'),
    wait: { type: 'boolean', default: false },
  })
  const account = readKeyFile(required(values.key, '--key', cmd))
  const fee = parseFee(values.fee)
  const timeoutMs = parseTimeoutMs(values.timeout)
  const r = await withClient(values.rpc, async (client) => {
    const existing = await getHost(client, { address: account.publicKey })
    if (existing === null || existing.record.status === HOST_STATUS.left) throw new CommandError('NOT_FOUND', `${toHex(account.publicKey)} is not a host`, 'nothing to leave; join with xsc host join')
    const sent = await sendHostTx(client, account, { type: 'host.leave' }, fee, values.wait, timeoutMs)
    const after = sent.block ? await getHost(client, { address: account.publicKey }) : null
    // A host that still stores shards drains first (audits move them away), then it is `left`.
    return { ...sent, status: after ? nameOf(HOST_STATUS, after.record.status) : null }
  })
  const view = { address: toHex(account.publicKey), ...r }
  print(ctx, view, `host ${view.address} leave sent: tx ${r.txId}${r.block ? `\nincluded in block ${r.block.height}; status now ${r.status}` : ''}`)
}

async function status(ctx: CommandContext, cmd: Command): Promise<void> {
  const { values, positionals } = parseCommandArgs(cmd, ctx.argv.slice(1), { key: { type: 'string' }, rpc: { type: 'string', default: DEFAULT_RPC } })
  const address = resolveAddress(positionals[0], values.key, `xsc host ${USAGE[1]}`)
  const info = await withClient(values.rpc, (client) => getHost(client, { address }))
  if (info === null) throw new CommandError('NOT_FOUND', `${toHex(address)} is not a host on this chain`, 'join with xsc host join --key K ..., or check the address')
  const r = info.record
  const p = r.params
  const view = {
    address: toHex(info.address),
    status: nameOf(HOST_STATUS, r.status),
    coord: p.coord,
    zone: p.zone,
    capabilities: formatCapabilities(p.capabilities),
    capacityBytes: p.capacityBytes,
    usedBytes: r.usedBytes,
    askPerFuel: p.askPerFuel,
    askPerByteEpoch: p.askPerByteEpoch,
    peer: p.peerId,
    reputationBp: r.reputation,
    joinedHeight: r.joinedHeight,
    failedAudits: r.failedAudits,
    events: info.events.map((e) => ({ height: e.height, cause: nameOf(REPUTATION_CAUSE, e.cause), before: e.before, after: e.after, subject: toHex(e.subject) })),
  }
  print(ctx, view, [
    `host ${view.address} (${view.status})`,
    `coord ${p.coord.x},${p.coord.y},${p.coord.z} zone ${p.zone}, caps ${view.capabilities}${p.peerId ? `, peer ${p.peerId}` : ''}`,
    `storage ${r.usedBytes}/${p.capacityBytes} bytes used`,
    `asks ${p.askPerFuel}/fuel, ${p.askPerByteEpoch}/byte-epoch`,
    `reputation ${(r.reputation / 100).toFixed(2)}% (joined at ${r.joinedHeight}, ${r.failedAudits} failed audits)`,
    `${view.events.length} reputation event(s)`,
    ...view.events.map((e) => `  h${e.height} ${e.cause} ${e.before} → ${e.after} (${e.subject})`),
  ].join('\n'))
}

export const hostCommand: Command = {
  name: 'host',
  summary: 'join, inspect or leave the host market (host join|status|leave)',
  usage: USAGE.join('\n       xsc host '),
  async run(ctx) {
    const sub = ctx.argv[0]
    if (sub === 'join') return join(ctx, this)
    if (sub === 'leave') return leave(ctx, this)
    if (sub === 'status') return status(ctx, this)
    throw new CliError('USAGE', `${sub === undefined ? 'missing' : `unknown`} host subcommand${sub ? ` "${sub}"` : ''}: use join, status or leave\nusage: xsc host ${this.usage}`)
  },
}
