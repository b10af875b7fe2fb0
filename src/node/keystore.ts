import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'

import { fromHex, type KeyPair, keyPairFromSecret, toHex } from '../crypto/index.ts'
import { KeystoreError } from './errors.ts'

/**
 * An ed25519 secret key encrypted with a passphrase, in the spirit of Ethereum's keystore v3:
 * the KDF and its parameters are stored in the file, so they can be raised later without breaking
 * old files. scrypt derives 64 bytes from the passphrase: the first 32 are the AES-256-GCM key,
 * the last 32 are hashed into `check`, which tells a wrong passphrase apart from a tampered file.
 * The address is the GCM additional data, so swapping it invalidates the tag.
 */
export interface Keystore {
  version: 1
  kind: 'xsc-keystore'
  address: string
  crypto: {
    cipher: 'aes-256-gcm'
    ciphertext: string
    iv: string
    tag: string
    kdf: 'scrypt'
    kdfparams: ScryptParams
    check: string
  }
}

export interface ScryptParams { n: number; r: number; p: number; salt: string }

/** Default cost for new files: 128 MiB and a few hundred ms. */
export const DEFAULT_SCRYPT = { n: 1 << 17, r: 8, p: 1 } as const

/**
 * What a file may ask of us. A keystore comes from disk (maybe from someone else): without these
 * bounds a file saying n = 2^30 would make us allocate 128 GiB or spin for hours.
 */
export const SCRYPT_BOUNDS = { minN: 1 << 10, maxN: 1 << 18, maxR: 16, maxP: 16, maxMemBytes: 256 * 1024 * 1024, maxWork: (1 << 18) * 8 * 4 } as const

const DERIVED_BYTES = 64

function scryptMemBytes(p: { n: number; r: number; p: number }): number {
  return 128 * p.n * p.r + 128 * p.r * p.p + 1024 * 1024
}

/** Throws KDF_PARAMS_OUT_OF_BOUNDS unless n is a power of two in range and memory and work are bounded. */
export function verifyScryptParams(p: { n: unknown; r: unknown; p: unknown }): asserts p is { n: number; r: number; p: number } {
  const ok = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max
  const bad = (why: string): never => {
    throw new KeystoreError('KDF_PARAMS_OUT_OF_BOUNDS', `keystore scrypt parameters refused: ${why}`, { n: p.n, r: p.r, p: p.p, bounds: SCRYPT_BOUNDS })
  }
  if (!ok(p.n, SCRYPT_BOUNDS.maxN) || p.n < SCRYPT_BOUNDS.minN || (p.n & (p.n - 1)) !== 0) bad(`n must be a power of two in ${SCRYPT_BOUNDS.minN}..${SCRYPT_BOUNDS.maxN}`)
  if (!ok(p.r, SCRYPT_BOUNDS.maxR)) bad(`r must be 1..${SCRYPT_BOUNDS.maxR}`)
  if (!ok(p.p, SCRYPT_BOUNDS.maxP)) bad(`p must be 1..${SCRYPT_BOUNDS.maxP}`)
  const q = p as { n: number; r: number; p: number }
  if (scryptMemBytes(q) > SCRYPT_BOUNDS.maxMemBytes) bad(`needs more than ${SCRYPT_BOUNDS.maxMemBytes} bytes`)
  if (q.n * q.r * q.p > SCRYPT_BOUNDS.maxWork) bad('n*r*p exceeds the work bound')
}

function derive(passphrase: string, salt: Uint8Array, p: { n: number; r: number; p: number }): Buffer {
  verifyScryptParams(p)
  return scryptSync(passphrase.normalize('NFKC'), salt, DERIVED_BYTES, { N: p.n, r: p.r, p: p.p, maxmem: scryptMemBytes(p) })
}

const checkOf = (derived: Buffer): Buffer => createHash('sha256').update(derived.subarray(32, 64)).digest()

export function encryptKeystore(key: KeyPair, passphrase: string, params: { n: number; r: number; p: number } = DEFAULT_SCRYPT): Keystore {
  if (passphrase.length === 0) throw new KeystoreError('PASSPHRASE_REQUIRED', 'an empty passphrase does not protect anything')
  const salt = randomBytes(32)
  const iv = randomBytes(12)
  const derived = derive(passphrase, salt, params)
  const address = toHex(key.publicKey)
  const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), iv)
  cipher.setAAD(Buffer.from(address, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(key.secretKey), cipher.final()])
  return {
    version: 1,
    kind: 'xsc-keystore',
    address,
    crypto: {
      cipher: 'aes-256-gcm',
      ciphertext: toHex(ciphertext),
      iv: toHex(iv),
      tag: toHex(cipher.getAuthTag()),
      kdf: 'scrypt',
      kdfparams: { n: params.n, r: params.r, p: params.p, salt: toHex(salt) },
      check: toHex(checkOf(derived)),
    },
  }
}

/** Whether parsed JSON claims to be a keystore (as opposed to the plaintext devnet format). */
export function isKeystoreJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && 'crypto' in json
}

function hexField(value: unknown, name: string, length?: number): Uint8Array {
  try {
    return fromHex(String(value), length)
  } catch (cause) {
    throw new KeystoreError('MALFORMED', `keystore field ${name} must be 0x-hex${length ? ` of ${length} bytes` : ''}`, { field: name }, { cause })
  }
}

/** Checks the structure of untrusted JSON; returns it typed. Never runs the KDF. */
export function parseKeystore(json: unknown): Keystore {
  if (!isKeystoreJson(json)) throw new KeystoreError('MALFORMED', 'not a keystore: no crypto section')
  const ks = json as { version?: unknown; address?: unknown; crypto: Record<string, unknown> }
  if (ks.version !== 1) throw new KeystoreError('UNSUPPORTED', `keystore version ${String(ks.version)} is not supported (this node reads version 1)`, { version: ks.version })
  const c = ks.crypto
  if (typeof c !== 'object' || c === null) throw new KeystoreError('MALFORMED', 'keystore crypto must be an object')
  if (c.cipher !== 'aes-256-gcm') throw new KeystoreError('UNSUPPORTED', `keystore cipher ${String(c.cipher)} is not supported`, { cipher: c.cipher })
  if (c.kdf !== 'scrypt') throw new KeystoreError('UNSUPPORTED', `keystore kdf ${String(c.kdf)} is not supported`, { kdf: c.kdf })
  const kp = c.kdfparams as Record<string, unknown> | undefined
  if (typeof kp !== 'object' || kp === null) throw new KeystoreError('MALFORMED', 'keystore kdfparams must be an object')
  verifyScryptParams({ n: kp.n, r: kp.r, p: kp.p })
  const salt = hexField(kp.salt, 'kdfparams.salt')
  if (salt.length < 16 || salt.length > 64) throw new KeystoreError('MALFORMED', 'keystore salt must be 16..64 bytes')
  hexField(ks.address, 'address', 32)
  hexField(c.ciphertext, 'ciphertext', 32)
  hexField(c.iv, 'iv', 12)
  hexField(c.tag, 'tag', 16)
  hexField(c.check, 'check', 32)
  return json as Keystore
}

/** Decrypts untrusted keystore JSON: WRONG_PASSPHRASE, TAMPERED, or the key. */
export function decryptKeystore(json: unknown, passphrase: string): KeyPair {
  const ks = parseKeystore(json)
  const { kdfparams, ciphertext, iv, tag, check } = ks.crypto
  const derived = derive(passphrase, fromHex(kdfparams.salt), kdfparams)
  if (!timingSafeEqual(checkOf(derived), fromHex(check, 32))) throw new KeystoreError('WRONG_PASSPHRASE', `wrong passphrase for key ${ks.address}`, { address: ks.address })
  let secret: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), fromHex(iv, 12))
    decipher.setAAD(Buffer.from(ks.address, 'utf8'))
    decipher.setAuthTag(fromHex(tag, 16))
    secret = Buffer.concat([decipher.update(fromHex(ciphertext, 32)), decipher.final()])
  } catch (cause) {
    throw new KeystoreError('TAMPERED', `keystore for ${ks.address} fails its authentication tag: the file was modified`, { address: ks.address }, { cause })
  }
  const key = keyPairFromSecret(new Uint8Array(secret))
  if (toHex(key.publicKey) !== ks.address) throw new KeystoreError('TAMPERED', `keystore secret does not match its address ${ks.address}`, { address: ks.address })
  return key
}
