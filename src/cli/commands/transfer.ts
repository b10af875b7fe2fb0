import { transfer } from '../../client/index.ts'
import { fromHex, toHex } from '../../crypto/index.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import { type Command, DEFAULT_RPC, parseCommandArgs, print, required } from '../args.ts'
import { CliError } from '../errors.ts'
import { parseAmount, parseFee, withClient } from './parseOptions.ts'

// Amounts: whole base units; negatives and fractions are usage errors (one parser for every command).
export { parseAmount } from './parseOptions.ts'

export const transferCommand: Command = {
  name: 'transfer',
  summary: 'send tokens',
  usage: '--key FILE --to 0xADDRESS --amount N [--fee N] [--rpc URL]',
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.argv, {
      key: { type: 'string' },
      to: { type: 'string' },
      amount: { type: 'string' },
      // Absent: the node's estimate for this tx's size (xsc_feeEstimate); the fee used is printed.
      fee: { type: 'string' },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    const account = readKeyFile(required(values.key, '--key', this))
    const toArg = required(values.to, '--to', this)
    let to: Uint8Array
    try {
      to = fromHex(toArg, 32)
    } catch {
      throw new CliError('USAGE', '--to must be a 32-byte 0x-hex address')
    }
    const amount = parseAmount(required(values.amount, '--amount', this), '--amount')
    const fee = parseFee(values.fee)
    let used: bigint | undefined
    const id = await withClient(values.rpc, (client) => transfer(client, { account, to, amount, fee, onSigned: (tx) => (used = tx.body.fee) }))
    print(ctx, { txId: toHex(id), fee: String(used) }, `sent tx ${toHex(id)} (fee ${used})`)
  },
}
