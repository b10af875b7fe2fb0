import { readFileSync, writeFileSync } from 'node:fs'
import { XscError } from '../../blocks/errors.ts'
import { fromHex, keyPairFromSecret, toHex, type KeyPair } from '../crypto/index.ts'

export class KeyFileError extends XscError<'BAD_KEY_FILE'> {}

/** A key file: `{"publicKey": "0x…", "secretKey": "0x…"}`, written with mode 0600. */
export function writeKeyFile(path: string, key: KeyPair): void {
  writeFileSync(path, JSON.stringify({ publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) }, null, 2) + '\n', { mode: 0o600 })
}

export function readKeyFile(path: string): KeyPair {
  let json: { secretKey?: unknown; publicKey?: unknown }
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new KeyFileError('BAD_KEY_FILE', `cannot read key file ${path}: ${(cause as Error).message}`, { path }, { cause })
  }
  let key: KeyPair
  try {
    key = keyPairFromSecret(fromHex(String(json.secretKey), 32))
  } catch (cause) {
    throw new KeyFileError('BAD_KEY_FILE', `${path}: secretKey must be 32 bytes of 0x-hex`, { path }, { cause })
  }
  if (json.publicKey !== undefined && json.publicKey !== toHex(key.publicKey)) {
    throw new KeyFileError('BAD_KEY_FILE', `${path}: publicKey does not match secretKey`, { path })
  }
  return key
}
