import { BlockEntry } from '../../../blocks/schema.ts'
import { getBlock } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { jsonWireOf } from '../../rpc/jsonWireOf.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { parseHash, withClient } from './parseOptions.ts'

/** One line per entry for people. */
function describeEntry(e: BlockEntry): string {
  switch (e.type) {
    case 'tx':
      return `tx ${e.tx.body.payload.type} from ${toHex(e.tx.body.from)} nonce ${e.tx.body.nonce}`
    case 'deployment':
      return `deployment by ${toHex(e.tx.body.from)} on ${e.placement.length} hosts`
    case 'execution':
      return `execution ${e.tx.body.payload.type === 'execute' ? e.tx.body.payload.fn : ''} on ${e.assignment.length} hosts, escrow ${e.escrow}`
    case 'completion':
      return `completion of ${toHex(e.executionId)}: status ${e.status}, outcome ${e.outcome}, fuel ${e.fuelUsed}`
    case 'audit':
      return `audit epoch ${e.epoch}: ${e.results.length} results, ${e.repairs.length} repairs`
    case 'evidence':
      return e.offence.type === 'equivocation'
        ? `evidence: ${e.offence.evidence.type} by ${toHex(e.offence.evidence.type === 'duplicateVote' ? e.offence.evidence.first.body.validator : e.offence.evidence.first.body.proposer)}`
        : `evidence: contradicting receipt of host ${toHex(e.offence.receipt.body.host)}`
    case 'storageAck':
      return `storage acks: ${e.acks.length}`
    case 'liveness':
      return `heartbeats of liveness epoch ${e.epoch}: ${e.heartbeats.length}`
    case 'genesis':
      return 'genesis'
  }
}

export const blockCommand: Command = {
  name: 'block',
  summary: 'show a block by height or hash',
  usage: '<height | 0xHASH> [--full] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { full: { type: 'boolean', default: false }, rpc: { type: 'string', default: DEFAULT_RPC } })
    const ref = positionals[0]
    if (ref === undefined || positionals.length !== 1) throw new CliError('USAGE', `give one block height or hash\nusage: xsc block ${this.usage}`)
    let by: { height: number } | { hash: Uint8Array }
    if (/^[0-9]+$/.test(ref)) {
      const height = Number(ref)
      if (height > 0xffff_ffff) throw new CliError('USAGE', `height must fit u32, got ${ref}`)
      by = { height }
    } else if (ref.startsWith('0x')) by = { hash: parseHash(ref, 'the block hash') }
    else throw new CliError('USAGE', `"${ref}" is neither a height nor a 0x block hash`)
    const block = await withClient(values.rpc, (client) => getBlock(client, { ...by, includeEntries: values.full }))
    if (block === null) throw new CommandError('NOT_FOUND', `no block ${ref} on this node`, 'the chain may not be that long yet (xsc status shows the head), or the hash is from another chain')
    const h = block.header
    const view = {
      hash: toHex(block.hash),
      height: h.height,
      kind: h.kind,
      slot: h.slot,
      timestamp: h.timestamp,
      prevHash: toHex(h.prevHash),
      proposer: toHex(h.proposer),
      stateRoot: toHex(h.stateRoot),
      bodyRoot: toHex(h.bodyRoot),
      entryIds: block.entryIds.map(toHex),
      // Full entries in the RPC's JSON form (docs/rpc.md BlockEntry: amounts as decimal strings, bytes as hex).
      entries: block.entries === undefined ? null : block.entries.map((e) => jsonWireOf(BlockEntry).toJson(e)),
    }
    const lines = [
      `block ${view.height} ${view.hash}`,
      `kind ${view.kind}, slot ${view.slot}, time ${new Date(Number(h.timestamp)).toISOString()}`,
      `parent ${view.prevHash}`,
      `proposer ${view.proposer}`,
      `state root ${view.stateRoot}`,
      `${block.entryIds.length} entries`,
      ...(block.entries ? block.entries.map((e, i) => `  ${i} ${view.entryIds[i]} ${describeEntry(e)}`) : view.entryIds.map((id, i) => `  ${i} ${id}`)),
    ]
    print(ctx, view, lines.join('\n'))
  },
}
