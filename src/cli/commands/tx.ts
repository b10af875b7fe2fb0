import { getTransactionStatus } from '../../client/index.ts'
import { toHex } from '../../crypto/index.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print } from '../args.ts'
import { CliError, CommandError } from '../errors.ts'
import { parseHash, withClient } from './parseOptions.ts'

/** `xsc tx <id>`: whether a tx was included (block, index, payload) or dropped (the node's reason). */
export const txCommand: Command = {
  name: 'tx',
  summary: 'show a transaction: included (block) or dropped (reason)',
  usage: '<tx-id> [--rpc URL]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { rpc: { type: 'string', default: DEFAULT_RPC } })
    if (positionals.length !== 1) throw new CliError('USAGE', `give one tx id\nusage: xsc tx ${this.usage}`)
    const id = parseHash(positionals[0]!, 'the tx id')
    const found = await withClient(values.rpc, (client) => getTransactionStatus(client, { id }))
    if (found === null) throw new CommandError('NOT_FOUND', `tx ${positionals[0]} is not in a block (it may still be pending, or this node never saw it)`, 'wait a few seconds and ask again; check the id printed when it was sent', { tx: positionals[0] })
    if (found.status === 'dropped') {
      print(ctx, { id: toHex(id), status: 'dropped', code: found.code, message: found.message, height: found.height }, `tx ${toHex(id)}: dropped at height ${found.height}: ${found.code}: ${found.message}`)
      return
    }
    const body = found.tx.body
    const view = { id: toHex(id), status: 'included', block: { height: found.blockHeight, hash: toHex(found.blockHash) }, index: found.index, type: body.payload.type, from: toHex(body.from), nonce: body.nonce, fee: body.fee }
    print(ctx, view, `tx ${view.id}: ${view.type} from ${view.from} (nonce ${view.nonce}, fee ${view.fee}), included in block ${view.block.height} at index ${view.index}`)
  },
}
