import { COMPLETION_STATUS, OUTCOME } from '../../../blocks/schema.ts'
import { EXECUTION_STATUS, getExecution, getExecutions } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { describeOutput } from './describeOutput.ts'
import { printVerifiedExecution } from './execStatusVerified.ts'
import { nameOf } from './listHosts.ts'
import { parseCount, parseHash, resolveAddress, withClient } from './parseOptions.ts'

/** `xsc exec ls`: executions of an asset (--asset) or by a sender (ADDRESS or --key), newest first. */
export const execListCommand: Command = {
  name: 'exec ls',
  summary: 'list executions of an asset or by a sender',
  usage: '[--asset ID | ADDRESS | --key FILE] [--limit N] [--cursor C] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      asset: { type: 'string' },
      key: { type: 'string' },
      limit: { type: 'string', default: '50' },
      cursor: { type: 'string' },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    const usage = `xsc exec ls ${this.usage}`
    if (values.asset !== undefined && (positionals.length > 0 || values.key !== undefined)) throw new CliError('USAGE', `give --asset or a sender, not both\nusage: ${usage}`)
    const filter = values.asset !== undefined ? { asset: parseHash(values.asset, '--asset') } : { sender: resolveAddress(positionals[0], values.key, usage) }
    const limit = parseCount(values.limit, '--limit', 500, 1)
    const page = await withClient(values.rpc, (client) => getExecutions(client, { ...filter, cursor: values.cursor, limit }))
    const items = page.items.map((e) => ({
      id: toHex(e.id),
      scheduledHeight: e.scheduledHeight,
      status: e.completionStatus !== undefined ? (e.completionStatus === COMPLETION_STATUS.agreed ? 'agreed' : 'failed') : e.record !== undefined ? nameOf(EXECUTION_STATUS, e.record.status) : 'pending',
      completedHeight: e.completedHeight ?? null,
      fn: e.record?.fn ?? null,
      asset: e.record ? toHex(e.record.asset) : null,
      escrow: e.escrow,
    }))
    const again = filter.asset !== undefined ? `--asset ${toHex(filter.asset)}` : toHex(filter.sender)
    print(ctx, { executions: items, nextCursor: page.nextCursor ?? null }, [
      items.length === 0 ? 'no executions' : `${items.length} execution(s), newest first:`,
      ...items.map((e) => `  ${e.id} ${e.status.padEnd(8)} scheduled ${e.scheduledHeight}${e.completedHeight !== null ? `, settled ${e.completedHeight}` : ''}${e.fn !== null ? `  ${e.fn}()` : ''}`),
      ...(page.nextCursor === undefined ? [] : [`more: xsc exec ls ${again} --cursor ${page.nextCursor}`]),
    ].join('\n'))
  },
}

/** `xsc exec status <id>`: where an execution is, and its result once settled. */
export const execStatusCommand: Command = {
  name: 'exec status',
  summary: 'show an execution: pending, or its result',
  usage: '<execution-id> [--verify] [--height N] [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { rpc: { type: 'string', default: DEFAULT_RPC }, verify: { type: 'boolean', default: false }, height: { type: 'string' } })
    if (positionals.length !== 1) throw new CliError('USAGE', `give one execution id\nusage: xsc exec status ${this.usage}`)
    const id = parseHash(positionals[0]!, 'the execution id')
    if (values.verify || values.height !== undefined) return printVerifiedExecution(ctx, values.rpc, id, values.height === undefined ? undefined : parseCount(values.height, '--height', 0xffff_ffff))
    const ex = await withClient(values.rpc, (client) => getExecution(client, { id }))
    if (ex === null) throw new CommandError('NOT_FOUND', `no execution ${positionals[0]} on this chain`, 'a sent execution appears once it is in a block (xsc tx <id> says whether it was included or dropped); settled executions leave the state after the retention window', { execution: positionals[0] })
    const c = ex.completion?.entry
    const view = {
      id: toHex(ex.id),
      asset: toHex(ex.record.asset),
      fn: ex.record.fn,
      status: c ? (c.status === COMPLETION_STATUS.agreed ? 'agreed' : 'failed') : nameOf(EXECUTION_STATUS, ex.record.status),
      scheduled: { height: ex.scheduled.height, hash: toHex(ex.scheduled.hash) },
      deadlineSlot: ex.record.deadlineSlot,
      hosts: ex.record.assignment.map(toHex),
      outcome: c ? nameOf(OUTCOME, c.outcome) : null,
      output: c ? describeOutput(c.output) : null,
      fuelUsed: c?.fuelUsed ?? null,
      escrow: ex.record.escrow,
      refund: c?.refund ?? null,
      completion: ex.completion ? { height: ex.completion.block.height, hash: toHex(ex.completion.block.hash) } : null,
    }
    print(ctx, view, [
      `execution ${view.id}: ${view.status}${view.completion ? ` (block ${view.completion.height})` : ` (scheduled at ${view.scheduled.height}, deadline slot ${view.deadlineSlot})`}`,
      `call      ${view.fn}() on ${view.asset}`,
      `hosts     ${view.hosts.join(', ')}`,
      ...(view.output ? [`outcome   ${view.outcome}`, `output    ${view.output.hex}${view.output.utf8 !== null ? `  "${view.output.utf8}"` : ''}`, `fuel      ${view.fuelUsed}`, `cost      ${view.escrow - (view.refund ?? 0n)} (escrow ${view.escrow} − refund ${view.refund})`] : []),
    ].join('\n'))
  },
}
