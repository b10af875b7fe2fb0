import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto'

import { ed25519 } from '@noble/curves/ed25519.js'

/**
 * ed25519 for the whole project. Signing and verification go through node:crypto (OpenSSL),
 * ~10x faster than noble here; noble checks points. KeyObjects are cached because importing a
 * raw key costs about as much as a verify.
 *
 * Consensus rule on keys: a public key must be a canonical encoding of a point that is not of
 * small order. It is checked when a key is first registered (tx sender, validator, host) by
 * `isValidPublicKey`, so the verifier never meets the small-order cases on which OpenSSL and
 * strict noble disagree.
 */
export const PUBLIC_KEY_BYTES = 32
export const SECRET_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

const MAX_CACHE = 65_536
const publicKeyCache = new Map<string, KeyObject>()
const secretKeyCache = new Map<string, KeyObject>()

function cached(cache: Map<string, KeyObject>, raw: Uint8Array, make: () => KeyObject): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')
  let key = cache.get(id)
  if (key === undefined) {
    key = make()
    if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string)
    cache.set(id, key)
  }
  return key
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  return cached(publicKeyCache, pub, () =>
    createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' }))
}

function secretKeyObject(secret: Uint8Array): KeyObject {
  return cached(secretKeyCache, secret, () =>
    createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' }))
}

export interface KeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** Public keys derived from secret keys (a validator derives its own at every block it seals). */
const publicOfSecret = new Map<string, Uint8Array>()

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== SECRET_KEY_BYTES) throw new RangeError('ed25519 secret key must be 32 bytes')
  const id = Buffer.from(secretKey.buffer, secretKey.byteOffset, secretKey.byteLength).toString('latin1')
  let publicKey = publicOfSecret.get(id)
  if (publicKey === undefined) {
    const der = createPublicKey(secretKeyObject(secretKey)).export({ format: 'der', type: 'spki' })
    publicKey = new Uint8Array(der.subarray(SPKI_PREFIX.length))
    if (publicOfSecret.size >= MAX_CACHE) publicOfSecret.delete(publicOfSecret.keys().next().value as string)
    publicOfSecret.set(id, publicKey)
  }
  return { secretKey: new Uint8Array(secretKey), publicKey: new Uint8Array(publicKey) }
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(new Uint8Array(randomBytes(32)))
}

export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, message, secretKeyObject(secretKey)))
}

/** The one signature verifier. Never throws on malformed input: returns false. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

const validKeys = new Set<string>()

/**
 * Canonical point encoding, on the curve, not of small order. Memoized for valid keys: the
 * point decompression costs about as much as a signature check, and the same senders recur.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString('latin1')
  if (validKeys.has(id)) return true
  let ok: boolean
  try {
    ok = !ed25519.Point.fromBytes(publicKey, false).isSmallOrder()
  } catch {
    ok = false
  }
  if (ok) {
    if (validKeys.size >= MAX_CACHE) validKeys.clear()
    validKeys.add(id)
  }
  return ok
}

/** noble's verifier, used only to test interop with the native one. */
export function verifyNoble(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}
