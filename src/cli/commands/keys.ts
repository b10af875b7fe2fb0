import { generateKeyPair, toHex } from '../../crypto/index.ts'
import { writeKeyFile } from '../../node/keyFile.ts'
import { CliError, parseCommandArgs, print, type Command } from '../args.ts'

export const keysCommand: Command = {
  name: 'keys',
  summary: 'manage ed25519 keys (keys new --out FILE)',
  usage: 'new [--out key.json]',
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, { out: { type: 'string' } })
    if (positionals[0] !== 'new') throw new CliError('USAGE', `unknown keys subcommand "${positionals[0] ?? ''}"\nusage: xsc keys ${this.usage}`)
    const key = generateKeyPair()
    if (values.out) writeKeyFile(values.out, key)
    print(ctx, { address: toHex(key.publicKey), file: values.out ?? null }, values.out ? `address ${toHex(key.publicKey)}\nkey written to ${values.out} (mode 0600)` : `address ${toHex(key.publicKey)}\nsecret  ${toHex(key.secretKey)}`)
  },
}
