import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { fromHex, generateKeyPair, type KeyPair, keyPairFromSecret, toHex } from '../../crypto/index.ts'
import { isEncryptedKeyFile, readKeyFileAddress, writeKeyFile } from '../../node/keyFile.ts'
import { type Command, type CommandContext, parseCommandArgs, print, required } from '../args.ts'
import { CliError } from '../errors.ts'
import { loadKeyFile, type PassphraseSource, readPassphraseFile, resolvePassphrase } from '../passphrase.ts'

const USAGE = [
  'new [--out key.json] [--plaintext] [--passphrase-file FILE]     a new key, encrypted unless --plaintext',
  '       list [DIR]                                                    key files in DIR (default .) with their addresses',
  '       import (SOURCE.json | --secret-file FILE) --out key.json [--plaintext] [--passphrase-file FILE] [--new-passphrase-file FILE]',
  '       export FILE [--out plain.json] [--passphrase-file FILE]       decrypt to the plaintext format (or print the secret)',
  '  passphrase: --passphrase-file, else $XSC_PASSPHRASE, else a prompt on a terminal',
].join('\n')

/** Writes `key` to `out`, encrypted with a passphrase from `source` unless `plaintext`. */
async function writeKey(out: string, key: KeyPair, plaintext: boolean, source: PassphraseSource): Promise<boolean> {
  if (existsSync(out)) throw new CliError('USAGE', `${out} exists; refusing to overwrite a key file`, { path: out })
  if (plaintext) {
    writeKeyFile(out, key)
    return false
  }
  const passphrase = await resolvePassphrase(source, `passphrase for ${out}: `, { confirm: true })
  if (passphrase === undefined) throw new CliError('USAGE', `no passphrase to encrypt ${out}: pass --passphrase-file FILE, set XSC_PASSPHRASE, run on a terminal, or write a devnet key with --plaintext`)
  writeKeyFile(out, key, { passphrase })
  return true
}

function listKeys(ctx: CommandContext, dir: string): void {
  const rows: { file: string; address: string; encrypted: boolean }[] = []
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name)
    if (!name.endsWith('.json') || !statSync(file).isFile()) continue
    try {
      rows.push({ file, address: toHex(readKeyFileAddress(file)), encrypted: isEncryptedKeyFile(file) })
    } catch {
      // not a key file (genesis.json, ...)
    }
  }
  print(ctx, rows, rows.length === 0 ? `no key files in ${dir}` : rows.map((r) => `${r.address}  ${r.encrypted ? 'encrypted' : 'PLAINTEXT'}  ${r.file}`).join('\n'))
}

export const keysCommand: Command = {
  name: 'keys',
  summary: 'manage ed25519 keys: new, list, import, export (encrypted with a passphrase)',
  usage: USAGE,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(this, ctx.argv, {
      out: { type: 'string' },
      plaintext: { type: 'boolean', default: false },
      'passphrase-file': { type: 'string' },
      'new-passphrase-file': { type: 'string' },
      'secret-file': { type: 'string' },
    })
    const [sub, arg] = positionals
    const source: PassphraseSource = { file: values['passphrase-file'] }
    switch (sub) {
      case 'new': {
        const key = generateKeyPair()
        if (values.out === undefined) {
          print(ctx, { address: toHex(key.publicKey), secretKey: toHex(key.secretKey), file: null }, `address ${toHex(key.publicKey)}\nsecret  ${toHex(key.secretKey)}`)
          return
        }
        const encrypted = await writeKey(values.out, key, values.plaintext, source)
        print(ctx, { address: toHex(key.publicKey), file: values.out, encrypted }, `address ${toHex(key.publicKey)}\nkey written to ${values.out} (${encrypted ? 'encrypted' : 'PLAINTEXT'}, mode 0600)`)
        return
      }
      case 'list':
        listKeys(ctx, arg ?? '.')
        return
      case 'import': {
        const out = required(values.out, '--out', this)
        if ((arg === undefined) === (values['secret-file'] === undefined)) throw new CliError('USAGE', `import takes a key file or --secret-file, exactly one\nusage: xsc keys ${this.usage}`)
        let key: KeyPair
        if (values['secret-file'] !== undefined) {
          const text = readPassphraseFile(values['secret-file']).trim()
          try {
            key = keyPairFromSecret(fromHex(text, 32))
          } catch (cause) {
            throw new CliError('USAGE', `--secret-file must hold a 32-byte 0x-hex secret key`, {}, { cause })
          }
        } else key = await loadKeyFile(arg!, source)
        // The old file's passphrase and the new one may differ.
        const newSource: PassphraseSource = values['new-passphrase-file'] !== undefined ? { file: values['new-passphrase-file'] } : source
        const encrypted = await writeKey(out, key, values.plaintext, newSource)
        print(ctx, { address: toHex(key.publicKey), file: out, encrypted }, `imported ${toHex(key.publicKey)} into ${out} (${encrypted ? 'encrypted' : 'PLAINTEXT'})`)
        return
      }
      case 'export': {
        const file = required(arg, 'FILE', this)
        const key = await loadKeyFile(file, source)
        if (values.out !== undefined) {
          await writeKey(values.out, key, true, source)
          print(ctx, { address: toHex(key.publicKey), file: values.out, encrypted: false }, `wrote ${toHex(key.publicKey)} in PLAINTEXT to ${values.out}`)
        } else print(ctx, { address: toHex(key.publicKey), secretKey: toHex(key.secretKey) }, `address ${toHex(key.publicKey)}\nsecret  ${toHex(key.secretKey)}`)
        return
      }
      default:
        throw new CliError('USAGE', `unknown keys subcommand "${sub ?? ''}"\nusage: xsc keys ${this.usage}`)
    }
  },
}
