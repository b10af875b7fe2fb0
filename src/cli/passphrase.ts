import { readFileSync } from 'node:fs'

import type { KeyPair } from '../crypto/index.ts'
import { KeystoreError } from '../node/errors.ts'
import { isEncryptedKeyFile, PASSPHRASE_ENV, readKeyFile } from '../node/keyFile.ts'
import { CliError } from './errors.ts'

/** Where a passphrase comes from, first match wins: --passphrase-file, $XSC_PASSPHRASE, a prompt on a terminal. */
export interface PassphraseSource {
  file?: string | undefined
  /** Ask on the terminal when neither file nor environment gives one (default: when stdin is a TTY). */
  interactive?: boolean
}

/** Reads the passphrase file: its first line, without the newline (so `echo secret > file` works). */
export function readPassphraseFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new CliError('USAGE', `cannot read --passphrase-file ${path}: ${(cause as Error).message}`, { path }, { cause })
  }
  const line = text.split(/\r?\n/)[0] ?? ''
  if (line.length === 0) throw new CliError('USAGE', `--passphrase-file ${path} is empty`, { path })
  return line
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    process.stderr.write(question)
    let value = ''
    const wasRaw = stdin.isRaw
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding('utf8')
    const done = (result: string | Error): void => {
      stdin.off('data', onData)
      stdin.setRawMode(wasRaw)
      stdin.pause()
      process.stderr.write('\n')
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(value)
        if (ch === '\u0003') return done(new CliError('FAILED', 'interrupted'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

/** The passphrase from `source`, or undefined when none is available (no file, no env, no terminal). */
export async function resolvePassphrase(source: PassphraseSource, question: string, opts: { confirm?: boolean } = {}): Promise<string | undefined> {
  if (source.file !== undefined) return readPassphraseFile(source.file)
  const env = process.env[PASSPHRASE_ENV]
  if (env !== undefined && env.length > 0) return env
  if (!(source.interactive ?? process.stdin.isTTY === true)) return undefined
  const first = await promptHidden(question)
  if (opts.confirm === true && (await promptHidden('repeat it: ')) !== first) throw new CliError('USAGE', 'the passphrases do not match')
  return first
}

/** Reads a key file of either format, asking for the passphrase only when the file is encrypted. */
export async function loadKeyFile(path: string, source: PassphraseSource): Promise<KeyPair> {
  if (!isEncryptedKeyFile(path)) return readKeyFile(path)
  const passphrase = await resolvePassphrase(source, `passphrase for ${path}: `)
  if (passphrase === undefined) throw new KeystoreError('PASSPHRASE_REQUIRED', `${path} is encrypted and no passphrase was given (--passphrase-file FILE or $${PASSPHRASE_ENV}; no terminal to ask on)`, { path, advice: `pass --passphrase-file FILE or set ${PASSPHRASE_ENV}` })
  return readKeyFile(path, { passphrase })
}
