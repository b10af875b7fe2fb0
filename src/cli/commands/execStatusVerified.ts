import type { Hash } from '../../../blocks/schema.ts'
import { getVerifiedExecution } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { EXECUTION_STATUS } from '../../state/records.ts'
import { type CommandContext, print } from '../args.ts'
import { nameOf } from './listHosts.ts'
import { withClient } from './parseOptions.ts'

/** `xsc exec status <id> --verify [--height N]`: the execution's state record, proven against a block header's state root. */
export async function printVerifiedExecution(ctx: CommandContext, rpc: string, id: Hash, height: number | undefined): Promise<void> {
  const proven = await withClient(rpc, (client) => getVerifiedExecution(client, height === undefined ? { id } : { id, height }))
  const record = proven.value
  const r = {
    id: toHex(id),
    status: record === undefined ? 'absent' : nameOf(EXECUTION_STATUS, record.status),
    record,
    verified: { height: proven.header.height, blockHash: toHex(proven.blockHash), stateRoot: toHex(proven.header.stateRoot) },
  }
  const lines = [`execution ${r.id}: ${r.status}`]
  if (record !== undefined) lines.push(`call      ${record.fn}() on ${toHex(record.asset)}`, `hosts     ${record.assignment.map((h) => toHex(h)).join(', ')}`, `escrow    ${record.escrow}`)
  lines.push(`proven    at height ${r.verified.height}, block ${r.verified.blockHash}, state root ${r.verified.stateRoot}`)
  print(ctx, r, lines.join('\n'))
}
