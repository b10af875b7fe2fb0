import { readFileSync, writeFileSync } from 'node:fs'

import type { Address } from '../../blocks/schema.ts'
import { fromHex, type KeyPair, keyPairFromSecret, toHex } from '../crypto/index.ts'
import { KeyFileError, KeystoreError, keystoreErrorAt } from './errors.ts'
import { decryptKeystore, encryptKeystore, isKeystoreJson, parseKeystore, type ScryptParams } from './keystore.ts'

/** The environment variable a passphrase may come from (also read by every `--key` flag). */
export const PASSPHRASE_ENV = 'XSC_PASSPHRASE'

export interface WriteKeyFileOpts {
  /** Encrypt with this passphrase (keystore format); without it the plaintext devnet format is written. */
  passphrase?: string
  scrypt?: Omit<ScryptParams, 'salt'>
}

/**
 * A key file, written with mode 0600: encrypted (`{"version": 1, "kind": "xsc-keystore", …}`,
 * see keystore.ts) when a passphrase is given, else the plaintext devnet format
 * `{"publicKey": "0x…", "secretKey": "0x…"}`.
 */
export function writeKeyFile(path: string, key: KeyPair, opts: WriteKeyFileOpts = {}): void {
  const json = opts.passphrase !== undefined ? encryptKeystore(key, opts.passphrase, opts.scrypt) : { publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) }
  writeFileSync(path, JSON.stringify(json, null, 2) + '\n', { mode: 0o600 })
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new KeyFileError('BAD_KEY_FILE', `cannot read key file ${path}: ${(cause as Error).message}`, { path }, { cause })
  }
}

/** Whether the file at `path` is an encrypted keystore (it then needs a passphrase to be read). */
export function isEncryptedKeyFile(path: string): boolean {
  return isKeystoreJson(readJson(path))
}

/** The address of a key file of either format, without decrypting anything. */
export function readKeyFileAddress(path: string): Address {
  const json = readJson(path)
  if (isKeystoreJson(json)) {
    try {
      return fromHex(parseKeystore(json).address, 32)
    } catch (e) {
      if (e instanceof KeystoreError) throw keystoreErrorAt(e, path)
      throw e
    }
  }
  return readPlaintext(path, json).publicKey
}

function readPlaintext(path: string, json: unknown): KeyPair {
  const j = (typeof json === 'object' && json !== null ? json : {}) as { secretKey?: unknown; publicKey?: unknown }
  let key: KeyPair
  try {
    key = keyPairFromSecret(fromHex(String(j.secretKey), 32))
  } catch (cause) {
    throw new KeyFileError('BAD_KEY_FILE', `${path}: secretKey must be 32 bytes of 0x-hex`, { path }, { cause })
  }
  if (j.publicKey !== undefined && j.publicKey !== toHex(key.publicKey)) {
    throw new KeyFileError('BAD_KEY_FILE', `${path}: publicKey does not match secretKey`, { path })
  }
  return key
}

/**
 * Reads a key file of either format. An encrypted one needs `passphrase`, else $XSC_PASSPHRASE;
 * without either it fails with KeystoreError PASSPHRASE_REQUIRED (the CLI prompts first when it can).
 */
export function readKeyFile(path: string, opts: { passphrase?: string } = {}): KeyPair {
  const json = readJson(path)
  if (!isKeystoreJson(json)) return readPlaintext(path, json)
  const passphrase = opts.passphrase ?? process.env[PASSPHRASE_ENV]
  if (passphrase === undefined) {
    throw new KeystoreError('PASSPHRASE_REQUIRED', `${path} is encrypted: give its passphrase (--passphrase-file FILE, $${PASSPHRASE_ENV}, or at the prompt)`, { path, advice: `set ${PASSPHRASE_ENV} or pass --passphrase-file FILE` })
  }
  try {
    return decryptKeystore(json, passphrase)
  } catch (e) {
    if (e instanceof KeystoreError) throw keystoreErrorAt(e, path)
    throw e
  }
}
