import { createClient, http, transfer } from '../../client/index.ts'
import { fromHex, toHex } from '../../crypto/index.ts'
import { readKeyFile } from '../../node/keyFile.ts'
import { CliError, DEFAULT_RPC, parseCommandArgs, print, required, type Command } from '../args.ts'

export function parseAmount(value: string, flag: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new CliError('USAGE', `${flag} must be a whole number of base units, got "${value}"`)
  return BigInt(value)
}

export const transferCommand: Command = {
  name: 'transfer',
  summary: 'send tokens',
  usage: '--key FILE --to 0xADDRESS --amount N [--fee N] [--rpc URL]',
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.argv, {
      key: { type: 'string' },
      to: { type: 'string' },
      amount: { type: 'string' },
      fee: { type: 'string', default: '1' },
      rpc: { type: 'string', default: DEFAULT_RPC },
    })
    const account = readKeyFile(required(values.key, '--key', this))
    let to: Uint8Array
    try {
      to = fromHex(required(values.to, '--to', this), 32)
    } catch {
      throw new CliError('USAGE', '--to must be a 32-byte 0x-hex address')
    }
    const client = createClient({ transport: http(values.rpc) })
    try {
      const id = await transfer(client, { account, to, amount: parseAmount(required(values.amount, '--amount', this), '--amount'), fee: parseAmount(values.fee, '--fee') })
      print(ctx, { txId: toHex(id) }, `sent tx ${toHex(id)}`)
    } finally {
      await client.close()
    }
  },
}
