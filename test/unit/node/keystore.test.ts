import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { toHex } from '../../../src/crypto/index.ts'
import { KeystoreError } from '../../../src/node/errors.ts'
import { isEncryptedKeyFile, readKeyFile, readKeyFileAddress, writeKeyFile } from '../../../src/node/keyFile.ts'
import { decryptKeystore, encryptKeystore, type Keystore } from '../../../src/node/keystore.ts'
import { tempDir, testKey } from '../../support/chainFixtures.ts'
import { errorCodeOf } from '../../support/errorCode.ts'

const FAST = { n: 1 << 10, r: 8, p: 1 }
const key = testKey('keystore')
const tmp = tempDir('xsc-keystore-')
afterAll(() => tmp.cleanup())

describe('keystore: an ed25519 key encrypted with scrypt + AES-256-GCM', () => {
  it('round-trips a key through its passphrase; the file holds no secret in clear', () => {
    const ks = encryptKeystore(key, 'correct horse', FAST)
    expect(ks).toMatchObject({ version: 1, kind: 'xsc-keystore', address: toHex(key.publicKey), crypto: { cipher: 'aes-256-gcm', kdf: 'scrypt', kdfparams: { n: FAST.n, r: 8, p: 1 } } })
    expect(JSON.stringify(ks)).not.toContain(toHex(key.secretKey).slice(2))
    const back = decryptKeystore(JSON.parse(JSON.stringify(ks)), 'correct horse')
    expect(toHex(back.secretKey)).toBe(toHex(key.secretKey))
  })

  it('two encryptions of one key differ (fresh salt and iv)', () => {
    const a = encryptKeystore(key, 'pw', FAST)
    const b = encryptKeystore(key, 'pw', FAST)
    expect(a.crypto.ciphertext).not.toBe(b.crypto.ciphertext)
    expect(a.crypto.kdfparams.salt).not.toBe(b.crypto.kdfparams.salt)
  })

  it('a wrong passphrase is WRONG_PASSPHRASE', () => {
    const ks = encryptKeystore(key, 'right', FAST)
    expect(errorCodeOf(KeystoreError, () => decryptKeystore(ks, 'wrong'))).toBe('WRONG_PASSPHRASE')
  })

  it.each([
    ['ciphertext', (ks: Keystore) => ({ ...ks, crypto: { ...ks.crypto, ciphertext: flip(ks.crypto.ciphertext) } })],
    ['tag', (ks: Keystore) => ({ ...ks, crypto: { ...ks.crypto, tag: flip(ks.crypto.tag) } })],
    ['iv', (ks: Keystore) => ({ ...ks, crypto: { ...ks.crypto, iv: flip(ks.crypto.iv) } })],
    ['address', (ks: Keystore) => ({ ...ks, address: toHex(testKey('other').publicKey) })],
  ])('a file whose %s was changed is TAMPERED (not a wrong passphrase)', (_field, tamper) => {
    const ks = encryptKeystore(key, 'pw', FAST)
    expect(errorCodeOf(KeystoreError, () => decryptKeystore(tamper(ks), 'pw'))).toBe('TAMPERED')
  })

  it('refuses unknown versions, ciphers and kdfs as UNSUPPORTED and broken structure as MALFORMED', () => {
    const ks = encryptKeystore(key, 'pw', FAST)
    expect(errorCodeOf(KeystoreError, () => decryptKeystore({ ...ks, version: 3 }, 'pw'))).toBe('UNSUPPORTED')
    expect(errorCodeOf(KeystoreError, () => decryptKeystore({ ...ks, crypto: { ...ks.crypto, kdf: 'pbkdf2' } }, 'pw'))).toBe('UNSUPPORTED')
    expect(errorCodeOf(KeystoreError, () => decryptKeystore({ ...ks, crypto: { ...ks.crypto, cipher: 'aes-128-ctr' } }, 'pw'))).toBe('UNSUPPORTED')
    expect(errorCodeOf(KeystoreError, () => decryptKeystore({ ...ks, crypto: { ...ks.crypto, iv: 'zz' } }, 'pw'))).toBe('MALFORMED')
    expect(errorCodeOf(KeystoreError, () => decryptKeystore({ ...ks, crypto: null }, 'pw'))).toBe('MALFORMED')
  })

  // Attack: a key file is input. One that asks scrypt for 2^30 blocks (128 GiB) or absurd r/p
  // would make the node allocate gigabytes or spin for hours before any check could fail.
  it.each([
    ['n = 2^30', { n: 2 ** 30, r: 8, p: 1 }],
    ['n = 2^20 (1 GiB at r = 8)', { n: 2 ** 20, r: 8, p: 1 }],
    ['r = 1024', { n: 1 << 14, r: 1024, p: 1 }],
    ['p = 2^20', { n: 1 << 10, r: 8, p: 2 ** 20 }],
    ['n not a power of two', { n: 1000, r: 8, p: 1 }],
    ['n as a string', { n: '262144', r: 8, p: 1 }],
  ])('attack: a file with scrypt %s is refused before the KDF runs (KDF_PARAMS_OUT_OF_BOUNDS)', (_what, params) => {
    const ks = encryptKeystore(key, 'pw', FAST)
    const evil = { ...ks, crypto: { ...ks.crypto, kdfparams: { ...ks.crypto.kdfparams, ...params } } }
    const before = process.memoryUsage().rss
    const t0 = performance.now()
    expect(errorCodeOf(KeystoreError, () => decryptKeystore(evil, 'pw'))).toBe('KDF_PARAMS_OUT_OF_BOUNDS')
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024)
  })
})

describe('key files: encrypted and plaintext side by side', () => {
  it('writes an encrypted file that reads back with its passphrase and shows its address without one', () => {
    const file = join(tmp.dir, 'enc.json')
    writeKeyFile(file, key, { passphrase: 'pw', scrypt: FAST })
    expect(isEncryptedKeyFile(file)).toBe(true)
    expect(toHex(readKeyFileAddress(file))).toBe(toHex(key.publicKey))
    expect(toHex(readKeyFile(file, { passphrase: 'pw' }).secretKey)).toBe(toHex(key.secretKey))
    expect(errorCodeOf(KeystoreError, () => readKeyFile(file, { passphrase: 'nope' }))).toBe('WRONG_PASSPHRASE')
  })

  it('an encrypted file without any passphrase is PASSPHRASE_REQUIRED; $XSC_PASSPHRASE is one', () => {
    const file = join(tmp.dir, 'env.json')
    writeKeyFile(file, key, { passphrase: 'from-env', scrypt: FAST })
    const saved = process.env.XSC_PASSPHRASE
    try {
      delete process.env.XSC_PASSPHRASE
      expect(errorCodeOf(KeystoreError, () => readKeyFile(file))).toBe('PASSPHRASE_REQUIRED')
      process.env.XSC_PASSPHRASE = 'from-env'
      expect(toHex(readKeyFile(file).publicKey)).toBe(toHex(key.publicKey))
    } finally {
      if (saved === undefined) delete process.env.XSC_PASSPHRASE
      else process.env.XSC_PASSPHRASE = saved
    }
  })

  it('the plaintext devnet format stays readable', () => {
    const file = join(tmp.dir, 'plain.json')
    writeFileSync(file, JSON.stringify({ publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) }))
    expect(isEncryptedKeyFile(file)).toBe(false)
    expect(toHex(readKeyFile(file).secretKey)).toBe(toHex(key.secretKey))
    expect(readFileSync(file, 'utf8')).toContain('secretKey')
  })
})

function flip(hex: string): string {
  const last = hex.at(-1) === '0' ? '1' : '0'
  return hex.slice(0, -1) + last
}
